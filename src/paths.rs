//! Where honban keeps its files (XDG on Linux, the platform's conventions
//! elsewhere), and how they are created: on a shared bastion the state
//! (audit log, logs) is the operator's alone — directories 0700, files
//! 0600, never opened through a symbolic link someone else planted.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use directories::ProjectDirs;

/// The directories honban reads and writes.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `config.toml` and `themes/` live here.
    pub config_dir: PathBuf,
    /// Logs and the audit log live here.
    pub state_dir: PathBuf,
}

impl Paths {
    pub fn discover() -> Self {
        match ProjectDirs::from("", "", "honban") {
            Some(dirs) => Self {
                config_dir: dirs.config_dir().to_path_buf(),
                state_dir: dirs
                    .state_dir()
                    .unwrap_or_else(|| dirs.data_local_dir())
                    .to_path_buf(),
            },
            // No home directory: fall back to the working directory.
            None => Self {
                config_dir: PathBuf::from(".honban"),
                state_dir: PathBuf::from(".honban/state"),
            },
        }
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    pub fn themes_dir(&self) -> PathBuf {
        self.config_dir.join("themes")
    }

    /// The append-only audit log of operations.
    pub fn audit_file(&self) -> PathBuf {
        self.state_dir.join("audit.jsonl")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.state_dir.join("logs")
    }
}

/// Creates `dir` (and missing parents) readable by its owner only, and
/// takes away group and other access from an existing one.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() {
        return Err(io::Error::other(format!(
            "{} is not a directory (a symbolic link?)",
            dir.display()
        )));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Opens `path` for appending, creating it 0600. A symbolic link at `path`
/// is refused (`O_NOFOLLOW`), as is anything but a regular file; an existing
/// file readable by others is made private.
pub fn open_private_append(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                io::Error::other(format!(
                    "{} is a symbolic link: refusing to write through it",
                    path.display()
                ))
            } else {
                e
            }
        })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn state_files_are_private_and_never_followed_through_a_link() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("state/honban");
        create_private_dir(&dir).expect("create");
        assert_eq!(mode(&dir), 0o700);
        // An existing directory open to others is closed.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        create_private_dir(&dir).expect("again");
        assert_eq!(mode(&dir), 0o700);

        let file = dir.join("audit.jsonl");
        open_private_append(&file)
            .and_then(|mut f| f.write_all(b"x\n"))
            .expect("append");
        assert_eq!(mode(&file), 0o600);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        open_private_append(&file).expect("reopen");
        assert_eq!(mode(&file), 0o600);

        // A link planted where the file goes is refused, and its target
        // left alone.
        let target = tmp.path().join("elsewhere");
        std::fs::write(&target, "theirs").expect("target");
        let link = dir.join("planted.jsonl");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        let err = open_private_append(&link).expect_err("a link");
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "theirs");
    }
}
