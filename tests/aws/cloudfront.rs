//! CloudFront against moto: a distribution read with its invalidations,
//! an invalidation sent once with its paths and caller reference and read
//! back (by id, and by its reference as after a lost answer), a missing
//! distribution a failure of the listing, and the read-only guard
//! refusing CreateInvalidation with nothing reaching the server.

use std::sync::Arc;

use crate::prelude::*;
use honban::backend::prelude::*;
use honban::config::CloudFrontConfig;

/// A distribution created in moto behind the product's back; its id.
fn create_distribution(moto: &MotoAccount) -> String {
    let out = moto.aws(
        "cloudfront",
        "create_distribution",
        r#"{"DistributionConfig": {
            "CallerReference": "seed-1",
            "Comment": "works-logue web",
            "Enabled": true,
            "Aliases": {"Quantity": 1, "Items": ["works-logue.com"]},
            "Origins": {"Quantity": 1, "Items": [{
                "Id": "alb", "DomainName": "works-logue-alb.example.com",
                "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443,
                                       "OriginProtocolPolicy": "https-only"}
            }]},
            "DefaultCacheBehavior": {
                "TargetOriginId": "alb",
                "ViewerProtocolPolicy": "redirect-to-https",
                "ForwardedValues": {"QueryString": false, "Cookies": {"Forward": "none"}},
                "MinTTL": 0
            }
        }}"#,
    );
    out.at("Distribution")
        .at("Id")
        .as_str()
        .expect("distribution id")
        .to_string()
}

#[tokio::test]
async fn an_invalidation_is_sent_once_with_its_paths_and_reference_and_read_back() {
    let moto = MotoAccount::empty();
    let id = create_distribution(&moto);
    let b = moto.backend_for("none").await;

    let before = b.distribution(&id).await.expect("distribution");
    assert_eq!(before.id, id);
    assert!(
        before.domain_name.ends_with(".cloudfront.net"),
        "{before:?}"
    );
    assert_eq!(before.alias.as_deref(), Some("works-logue.com"));
    assert!(before.enabled);
    assert!(before.invalidations.is_empty());

    moto.reset_counts();
    let paths = vec!["/*".to_string(), "/index.html".to_string()];
    let reference = "honban-test-20261201T194500000Z-0a1b2c3d";
    let inv = b
        .create_invalidation(&id, &paths, reference)
        .await
        .expect("invalidation");
    assert!(!inv.id.is_empty());
    assert_eq!(inv.paths, paths);
    assert_eq!(inv.caller_reference.as_deref(), Some(reference));
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("cloudfront:CreateInvalidation", 1)]),
        "sent once"
    );
    let body = moto
        .the_request("cloudfront:CreateInvalidation")
        .at("body")
        .as_str()
        .expect("the XML body")
        .to_string();
    assert!(body.contains("<Quantity>2</Quantity>"), "{body}");
    assert!(body.contains("<Path>/*</Path>"), "{body}");
    assert!(body.contains("<Path>/index.html</Path>"), "{body}");
    assert!(
        body.contains(&format!("<CallerReference>{reference}</CallerReference>")),
        "{body}"
    );

    // Read back: listed with the distribution, by id, and by reference.
    let after = b.distribution(&id).await.expect("distribution");
    assert_eq!(after.invalidations.len(), 1, "{after:?}");
    assert_eq!(after.invalidations[0].id, inv.id);
    // moto completes at once (CloudFront takes minutes: the simulation
    // shows InProgress → Completed).
    assert!(after.invalidations[0].is_completed(), "{after:?}");
    let got = b.invalidation(&id, &inv.id).await.expect("GetInvalidation");
    assert_eq!(got.paths, paths);
    let found = b
        .find_invalidation(&id, reference)
        .await
        .expect("read back")
        .expect("found by its reference");
    assert_eq!(found.id, inv.id);
    assert!(
        b.find_invalidation(&id, "honban-test-other")
            .await
            .expect("read back")
            .is_none()
    );
    assert!(moto.count("cloudfront:GetInvalidation") >= 2);
    assert_eq!(
        moto.mutating_counts(),
        ops(&[("cloudfront:CreateInvalidation", 1)]),
        "reading back sends nothing"
    );
}

#[tokio::test]
async fn a_missing_distribution_is_a_failure_of_the_listing_not_of_the_read() {
    let moto = MotoAccount::empty();
    let id = create_distribution(&moto);
    let b = moto.backend_for("none").await;
    let mut cfg = moto.env("cf");
    cfg.cloudfront_distributions = vec![
        CloudFrontConfig {
            id: id.clone(),
            paths: vec!["/*".into()],
            services: Vec::new(),
        },
        CloudFrontConfig {
            id: "E0000000000000".into(),
            paths: vec!["/*".into()],
            services: Vec::new(),
        },
    ];
    let listing = honban::backend::read::distributions(&b, &cfg, Duration::from_secs(5)).await;
    let listing = listing.expect("the read");
    assert_eq!(listing.items.len(), 1);
    assert_eq!(listing.items[0].id, id);
    assert_eq!(listing.failures.len(), 1);
    assert_eq!(listing.failures[0].arn, "E0000000000000");
}

#[tokio::test]
async fn read_only_refuses_the_invalidation_and_nothing_reaches_the_server() {
    let moto = MotoAccount::empty();
    let id = create_distribution(&moto);
    let aws = Arc::new(moto.backend_for("none").await);
    let guarded = honban::backend::guard::ReadOnly::new(aws, "ro");
    moto.reset_counts();
    let read = guarded
        .cloudfront()
        .expect("capability")
        .distribution(&id)
        .await
        .expect("reads pass");
    assert_eq!(read.id, id);
    let refused = guarded
        .cloudfront_changes()
        .expect("capability")
        .create_invalidation(&id, &["/*".to_string()], "honban-ro-1")
        .await;
    assert_eq!(
        refused,
        Err(BackendError::ReadOnly {
            operation: "cloudfront:CreateInvalidation".into()
        })
    );
    assert!(moto.mutating_counts().is_empty(), "{:?}", moto.counts());
    assert_eq!(moto.count("cloudfront:CreateInvalidation"), 0);
    let raw = moto.aws(
        "cloudfront",
        "list_invalidations",
        &format!(r#"{{"DistributionId": "{id}"}}"#),
    );
    assert_eq!(raw.at("InvalidationList").at("Quantity").as_i64(), Some(0));
}

/// `honban status` reads the configured distributions and judges them:
/// enabled, OK; disabled behind the product's back, CRITICAL, with the
/// distribution in the JSON.
#[tokio::test]
async fn status_judges_a_configured_distribution_disabled_is_critical() {
    use honban::status::{Kind, Level};
    let moto = MotoAccount::empty();
    let id = create_distribution(&moto);
    let mut env = moto.env("cf-status");
    env.cloudfront_distributions = vec![CloudFrontConfig {
        id: id.clone(),
        paths: vec!["/*".into()],
        services: Vec::new(),
    }];
    let report = moto.status(env.clone()).await;
    let e = &report.environments[0];
    let check = e
        .checks
        .iter()
        .find(|c| c.kind == Kind::Distribution)
        .unwrap_or_else(|| panic!("no distribution check: {:?} {:?}", e.checks, e.errors));
    assert_eq!(check.state, Level::Ok);
    assert_eq!(check.name, "works-logue.com");
    assert_eq!(e.counts.distributions, 1);

    let current = moto.aws(
        "cloudfront",
        "get_distribution_config",
        &format!(r#"{{"Id": "{id}"}}"#),
    );
    let etag = current.at("ETag").as_str().expect("etag").to_string();
    let mut config = current.at("DistributionConfig").clone();
    config["Enabled"] = serde_json::Value::Bool(false);
    let params = serde_json::json!({"Id": id, "IfMatch": etag, "DistributionConfig": config});
    moto.aws("cloudfront", "update_distribution", &params.to_string());

    let report = moto.status(env).await;
    let e = &report.environments[0];
    assert_eq!(report.overall, Level::Critical, "{:?}", e.reasons);
    assert!(
        e.reasons
            .contains(&"CloudFront works-logue.com disabled".to_string()),
        "{:?}",
        e.reasons
    );
    let doc = honban::status::to_json(&report);
    crate::support::schema::assert_valid_status(&doc);
    let checks = doc["environments"][0]["checks"].as_array().expect("checks");
    let dist = checks
        .iter()
        .find(|c| c["kind"] == "cloudfront_distribution")
        .expect("the distribution in the JSON");
    assert_eq!(dist["distribution_id"], id.as_str());
    assert_eq!(dist["enabled"], false);
}
