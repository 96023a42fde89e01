//! Images in Amazon ECR: an image reference in a private registry and what
//! `ecr:DescribeImages` says of it.

use super::Timestamp;

/// An image in an Amazon ECR private registry, from its reference
/// `<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>` (or
/// `@sha256:…`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EcrImage {
    /// The registry id: the account that owns the registry.
    pub account: String,
    pub region: String,
    /// The repository name (may contain `/`).
    pub repository: String,
    /// The tag, or the digest (`sha256:…`) when the reference has one.
    pub reference: ImageId,
}

/// How an image is named within its repository.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ImageId {
    Tag(String),
    Digest(String),
}

impl EcrImage {
    /// The ECR image a reference names, or `None` for any other registry
    /// (Docker Hub, ECR Public, a private registry): those cannot be
    /// checked with ECR's API.
    pub fn parse(image: &str) -> Option<Self> {
        let (host, rest) = image.split_once('/')?;
        let mut parts = host.split('.');
        let account = parts.next()?;
        if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        if parts.next()? != "dkr" || !matches!(parts.next()?, "ecr" | "ecr-fips") {
            return None;
        }
        let region = parts.next()?;
        let valid_region = !region.is_empty()
            && region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        let domain: Vec<&str> = parts.collect();
        if !valid_region
            || !matches!(
                domain.as_slice(),
                ["amazonaws", "com"] | ["amazonaws", "com", "cn"]
            )
        {
            return None;
        }
        let (repository, reference) = if let Some((repo, digest)) = rest.split_once('@') {
            (repo, ImageId::Digest(digest.to_string()))
        } else {
            let name_start = rest.rfind('/').map_or(0, |i| i + 1);
            match rest[name_start..].rfind(':') {
                Some(i) => (
                    &rest[..name_start + i],
                    ImageId::Tag(rest[name_start + i + 1..].to_string()),
                ),
                None => (rest, ImageId::Tag("latest".to_string())),
            }
        };
        let empty = match &reference {
            ImageId::Tag(t) | ImageId::Digest(t) => t.is_empty(),
        };
        if repository.is_empty() || empty {
            return None;
        }
        Some(Self {
            account: account.to_string(),
            region: region.to_string(),
            repository: repository.to_string(),
            reference,
        })
    }

    /// `repository:tag` or `repository@sha256:…`, as an operator reads it.
    pub fn label(&self) -> String {
        match &self.reference {
            ImageId::Tag(t) => format!("{}:{t}", self.repository),
            ImageId::Digest(d) => format!("{}@{d}", self.repository),
        }
    }

    /// The request, as the preview lists it.
    pub fn call(&self) -> String {
        let id = match &self.reference {
            ImageId::Tag(t) => format!("imageTag={t}"),
            ImageId::Digest(d) => format!("imageDigest={d}"),
        };
        format!(
            "ecr:DescribeImages registryId={} repositoryName={} imageIds=[{id}] (region {})",
            self.account, self.repository, self.region
        )
    }
}

/// What ECR says about an image that exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageDetail {
    /// `sha256:…`
    pub digest: String,
    pub pushed_at: Option<Timestamp>,
    /// Every tag of the image (the same digest may have several).
    pub tags: Vec<String>,
    pub size_bytes: Option<i64>,
}

/// The answer of a check: the image, or why it is not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageLookup {
    Found(ImageDetail),
    /// ECR answered that it does not exist: the tag (or digest), or the
    /// whole repository.
    Missing {
        what: String,
    },
}
