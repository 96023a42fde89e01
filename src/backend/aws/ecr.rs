//! Amazon ECR: whether an image exists before it is deployed
//! (`DescribeImages`, a read).

use aws_sdk_ecr::types::ImageIdentifier;

use super::AwsBackend;
use super::convert::opt_time;
use crate::backend::Ecr;
use crate::backend::{BackendError, BackendResult};
use crate::domain::{EcrImage, ImageDetail, ImageId, ImageLookup};
use async_trait::async_trait;

#[async_trait]
impl Ecr for AwsBackend {
    async fn describe_image(&self, image: &EcrImage) -> BackendResult<ImageLookup> {
        describe_image(self, image).await
    }
}

/// The error codes with which ECR says that an image is not there (the tag
/// or digest, or its whole repository). Anything else (access denied,
/// throttling, a network failure) leaves the question open.
const MISSING: [&str; 2] = ["ImageNotFoundException", "RepositoryNotFoundException"];

/// `DescribeImages` of one image, in its own registry (account) and region:
/// an image in another region of the same account is asked there.
pub async fn describe_image(b: &AwsBackend, image: &EcrImage) -> BackendResult<ImageLookup> {
    let id = match &image.reference {
        ImageId::Tag(t) => ImageIdentifier::builder().image_tag(t).build(),
        ImageId::Digest(d) => ImageIdentifier::builder().image_digest(d).build(),
    };
    let request = b
        .clients
        .ecr
        .describe_images()
        .registry_id(&image.account)
        .repository_name(&image.repository)
        .image_ids(id)
        .customize()
        .config_override(
            aws_sdk_ecr::config::Builder::default()
                .region(aws_config::Region::new(image.region.clone())),
        )
        .send();
    let out = match b.call("ecr", "DescribeImages", request).await {
        Ok(out) => out,
        Err(BackendError::NotFound { resource })
            if MISSING.iter().any(|code| resource.contains(code)) =>
        {
            let what = if resource.contains("RepositoryNotFoundException") {
                format!(
                    "repository {} does not exist in {} ({})",
                    image.repository, image.account, image.region
                )
            } else {
                format!("{} does not exist", image.label())
            };
            return Ok(ImageLookup::Missing { what });
        }
        Err(e) => return Err(e),
    };
    let Some(detail) = out.image_details().first() else {
        // AWS answers a missing image with ImageNotFoundException; an empty
        // list is read the same way.
        return Ok(ImageLookup::Missing {
            what: format!("{} does not exist", image.label()),
        });
    };
    Ok(ImageLookup::Found(ImageDetail {
        digest: detail.image_digest().unwrap_or_default().to_string(),
        pushed_at: opt_time(detail.image_pushed_at()),
        tags: detail.image_tags().to_vec(),
        size_bytes: detail.image_size_in_bytes(),
    }))
}
