//! Checking an image before it is deployed: which images can be checked
//! (those in an Amazon ECR registry), what ECR says about one
//! (`ecr:DescribeImages`), and what the deploy preview shows while the
//! answer is on its way.
//!
//! Pure: the request is made by the backends, the answer is kept in the
//! state and drawn by the confirmation dialog.

/// The ECR types, shared with the backends that answer DescribeImages.
pub use crate::domain::{EcrImage, ImageDetail, ImageId, ImageLookup};

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
