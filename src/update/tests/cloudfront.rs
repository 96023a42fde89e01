//! CloudFront invalidations in the reducer: the view's key, the preview
//! with its caller reference, the typed confirmation of a protected
//! environment, the read-only refusal, the watch to Completed, a lost
//! answer read back by its reference, and the offer after a release.

use super::*;
use crate::action::OpOutcome;
use crate::config::CloudFrontConfig;
use crate::domain::{Distribution, Invalidation};
use crate::ops::Operation;
use crate::state::Dialog;
use crate::watch::{WatchStatus, WatchTarget};

const DIST: &str = "E2WL7PRDX4K9QZ";

fn invalidation(id: &str, status: &str, secs: i64) -> Invalidation {
    Invalidation {
        id: id.into(),
        status: status.into(),
        created_at: Some(t0() + chrono::TimeDelta::seconds(secs)),
        paths: vec!["/*".into()],
        caller_reference: None,
    }
}

fn distribution(invalidations: Vec<Invalidation>) -> Distribution {
    Distribution {
        id: DIST.into(),
        domain_name: "d3k8w2lqv9x1m7.cloudfront.net".into(),
        status: "Deployed".into(),
        enabled: true,
        alias: Some("works-logue.com".into()),
        in_progress: 0,
        invalidations,
    }
}

fn load_distributions(s: &mut State, invalidations: Vec<Invalidation>, secs: i64) {
    s.now = t0() + chrono::TimeDelta::seconds(secs);
    let generation = s.envs[0].distributions.generation;
    s.envs[0].distributions.in_flight = true;
    let at = s.now;
    update(
        s,
        Action::Loaded {
            env: 0,
            resource: Resource::Distributions,
            generation,
            at,
            result: Ok(Data::Distributions(Listing::complete(vec![distribution(
                invalidations,
            )]))),
        },
    );
}

/// `name` with one distribution linked to `web`, on the CloudFront view.
fn on_cloudfront(name: &str) -> State {
    let mut s = state_of(&[name], t0());
    s.envs[0].cloudfront = vec![CloudFrontConfig {
        id: DIST.into(),
        paths: vec!["/*".into(), "/index.html".into()],
        services: vec!["web".into()],
    }];
    load_distributions(&mut s, vec![invalidation("IOLD", "Completed", -3600)], 0);
    update(&mut s, Action::Command(Command::CloudFront));
    assert_eq!(s.view(), &View::CloudFront);
    s
}

fn confirm_op(s: &State) -> &Operation {
    match &s.mode {
        Mode::Dialog(Dialog::Confirm { op, .. }) => op,
        other => panic!("expected the confirmation, got {other:?}"),
    }
}

#[test]
fn invalidate_previews_the_exact_call_and_a_protected_environment_wants_the_name() {
    let mut s = on_cloudfront("production");
    assert!(press(&mut s, key('V')).is_empty());
    let op = confirm_op(&s).clone();
    let Operation::Invalidate {
        distribution,
        paths,
        caller_reference,
    } = &op
    else {
        panic!("expected an invalidation, got {op:?}");
    };
    assert_eq!(distribution, DIST);
    assert_eq!(paths, &["/*", "/index.html"]);
    assert!(
        caller_reference.starts_with("honban-production-20261123T030000000Z-"),
        "{caller_reference}"
    );
    assert_eq!(
        op.calls(),
        vec![format!(
            "cloudfront:CreateInvalidation DistributionId={DIST} Paths=[/*,/index.html] \
             CallerReference={caller_reference}"
        )]
    );
    // y is text here: production wants production/DIST typed.
    assert!(operations(&press(&mut s, key('y'))).is_empty());
    assert!(operations(&press(&mut s, code(KeyCode::Enter))).is_empty());
    press(&mut s, code(KeyCode::Backspace));
    typed(&mut s, &format!("production/{DIST}"));
    let effects = press(&mut s, code(KeyCode::Enter));
    let sent = operations(&effects);
    assert_eq!(sent.len(), 1, "sent once: {effects:?}");
    assert_eq!(sent[0].0, &op, "what was previewed is what is sent");
    assert_eq!(s.mode, Mode::Normal);
    // A second V while it is being sent is refused.
    assert!(press(&mut s, key('V')).is_empty());
    assert_eq!(s.mode, Mode::Normal);
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("being sent"))
    );
}

#[test]
fn two_invalidations_never_share_a_caller_reference() {
    let mut s = on_cloudfront("staging");
    press(&mut s, key('V'));
    let first = confirm_op(&s).clone();
    press(&mut s, key('y'));
    let id = s.activity[0].id.clone();
    let at = s.now;
    update(
        &mut s,
        Action::OperationDone {
            id,
            at,
            result: Ok(OpOutcome::Invalidation(invalidation(
                "INEW",
                "InProgress",
                0,
            ))),
            read_back: None,
        },
    );
    press(&mut s, key('V'));
    let second = confirm_op(&s).clone();
    let reference = |op: &Operation| match op {
        Operation::Invalidate {
            caller_reference, ..
        } => caller_reference.clone(),
        _ => String::new(),
    };
    assert_ne!(reference(&first), reference(&second));
}

#[test]
fn a_read_only_environment_refuses_the_invalidation_with_the_reason() {
    let mut s = on_cloudfront("staging");
    s.envs[0].read_only = true;
    assert!(press(&mut s, key('V')).is_empty());
    assert_eq!(s.mode, Mode::Normal);
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("read-only")),
        "{:?}",
        s.flash
    );
}

#[test]
fn an_accepted_invalidation_is_followed_until_completed() {
    let mut s = on_cloudfront("staging");
    press(&mut s, key('V'));
    press(&mut s, key('y'));
    let id = s.activity[0].id.clone();
    let at = s.now;
    let effects = update(
        &mut s,
        Action::OperationDone {
            id,
            at,
            result: Ok(OpOutcome::Invalidation(invalidation(
                "INEW",
                "InProgress",
                0,
            ))),
            read_back: None,
        },
    );
    // Its distribution is read again at once.
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Fetch {
            resource: Resource::Distributions,
            ..
        }
    )));
    let w = s.activity[0].watch.as_ref().expect("followed");
    assert_eq!(
        w.target,
        WatchTarget::Invalidation {
            distribution: DIST.into(),
            id: "INEW".into()
        }
    );
    load_distributions(
        &mut s,
        vec![
            invalidation("INEW", "InProgress", 0),
            invalidation("IOLD", "Completed", -3600),
        ],
        30,
    );
    let w = s.activity[0].watch.as_ref().expect("followed");
    assert!(
        matches!(&w.status, WatchStatus::InProgress { text, .. } if text.contains("InProgress")),
        "{:?}",
        w.status
    );
    load_distributions(
        &mut s,
        vec![
            invalidation("INEW", "Completed", 0),
            invalidation("IOLD", "Completed", -3600),
        ],
        120,
    );
    let w = s.activity[0].watch.as_ref().expect("followed");
    assert!(
        matches!(w.status, WatchStatus::Completed(_)),
        "{:?}",
        w.status
    );
    assert!(!s.activity[0].is_active());
}

#[test]
fn a_lost_answer_read_back_by_its_reference_is_followed_like_an_answer() {
    let mut s = on_cloudfront("staging");
    press(&mut s, key('V'));
    press(&mut s, key('y'));
    let id = s.activity[0].id.clone();
    let at = s.now;
    // The runner read it back (found by its CallerReference) after the
    // answer was lost: the outcome is the invalidation found.
    update(
        &mut s,
        Action::OperationDone {
            id,
            at,
            result: Ok(OpOutcome::Invalidation(invalidation(
                "IFOUND",
                "InProgress",
                0,
            ))),
            read_back: Some(crate::reconcile::ReadBack {
                unanswered: "CreateInvalidation: no answer within 30s".into(),
                verdict: crate::reconcile::Verdict::Applied,
                evidence: "invalidation IFOUND with reference … is InProgress".into(),
            }),
        },
    );
    let w = s.activity[0].watch.as_ref().expect("followed");
    assert_eq!(
        w.target,
        WatchTarget::Invalidation {
            distribution: DIST.into(),
            id: "IFOUND".into()
        }
    );
}

#[test]
fn a_completed_release_of_a_linked_service_offers_the_invalidation_by_its_key() {
    let mut s = on_cloudfront("staging");
    s.envs[0].cloudfront[0].paths = vec!["/*".into()];
    load_services(&mut s, vec![service("web", 42, 2, 2)]);
    update(&mut s, Action::Command(Command::Services));
    press(&mut s, key('r'));
    press(&mut s, key('y'));
    let id = s.activity[0].id.clone();
    let at = s.now;
    let mut svc = service("web", 42, 2, 2);
    svc.deployments[0].id = "new".into();
    svc.deployments[0].rollout_state = RolloutState::InProgress;
    svc.deployments[0].running_count = 0;
    update(
        &mut s,
        Action::OperationDone {
            id,
            at,
            result: Ok(OpOutcome::Service(Box::new(svc))),
            read_back: None,
        },
    );
    assert!(
        s.offered_invalidation().is_none(),
        "not before it completes"
    );
    let mut done = service("web", 42, 2, 2);
    done.deployments[0].id = "new".into();
    s.now = t0() + chrono::TimeDelta::seconds(60);
    let generation = s.envs[0].services.generation;
    s.envs[0].services.in_flight = true;
    let at = s.now;
    update(
        &mut s,
        Action::Loaded {
            env: 0,
            resource: Resource::Services,
            generation,
            at,
            result: Ok(Data::Services(Listing::complete(vec![done]))),
        },
    );
    let flash = s.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert!(
        flash.starts_with(&format!("V invalidates CloudFront {DIST} (/*)")),
        "{flash}"
    );
    // Nothing was sent by itself; V from the services view acts on it.
    assert_eq!(s.activity.len(), 1);
    press(&mut s, key('V'));
    assert!(matches!(
        confirm_op(&s),
        Operation::Invalidate { distribution, .. } if distribution == DIST
    ));
    press(&mut s, key('y'));
    assert!(s.offered_invalidation().is_none(), "offered once");
}
