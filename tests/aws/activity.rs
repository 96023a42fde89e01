//! The seeded activity (`seed-moto.py --activity`), as in the demo: an
//! alarm followed to its metric, its service's targets and its error lines.

use crate::logs::log_lines;
use crate::prelude::*;

/// The 5XX alarm that the seeded spike set off, followed by keys as a new
/// user would in the demo: listed as ALARM, its chart holds the seeded
/// datapoints, `enter` leads to the web service with its targets as moto
/// reports them, `l` to its logs with the seeded error lines and `e` to
/// only those (moto applies the pattern). Deregistering a target shows on
/// the next refresh (moto drops it at once; AWS would report it draining).
#[tokio::test]
#[allow(
    clippy::many_single_char_names,
    reason = "`s` the screen, `e` the environment, as in the other tests"
)]
async fn the_seeded_alarm_leads_to_its_metric_the_service_targets_and_the_error_lines() {
    let moto = MotoAccount::seeded("works-logue-prod", &["--activity"]);
    let activity = moto.seeded.activity();
    let alarm = "works-logue-prod-web-5xx";
    assert_eq!(moto.seeded.alarms_in_alarm, [alarm]);
    let mut c = moto.console(moto.env("production")).await;
    // Target groups are asked for once the services are known (the
    // poller's next tick).
    c.app.dispatch(Action::PollDue {
        env: 0,
        resource: Resource::Targets,
    });
    c.app.settle().await;

    // Alarms: the 5XX alarm is the one firing, listed first.
    select(&mut c.app, '5', alarm).await;
    let firing: Vec<String> = c
        .app
        .state
        .visible_alarms()
        .iter()
        .filter(|a| a.state == AlarmState::Alarm)
        .map(|a| a.name.clone())
        .collect();
    assert_eq!(firing, [alarm]);
    assert_eq!(c.app.state.selected(c.app.state.view().kind()), 0);
    let s = screen(&c.app, 160, 48);
    assert!(s.contains(alarm) && s.contains("ALARM"), "{s}");

    // Its chart: the seeded spike, up to the last whole minute.
    press(&mut c.app, KeyCode::Enter);
    c.app.settle().await;
    assert_eq!(
        c.app.state.view(),
        &honban::state::View::AlarmDetail {
            alarm: alarm.to_string()
        }
    );
    let spike = activity.web_5xx_spike.clone();
    let last_minute = activity.last_minute;
    let e = &c.app.state.envs[0];
    let a = e
        .alarms
        .data
        .iter()
        .flatten()
        .find(|a| a.name == alarm)
        .expect("the alarm")
        .clone();
    let data = e.metrics.data.clone().expect("metrics");
    let series = data.alarm(&a).expect("the alarm's metric was queried");
    let n = series.points.len();
    assert!(n >= 55, "an hour of one-minute points: {:?}", series.points);
    let tail: Vec<f64> = series.points[n - spike.len()..]
        .iter()
        .map(|p| p.1)
        .collect();
    assert_eq!(tail, spike);
    assert_eq!(series.points.last().map(|p| p.0), Some(last_minute));
    assert!(
        series.points[..n - spike.len()].iter().all(|p| p.1 <= 10.0),
        "below the threshold before the spike"
    );
    assert!(
        a.state_reason
            .contains("was greater than the threshold (10.0)")
    );
    let s = screen(&c.app, 160, 48);
    assert!(s.contains("HTTPCode_Target_5XX_Count · last 1h"), "{s}");
    assert!(s.contains("threshold 10"), "{s}");
    let latest = format!(" {} ", spike[spike.len() - 1]);
    assert!(
        s.contains(&latest),
        "the chart's latest value {latest:?}: {s}"
    );
    assert!(s.contains("→ service web"), "{s}");

    // enter: the web service, its targets as moto reports them.
    press(&mut c.app, KeyCode::Enter);
    c.app.settle().await;
    assert_eq!(
        c.app.state.view(),
        &honban::state::View::ServiceDetail {
            service: "web".to_string()
        }
    );
    let targets = |app: &App| -> Vec<(String, String)> {
        let e = &app.state.envs[0];
        let web = app.state.service("web").expect("web");
        let groups = e.targets_for(web);
        assert_eq!(groups.len(), 1, "{groups:?}");
        let mut t: Vec<(String, String)> = groups[0]
            .targets
            .iter()
            .map(|t| (t.id.clone(), t.state.clone()))
            .collect();
        t.sort();
        t
    };
    let ips = activity.targets["web"].clone();
    assert_eq!(ips.len(), 2);
    let healthy = |ips: &[String]| -> Vec<(String, String)> {
        ips.iter()
            .map(|ip| (ip.clone(), "healthy".to_string()))
            .collect()
    };
    assert_eq!(targets(&c.app), healthy(&ips));
    let s = screen(&c.app, 160, 48);
    assert!(s.contains("targets 2/2 healthy"), "{s}");

    // l: its logs, the last 15 minutes, the seeded error lines among the
    // access lines; e: only the error lines (moto applies the pattern).
    moto.reset_counts();
    press(&mut c.app, KeyCode::Char('l'));
    c.app.settle().await;
    assert_eq!(c.app.state.view(), &honban::state::View::Logs);
    let lines = log_lines(&c.app);
    let errors = lines.iter().filter(|l| l.starts_with("ERROR ")).count();
    let spike_total = spike.iter().sum::<f64>() as usize;
    assert!(errors >= spike_total, "{errors} < {spike_total}: {lines:?}");
    assert!(
        lines.iter().any(|l| l.starts_with("INFO GET ")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains(" 500 ")
            && l.contains("Timed out fetching a new connection from the connection pool")),
        "{lines:?}"
    );
    let streams = &activity.log_streams;
    let logs = c.app.state.logs.as_ref().expect("logs");
    assert!(
        logs.lines.iter().all(|e| streams.contains(&e.stream)),
        "every line from a seeded stream"
    );
    assert!(
        logs.lines
            .iter()
            .zip(logs.lines.iter().skip(1))
            .all(|(a, b)| a.timestamp <= b.timestamp),
        "oldest first"
    );
    let spike_start = last_minute - chrono::TimeDelta::minutes(spike.len() as i64 - 1);
    let spike_errors = |app: &App| -> Vec<String> {
        let logs = app.state.logs.as_ref().expect("logs");
        logs.lines
            .iter()
            .filter(|e| e.timestamp >= spike_start && e.message.starts_with("ERROR "))
            .map(|e| e.id.clone())
            .collect()
    };
    let in_spike = spike_errors(&c.app);
    assert_eq!(
        in_spike.len(),
        spike_total,
        "one ERROR line per 5XX counted"
    );
    press(&mut c.app, KeyCode::Char('e'));
    c.app.settle().await;
    let sent = moto.requests("logs:FilterLogEvents");
    assert_eq!(
        sent.last().and_then(|r| r.at("filterPattern").as_str()),
        Some("ERROR")
    );
    let only = log_lines(&c.app);
    assert!(only.iter().all(|l| l.starts_with("ERROR ")), "{only:?}");
    assert_eq!(spike_errors(&c.app), in_spike, "the same error lines");
    let s = screen(&c.app, 160, 48);
    assert!(s.contains("ERROR GET /"), "{s}");

    // A target deregistered behind the console's back: gone on the next
    // refresh of the target health.
    for _ in 0..3 {
        if matches!(
            c.app.state.view(),
            honban::state::View::ServiceDetail { .. }
        ) {
            break;
        }
        press(&mut c.app, KeyCode::Esc);
    }
    assert_eq!(
        c.app.state.view(),
        &honban::state::View::ServiceDetail {
            service: "web".to_string()
        }
    );
    let web_tg = &moto.seeded.target_groups["web"];
    moto.aws(
        "elbv2",
        "deregister_targets",
        &format!(
            r#"{{"TargetGroupArn": "{web_tg}", "Targets": [{{"Id": "{}", "Port": 3000}}]}}"#,
            ips[0]
        ),
    );
    c.app.dispatch(Action::PollDue {
        env: 0,
        resource: Resource::Targets,
    });
    c.app.settle().await;
    assert_eq!(targets(&c.app), healthy(&ips[1..]));
    let s = screen(&c.app, 160, 48);
    assert!(s.contains("targets 1/1 healthy"), "{s}");
}
