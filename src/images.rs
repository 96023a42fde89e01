//! Checking an image before it is deployed: which images can be checked
//! (those in an Amazon ECR registry), what ECR says about one
//! (`ecr:DescribeImages`), and what the deploy preview shows while the
//! answer is on its way.
//!
//! Pure: the request is made by the backends, the answer is kept in the
//! state and drawn by the confirmation dialog.

use crate::domain::Timestamp;

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

/// A check of one image, as the deploy preview shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageCheck {
    /// The image is not in ECR: nothing can check it.
    NotEcr,
    /// Asked; no answer yet.
    Checking,
    Done(ImageLookup),
    /// The check itself failed (access denied, network): whether the image
    /// exists is not known.
    Failed(String),
}

impl ImageCheck {
    /// The image is known not to exist.
    pub fn is_missing(&self) -> bool {
        matches!(self, Self::Done(ImageLookup::Missing { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_references_are_parsed() {
        let i = EcrImage::parse(
            "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/works-logue/web:v1.4.3",
        )
        .expect("an ECR image");
        assert_eq!(i.account, "123456789012");
        assert_eq!(i.region, "ap-northeast-1");
        assert_eq!(i.repository, "works-logue/web");
        assert_eq!(i.reference, ImageId::Tag("v1.4.3".into()));
        assert_eq!(i.label(), "works-logue/web:v1.4.3");

        let d = EcrImage::parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:abc")
            .expect("a digest");
        assert_eq!(d.reference, ImageId::Digest("sha256:abc".into()));
        assert_eq!(d.repository, "web");

        let latest =
            EcrImage::parse("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app").expect("cn");
        assert_eq!(latest.reference, ImageId::Tag("latest".into()));
        assert!(
            EcrImage::parse("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/app:1").is_some()
        );
    }

    #[test]
    fn other_registries_are_not_ecr() {
        for image in [
            "nginx:1.27",
            "nginx",
            "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.4",
            "ghcr.io/org/app:1",
            "localhost:5000/app:1",
            "12345.dkr.ecr.us-east-1.amazonaws.com/app:1",
            "123456789012.dkr.ecr.us-east-1.example.com/app:1",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/:1",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:",
            "123456789012.dkr.ecr..amazonaws.com/app:1",
            "",
        ] {
            assert_eq!(EcrImage::parse(image), None, "{image}");
        }
    }
}
