//! Metrics: GetMetricData in one batched request (500 queries at most),
//! the charts, and alarm triage.

use crate::prelude::*;
use honban::backend::prelude::*;

/// Puts `points` (minutes before `end`, value) of the web service's CPU.
pub fn put_web_cpu(
    moto: &MotoAccount,
    cluster: &str,
    end: chrono::DateTime<chrono::Utc>,
    points: &[(i64, f64)],
) {
    let data: Vec<String> = points
        .iter()
        .map(|(ago, v)| {
            let t = end - chrono::TimeDelta::minutes(*ago);
            format!(
                r#"{{"MetricName": "CPUUtilization", "Dimensions": [{{"Name": "ClusterName", "Value": "{cluster}"}}, {{"Name": "ServiceName", "Value": "web"}}], "Timestamp": "{}", "Value": {v}, "Unit": "Percent"}}"#,
                t.format("%Y-%m-%dT%H:%M:%SZ")
            )
        })
        .collect();
    moto.aws(
        "cloudwatch",
        "put_metric_data",
        &format!(
            r#"{{"Namespace": "AWS/ECS", "MetricData": [{}]}}"#,
            data.join(", ")
        ),
    );
}

#[tokio::test]
async fn metric_data_is_what_was_put_and_a_gap_stays_a_gap() {
    let moto = MotoAccount::seeded("mx", &[]);
    let (start, end) =
        honban::update::metric_window(chrono::Utc::now(), honban::metrics::MetricRange::Hour);
    put_web_cpu(&moto, "mx", end, &[(10, 12.5), (9, 40.0), (7, 90.0)]);
    let b = moto.backend().await;
    let q = |id: &str, name: &str| honban::domain::MetricQuery {
        id: id.to_string(),
        namespace: "AWS/ECS".to_string(),
        name: name.to_string(),
        dimensions: vec![
            ("ClusterName".to_string(), "mx".to_string()),
            ("ServiceName".to_string(), "web".to_string()),
        ],
        statistic: "Average".to_string(),
        period_seconds: 60,
    };
    moto.reset_counts();
    let series = b
        .metric_data(
            &[q("m0", "CPUUtilization"), q("m1", "MemoryUtilization")],
            start,
            end,
        )
        .await
        .expect("metric data");
    assert_eq!(moto.count("cloudwatch:GetMetricData"), 1);
    assert_eq!(series.len(), 2);
    assert_eq!(series[0].id, "m0");
    let minute = |ago: i64| end - chrono::TimeDelta::minutes(ago);
    assert_eq!(
        series[0].points,
        vec![(minute(10), 12.5), (minute(9), 40.0), (minute(7), 90.0)],
        "values and timestamps as put; the minute without data is absent"
    );
    assert!(
        series[1].points.is_empty(),
        "nothing was put: no points, not zeros"
    );
}

#[tokio::test]
async fn more_than_500_queries_are_split_into_requests_of_500() {
    let moto = MotoAccount::seeded("mx", &["--minimal"]);
    let (start, end) =
        honban::update::metric_window(chrono::Utc::now(), honban::metrics::MetricRange::Hour);
    put_web_cpu(&moto, "mx", end, &[(10, 12.5), (5, 30.0)]);
    let b = moto.backend().await;
    // 501 queries: the web CPU first and last, services without data between.
    let queries: Vec<_> = (0..501)
        .map(|i| {
            let service = if i == 0 || i == 500 {
                "web".to_string()
            } else {
                format!("svc-{i}")
            };
            honban::domain::MetricQuery {
                id: format!("m{i}"),
                namespace: "AWS/ECS".to_string(),
                name: "CPUUtilization".to_string(),
                dimensions: vec![
                    ("ClusterName".to_string(), "mx".to_string()),
                    ("ServiceName".to_string(), service),
                ],
                statistic: "Average".to_string(),
                period_seconds: 60,
            }
        })
        .collect();
    moto.reset_counts();
    let series = b
        .metric_data(&queries, start, end)
        .await
        .expect("the proxy refuses more than 500 queries in one request");
    assert_eq!(moto.count("cloudwatch:GetMetricData"), 2, "500 + 1");
    assert_eq!(series.len(), 501);
    let minute = |ago: i64| end - chrono::TimeDelta::minutes(ago);
    let put = vec![(minute(10), 12.5), (minute(5), 30.0)];
    assert_eq!(series[0].id, "m0");
    assert_eq!(series[0].points, put, "from the first request");
    assert_eq!(series[500].id, "m500");
    assert_eq!(series[500].points, put, "from the second request");
    assert!(series[1..500].iter().all(|s| s.points.is_empty()));
}

#[tokio::test]
async fn the_console_charts_what_was_put_with_one_request_per_refresh_and_triages_an_alarm() {
    let moto = MotoAccount::seeded("works-logue-prod", &[]);
    let (_, end) =
        honban::update::metric_window(chrono::Utc::now(), honban::metrics::MetricRange::Hour);
    put_web_cpu(
        &moto,
        "works-logue-prod",
        end,
        &[(30, 20.0), (20, 35.0), (3, 91.0), (2, 93.0)],
    );
    moto.reset_counts();
    let mut c = moto.console(moto.env("production")).await;
    // Every panel loaded: one GetMetricData for everything.
    assert_eq!(moto.count("cloudwatch:GetMetricData"), 1);
    let data = c.app.state.envs[0].metrics.data.clone().expect("metrics");
    let cpu = data
        .service_cpu("works-logue-prod", "web")
        .expect("web CPU queried");
    assert_eq!(cpu.points.len(), 4, "{:?}", cpu.points);
    assert_eq!(cpu.points.last().map(|p| p.1), Some(93.0));
    assert!(
        data.queries.iter().any(|q| q.namespace == "AWS/RDS"),
        "the databases are in the same request"
    );

    // A poller tick: exactly one more request, whatever is on screen.
    c.app.dispatch(Action::PollDue {
        env: 0,
        resource: Resource::Metrics,
    });
    c.app.settle().await;
    assert_eq!(moto.count("cloudwatch:GetMetricData"), 2);

    // The services table draws the trend and the latest value.
    press(&mut c.app, KeyCode::Char('2'));
    let s = screen(&c.app, 160, 48);
    assert!(s.contains("93%"), "{s}");

    // Alarm triage: the alarm, its chart, its history (moto has none: a
    // panel state), and enter to the service.
    let alarm = "works-logue-prod-web-cpu-high";
    select(&mut c.app, '5', alarm).await;
    press(&mut c.app, KeyCode::Enter);
    c.app.settle().await;
    assert_eq!(
        c.app.state.view(),
        &honban::state::View::AlarmDetail {
            alarm: alarm.to_string()
        }
    );
    let history = &c.app.state.envs[0].alarm_history[alarm];
    assert!(history.error().is_some(), "{:?}", history.load);
    let s = screen(&c.app, 160, 48);
    assert!(s.contains("history not available from this server"), "{s}");
    assert!(s.contains("threshold 80%"), "{s}");
    assert!(s.contains("93%"), "the chart's latest value: {s}");
    press(&mut c.app, KeyCode::Enter);
    c.app.settle().await;
    assert_eq!(
        c.app.state.view(),
        &honban::state::View::ServiceDetail {
            service: "web".to_string()
        }
    );
    let s = screen(&c.app, 160, 48);
    assert!(s.contains("CPU · last 1h"), "{s}");
}
