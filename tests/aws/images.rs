//! The image check of a deploy's preview (ecr:DescribeImages).

use crate::prelude::*;
use honban::backend::prelude::*;

/// Pushes an image (a manifest; moto computes its digest) to `repo`,
/// creating the repository; returns the digest.
fn push_image(moto: &MotoAccount, repo: &str, tag: &str) -> String {
    let _ = moto.aws(
        "ecr",
        "create_repository",
        &format!(r#"{{"repositoryName": "{repo}"}}"#),
    );
    let manifest = format!(
        r#"{{\"schemaVersion\": 2, \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\", \"config\": {{\"digest\": \"sha256:{tag}\"}}, \"layers\": []}}"#
    );
    let out = moto.aws(
        "ecr",
        "put_image",
        &format!(
            r#"{{"repositoryName": "{repo}", "imageTag": "{tag}", "imageManifest": "{manifest}"}}"#
        ),
    );
    out.at("image")
        .at("imageId")
        .at("imageDigest")
        .as_str()
        .expect("a digest")
        .to_string()
}

#[tokio::test]
async fn an_image_is_checked_in_its_ecr_registry_found_missing_or_failed() {
    use honban::images::{EcrImage, ImageLookup};
    let moto = MotoAccount::empty();
    let digest = push_image(&moto, "works-logue/web", "v1.4.3");
    let b = moto.backend_for("none").await;
    let registry = format!("{}.dkr.ecr.{REGION}.amazonaws.com", moto.account);
    let image = |reference: &str| {
        EcrImage::parse(&format!("{registry}/{reference}")).expect("an ECR image")
    };
    moto.reset_counts();

    // The tag exists: its digest and push time.
    let found = b
        .describe_image(&image("works-logue/web:v1.4.3"))
        .await
        .expect("checked");
    let ImageLookup::Found(detail) = found else {
        panic!("expected the image: {found:?}");
    };
    assert_eq!(detail.digest, digest);
    assert!(detail.pushed_at.is_some(), "{detail:?}");
    assert_eq!(detail.tags, vec!["v1.4.3".to_string()]);
    // By digest too.
    let by_digest = b
        .describe_image(&image(&format!("works-logue/web@{digest}")))
        .await
        .expect("checked");
    assert!(matches!(by_digest, ImageLookup::Found(_)), "{by_digest:?}");

    // A tag that was never pushed, and a repository that does not exist.
    let missing = b
        .describe_image(&image("works-logue/web:v9.9.9"))
        .await
        .expect("checked");
    let ImageLookup::Missing { what } = &missing else {
        panic!("expected missing: {missing:?}");
    };
    assert!(what.contains("works-logue/web:v9.9.9"), "{what}");
    let no_repo = b
        .describe_image(&image("works-logue/nope:v1"))
        .await
        .expect("checked");
    let ImageLookup::Missing { what } = &no_repo else {
        panic!("expected a missing repository: {no_repo:?}");
    };
    assert!(what.contains("repository works-logue/nope"), "{what}");
    assert_eq!(moto.count("ecr:DescribeImages"), 4);
    // The request names the registry, the repository and the tag.
    let raw = moto.counts();
    assert_eq!(raw.len(), 1, "only DescribeImages was sent: {raw:?}");

    // A failure is an error, never "missing" (nor found).
    moto.inject_fault("ecr:DescribeImages", "expired", 1);
    let failed = b.describe_image(&image("works-logue/web:v1.4.3")).await;
    assert!(
        matches!(failed, Err(BackendError::Unauthorized { .. })),
        "{failed:?}"
    );
    moto.inject_fault("ecr:DescribeImages", "throttle", 1);
    let throttled = b.describe_image(&image("works-logue/web:v1.4.3")).await;
    assert!(
        matches!(throttled, Err(BackendError::Throttled { .. })),
        "{throttled:?}"
    );
    moto.clear_faults();
}

#[tokio::test]
async fn the_deploy_preview_says_whether_the_image_exists_without_waiting() {
    use honban::images::{ImageCheck, ImageLookup};
    let moto = MotoAccount::seeded("imgcheck", &[]);
    let digest = push_image(&moto, "works-logue/web", "v2.0.0");
    let env = moto.env("staging");
    let Console { mut app, .. } = moto.console(env).await;
    select(&mut app, '2', "web").await;
    let registry = format!("{}.dkr.ecr.{REGION}.amazonaws.com", moto.account);
    let check =
        |app: &App, image: &str| app.state.image_checks.get(&(0, image.to_string())).cloned();

    // A pushed tag: the preview opens at once (checking), then says it exists.
    moto.reset_counts();
    let pushed = format!("{registry}/works-logue/web:v2.0.0");
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, &pushed);
    press(&mut app, KeyCode::Enter);
    assert!(matches!(
        confirming(&app),
        Some(Operation::DeployImage { .. })
    ));
    assert_eq!(check(&app, &pushed), Some(ImageCheck::Checking));
    app.settle().await;
    match check(&app, &pushed) {
        Some(ImageCheck::Done(ImageLookup::Found(d))) => assert_eq!(d.digest, digest),
        other => panic!("expected found: {other:?}"),
    }
    let screen = draw(&app);
    assert!(screen.contains("exists in ECR"), "{screen}");
    assert!(screen.contains(&digest[..20]), "{screen}");
    press(&mut app, KeyCode::Esc);

    // A tag never pushed: a clear warning; the operator may still confirm.
    let typo = format!("{registry}/works-logue/web:v2.0.O");
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, &typo);
    press(&mut app, KeyCode::Enter);
    app.settle().await;
    assert!(
        check(&app, &typo).is_some_and(|c| c.is_missing()),
        "{:?}",
        check(&app, &typo)
    );
    let screen = draw(&app);
    assert!(screen.contains("NOT FOUND in ECR"), "{screen}");
    assert!(screen.contains("still confirm"), "{screen}");
    assert!(confirming(&app).is_some(), "the preview stays open");
    press(&mut app, KeyCode::Esc);

    // A check that fails says so, never "exists".
    moto.inject_fault("ecr:DescribeImages", "500", 1);
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, &pushed);
    press(&mut app, KeyCode::Enter);
    app.settle().await;
    assert!(
        matches!(check(&app, &pushed), Some(ImageCheck::Failed(_))),
        "{:?}",
        check(&app, &pushed)
    );
    let screen = draw(&app);
    assert!(screen.contains("could not check"), "{screen}");
    assert!(!screen.contains("exists in ECR"), "{screen}");
    press(&mut app, KeyCode::Esc);
    moto.clear_faults();

    // Not in ECR: nothing is asked, and the preview says it cannot check.
    press(&mut app, KeyCode::Char('i'));
    type_text(&mut app, "nginx:1.27");
    press(&mut app, KeyCode::Enter);
    app.settle().await;
    assert_eq!(check(&app, "nginx:1.27"), Some(ImageCheck::NotEcr));
    let screen = draw(&app);
    assert!(screen.contains("cannot check"), "{screen}");
    press(&mut app, KeyCode::Esc);

    assert_eq!(moto.count("ecr:DescribeImages"), 3);
    assert_eq!(moto.mutating_counts(), ops(&[]), "nothing was deployed");
}
