//! Where honban keeps its files (XDG on Linux, the platform's conventions
//! elsewhere).

use std::path::PathBuf;

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
