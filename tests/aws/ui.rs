//! Driving the console by keys as an operator does, and reading back what
//! it shows and what it wrote to the audit log.

use crate::prelude::*;

/// A key pressed by an operator who reads the screen first: a frame is
/// drawn before it (so an open confirmation accepts it).
pub fn press(app: &mut App, code: KeyCode) {
    app.dispatch(Action::Drawn);
    app.dispatch(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

/// Opens a view by its key (`2` services, `4` databases, `5` alarms) and
/// moves the selection to the row named `name`, with keys.
pub async fn select(app: &mut App, view: char, name: &str) {
    press(app, KeyCode::Char(view));
    app.settle().await;
    let rows = |s: &State| -> Vec<String> {
        match view {
            '2' => s
                .visible_services()
                .iter()
                .map(|x| x.name.clone())
                .collect(),
            '4' => s.visible_databases().iter().map(|x| x.id.clone()).collect(),
            '5' => s.visible_alarms().iter().map(|x| x.name.clone()).collect(),
            _ => panic!("no view key {view}"),
        }
    };
    let names = rows(&app.state);
    let i = names
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("{name} not in {names:?}"));
    press(app, KeyCode::Char('g'));
    for _ in 0..i {
        press(app, KeyCode::Char('j'));
    }
    let s = &app.state;
    assert_eq!(
        rows(s).get(s.selected(s.view().kind())).map(String::as_str),
        Some(name)
    );
}

/// Opens the tasks view and moves to the task `arn`.
pub async fn select_task(app: &mut App, arn: &str) {
    press(app, KeyCode::Char('3'));
    app.settle().await;
    let arns: Vec<String> = app
        .state
        .visible_tasks()
        .iter()
        .map(|t| t.arn.clone())
        .collect();
    let i = arns
        .iter()
        .position(|a| a == arn)
        .unwrap_or_else(|| panic!("{arn} not in {arns:?}"));
    press(app, KeyCode::Char('g'));
    for _ in 0..i {
        press(app, KeyCode::Char('j'));
    }
}

/// Clears an input dialog's prefilled value.
pub fn clear_input(app: &mut App) {
    for _ in 0..32 {
        press(app, KeyCode::Backspace);
    }
}

pub fn is_normal(app: &App) -> bool {
    matches!(app.state.mode, Mode::Normal)
}

pub fn confirming(app: &App) -> Option<&Operation> {
    match &app.state.mode {
        Mode::Dialog(Dialog::Confirm { op, .. }) => Some(op),
        _ => None,
    }
}

/// The error line of the open confirmation ("" without one).
pub fn dialog_error(app: &App) -> String {
    match &app.state.mode {
        Mode::Dialog(Dialog::Confirm { error, .. } | Dialog::Rollback { error, .. }) => {
            error.clone().unwrap_or_default()
        }
        _ => String::new(),
    }
}

pub fn flash_text(app: &App) -> String {
    app.state
        .flash
        .as_ref()
        .map(|f| f.text.clone())
        .unwrap_or_default()
}

/// The last operation of the session.
pub fn last_activity(app: &App) -> &Activity {
    app.state.activity.last().expect("an operation was started")
}

pub fn accepted(a: &Activity) -> bool {
    matches!(a.status, OpStatus::Accepted { .. })
}

pub fn accepted_detail(a: &Activity) -> String {
    match &a.status {
        OpStatus::Accepted { detail, .. } => detail.clone(),
        other => panic!("expected {} accepted, it is {other:?}", a.op.title()),
    }
}

pub fn failed_with(a: &Activity) -> String {
    match &a.status {
        OpStatus::Failed { error, .. } => error.clone(),
        other => panic!("expected {} to fail, it is {other:?}", a.op.title()),
    }
}

pub fn screen(app: &App, w: u16, h: u16) -> String {
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).expect("terminal");
    let theme = honban::config::theme::load_theme("default", None, false).expect("theme");
    terminal
        .draw(|f| honban::ui::draw(f, &app.state, &theme))
        .expect("draw");
    let buf = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// The console drawn at 100×40, as text.
pub fn draw(app: &App) -> String {
    let theme = honban::config::theme::Theme::default();
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 40)).expect("terminal");
    terminal
        .draw(|f| honban::ui::draw(f, &app.state, &theme))
        .expect("draw");
    let buffer = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

pub fn audit_records(path: &std::path::Path) -> Vec<Record> {
    let (records, skipped) = AuditLog::new(path)
        .read_recent(1000)
        .expect("read audit log");
    assert_eq!(skipped, 0, "every audit line parses");
    records
}

/// The intent and result records of operation `id`: exactly two, intent
/// first, describing the same operation by the same caller; returns them.
/// (A final record, once the change was followed to its end, is checked by
/// the tests that wait for it.) Every record of a real environment says it
/// is not simulated.
pub fn audited(app: &App, path: &std::path::Path, id: &str) -> (Record, Record) {
    let records: Vec<Record> = audit_records(path)
        .into_iter()
        .filter(|r| r.id == id)
        .inspect(|r| assert!(!r.simulated, "a real environment: {r:?}"))
        .filter(|r| r.phase != Phase::Final)
        .collect();
    let [intent, result] = records.as_slice() else {
        panic!("expected an intent and a result for {id}: {records:?}");
    };
    assert_eq!(intent.phase, Phase::Intent);
    assert_eq!(intent.outcome, None, "an intent has no outcome yet");
    assert_eq!(result.phase, Phase::Result);
    assert!(result.outcome.is_some());
    assert!(intent.time <= result.time);
    let e = &app.state.envs[0];
    let identity = e.identity.data.as_ref().expect("caller identity loaded");
    for r in [intent, result] {
        assert_eq!(r.environment, e.name);
        assert_eq!(r.account.as_deref(), Some(identity.account.as_str()));
        assert_eq!(r.caller.as_deref(), Some(identity.arn.as_str()));
        assert_eq!(r.region.as_deref(), Some(REGION));
        assert!(!r.calls.is_empty());
    }
    for (a, b) in [
        (&intent.operation, &result.operation),
        (&intent.resource, &result.resource),
    ] {
        assert_eq!(a, b);
    }
    assert_eq!(intent.parameters, result.parameters);
    assert_eq!(intent.calls, result.calls);
    assert_eq!(intent.dry_run, result.dry_run);
    (intent.clone(), result.clone())
}

/// The result record of operation `id`, with its read-back.
pub fn read_back_of(path: &std::path::Path, id: &str) -> (Record, honban::reconcile::ReadBack) {
    let result = audit_records(path)
        .into_iter()
        .find(|r| r.id == id && r.phase == Phase::Result)
        .unwrap_or_else(|| panic!("no result record for {id}"));
    let rb = result
        .read_back
        .clone()
        .unwrap_or_else(|| panic!("the result of {id} was not read back: {result:?}"));
    (result, rb)
}

/// `n` operations of this session audited: an intent and a result each,
/// and at most one final record each (for those followed to their end by
/// now), every one of a real environment.
pub fn assert_only_intents_results_and_finals(app: &App, path: &std::path::Path, n: usize) {
    let records = audit_records(path);
    let finals: Vec<&Record> = records.iter().filter(|r| r.phase == Phase::Final).collect();
    assert_eq!(
        records.len() - finals.len(),
        2 * n,
        "an intent and a result each: {records:#?}"
    );
    for f in &finals {
        let a = app
            .state
            .activity
            .iter()
            .find(|a| a.id == f.id)
            .expect("a final record of this session's operation");
        let w = a.watch.as_ref().expect("followed");
        assert!(w.status.is_final(), "{f:?}");
        assert_eq!(f.ended.as_deref(), Some(w.status.word()), "{f:?}");
        assert!(!f.simulated, "{f:?}");
    }
    let mut ids: Vec<&str> = finals.iter().map(|f| f.id.as_str()).collect();
    ids.dedup();
    assert_eq!(
        ids.len(),
        finals.len(),
        "one final record each: {finals:#?}"
    );
}
