//! Reducer tests of sorting (keys, `:sort`, the highlight kept across a
//! re-sort), the service detail's filter, `:tasks NAME` and the help's
//! scrolling.

use super::*;
use crate::domain::{ServiceEvent, Task};

fn shift(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::SHIFT))
}

fn command(s: &mut State, text: &str) {
    press(s, key(':'));
    typed(s, text);
    press(s, code(KeyCode::Enter));
}

/// api (nothing pending), web (2 pending), worker (1 pending).
fn services() -> Vec<Service> {
    let mut v = vec![
        service("api", 7, 2, 2),
        service("web", 42, 2, 2),
        service("worker", 3, 2, 2),
    ];
    v[1].pending_count = 2;
    v[2].pending_count = 1;
    v
}

fn names(s: &State) -> Vec<String> {
    s.visible_services()
        .iter()
        .map(|x| x.name.clone())
        .collect()
}

fn highlighted(s: &State) -> String {
    names(s)[s.selected(s.view().kind())].clone()
}

#[track_caller]
fn assert_flash(s: &State, text: &str) {
    assert!(
        s.flash.as_ref().is_some_and(|f| f.text.contains(text)),
        "{:?}",
        s.flash
    );
}

#[test]
fn shift_and_a_letter_sorts_again_flips_and_the_highlight_stays_on_its_service() {
    let mut s = state();
    load_services(&mut s, services());
    update(&mut s, Action::Command(Command::Services));
    press(&mut s, key('j'));
    assert_eq!(highlighted(&s), "web");
    // D is PEND's letter (C continues a blue/green deployment, so CPU
    // took P; E opens the Redis view): ascending.
    press(&mut s, shift('D'));
    assert_eq!(names(&s), ["api", "worker", "web"]);
    assert_eq!(highlighted(&s), "web", "the highlight follows web to row 3");
    assert_eq!(s.selected(ViewKind::Services), 2);
    assert_flash(&s, "sorted by PEND ascending");
    // Again: descending.
    press(&mut s, shift('D'));
    assert_eq!(names(&s), ["web", "worker", "api"]);
    assert_eq!(highlighted(&s), "web");
    assert_eq!(
        s.sort(ViewKind::Services),
        Some(crate::sort::Sort {
            column: "PEND",
            descending: true
        })
    );
    // A key acts on the highlighted service, not on what is now in its
    // old row.
    press(&mut s, key('r'));
    match &s.mode {
        Mode::Dialog(Dialog::Confirm { op, .. }) => assert_eq!(op.resource(), "web"),
        other => panic!("expected the restart confirmation, got {other:?}"),
    }
}

#[test]
fn a_refresh_after_a_sort_keeps_the_order_and_the_highlight() {
    let mut s = state();
    load_services(&mut s, services());
    update(&mut s, Action::Command(Command::Services));
    press(&mut s, shift('D'));
    press(&mut s, key('G'));
    assert_eq!(highlighted(&s), "web");
    // worker's pending count grows past web's: it sorts last, web stays
    // highlighted one row up.
    let mut fresh = services();
    fresh[2].pending_count = 5;
    load_services(&mut s, fresh);
    assert_eq!(names(&s), ["api", "web", "worker"]);
    assert_eq!(highlighted(&s), "web");
}

#[test]
fn a_bound_letter_keeps_its_command_and_sort_is_kept_per_view() {
    let mut s = state();
    load_services(&mut s, services());
    update(&mut s, Action::Command(Command::Services));
    // N is the note (NAME sorts on M).
    press(&mut s, shift('N'));
    assert!(matches!(&s.mode, Mode::Command { input } if input == "note "));
    press(&mut s, code(KeyCode::Esc));
    press(&mut s, shift('M'));
    press(&mut s, shift('M'));
    assert_eq!(names(&s), ["worker", "web", "api"]);
    // Another view has its own order; coming back finds this one.
    update(&mut s, Action::Command(Command::Tasks));
    assert_eq!(s.sort(ViewKind::Tasks), None);
    update(&mut s, Action::Command(Command::Services));
    assert_eq!(names(&s), ["worker", "web", "api"]);
    // The overview's table is another view.
    update(&mut s, Action::Command(Command::Overview));
    assert_eq!(names(&s), ["api", "web", "worker"]);
}

#[test]
fn the_sort_command_names_a_column_and_an_order_or_resets() {
    let mut s = state();
    load_services(&mut s, services());
    update(&mut s, Action::Command(Command::Services));
    // `o` opens the prompt; tab completes the view's columns.
    press(&mut s, key('o'));
    assert!(matches!(&s.mode, Mode::Command { input } if input == "sort "));
    typed(&mut s, "task");
    press(&mut s, code(KeyCode::Tab));
    assert!(matches!(&s.mode, Mode::Command { input } if input == "sort task-def"));
    typed(&mut s, " desc");
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(names(&s), ["worker", "web", "api"]);
    assert_flash(&s, "sorted by TASK DEF descending");
    command(&mut s, "sort asc");
    assert_eq!(names(&s), ["api", "web", "worker"]);
    assert_flash(&s, "TASK DEF ascending");
    command(&mut s, "sort pend desc");
    assert_eq!(names(&s), ["web", "worker", "api"]);
    command(&mut s, "sort");
    assert_eq!(s.sort(ViewKind::Services), None);
    assert_flash(&s, "default order");
    command(&mut s, "sort colour");
    assert_flash(
        &s,
        "no column \"colour\" to sort by here: columns are name health",
    );
    assert_eq!(s.sort(ViewKind::Services), None);
    update(&mut s, Action::Command(Command::Activity));
    command(&mut s, "sort name");
    assert_flash(&s, "this view has no table to sort");
}

fn task(id: &str, service: &str, last: &str, reason: Option<&str>) -> Task {
    Task {
        arn: format!("arn:aws:ecs:ap-northeast-1:1:task/prod/{id}"),
        cluster_arn: "arn:aws:ecs:ap-northeast-1:1:cluster/prod".into(),
        task_definition: format!("arn:aws:ecs:ap-northeast-1:1:task-definition/{service}:1"),
        group: Some(format!("service:{service}")),
        last_status: last.into(),
        desired_status: last.into(),
        health_status: "HEALTHY".into(),
        availability_zone: Some("ap-northeast-1a".into()),
        launch_type: None,
        cpu: None,
        memory: None,
        created_at: Some(t0()),
        started_at: Some(t0()),
        stopped_at: None,
        stop_code: reason.map(|_| "EssentialContainerExited".to_string()),
        stopped_reason: reason.map(str::to_string),
        stopping_at: None,
        platform_version: None,
        private_ip: None,
        eni: None,
        containers: Vec::new(),
        enable_execute_command: false,
    }
}

/// web with two running tasks and a stopped one, and two events.
fn on_web_detail() -> State {
    let mut s = state();
    let mut svcs = services();
    svcs[1].events = vec![
        ServiceEvent {
            id: "e1".into(),
            created_at: t0(),
            message: "(service web) has reached a steady state.".into(),
        },
        ServiceEvent {
            id: "e2".into(),
            created_at: t0(),
            message: "(service web) has stopped 1 running tasks".into(),
        },
    ];
    load_services(&mut s, svcs);
    s.envs[0].tasks.data = Some(vec![
        task("aaaa1111", "web", "RUNNING", None),
        task("bbbb2222", "web", "RUNNING", None),
        task(
            "cccc3333",
            "web",
            "STOPPED",
            Some("Essential container exited"),
        ),
        task("dddd4444", "api", "RUNNING", None),
    ]);
    update(&mut s, Action::Command(Command::Services));
    command(&mut s, "sort name");
    let row = names(&s).iter().position(|n| n == "web").expect("web");
    s.select_row(row);
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(
        s.view(),
        &View::ServiceDetail {
            service: "web".into()
        }
    );
    s
}

fn detail_tasks(s: &State) -> Vec<String> {
    s.visible_service_tasks("web")
        .iter()
        .map(|t| t.id().to_string())
        .collect()
}

fn detail_events(s: &State) -> usize {
    let f = crate::state::Filter::parse(s.filter(ViewKind::ServiceDetail));
    s.service("web").map_or(0, |x| {
        x.events
            .iter()
            .filter(|e| f.matches_event_message(&e.message))
            .count()
    })
}

#[test]
fn the_service_details_filter_narrows_its_tasks_and_its_events() {
    let mut s = on_web_detail();
    assert_eq!(detail_tasks(&s).len(), 3);
    assert_eq!(s.row_count(), 3);
    // A word: the stopped task (its status) and the event that says so.
    press(&mut s, key('/'));
    typed(&mut s, "stopped");
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(detail_tasks(&s), ["cccc3333"]);
    assert_eq!(s.row_count(), 1);
    assert_eq!(detail_events(&s), 1);
    // A task field filters the tasks only; `event:` the events only.
    press(&mut s, key('/'));
    typed(&mut s, "status:running");
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(detail_tasks(&s), ["aaaa1111", "bbbb2222"]);
    assert_eq!(detail_events(&s), 2);
    press(&mut s, key('/'));
    typed(&mut s, "event:steady");
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(detail_tasks(&s).len(), 3);
    assert_eq!(detail_events(&s), 1);
    // Negation, and an unknown field names the fields (events' too).
    press(&mut s, key('/'));
    typed(&mut s, "!stopped");
    press(&mut s, code(KeyCode::Enter));
    assert_eq!(detail_tasks(&s), ["aaaa1111", "bbbb2222"]);
    assert_eq!(detail_events(&s), 1);
    press(&mut s, key('/'));
    typed(&mut s, "colour:red");
    assert_flash(&s, "unknown filter field \"colour\"");
    assert_flash(&s, "event message");
    press(&mut s, code(KeyCode::Esc));
    assert_eq!(detail_tasks(&s).len(), 3);
    // The filter belongs to the detail: the services view has none.
    assert!(!s.filters.contains_key(&ViewKind::Services));
}

#[test]
fn the_service_details_tasks_sort_and_keep_their_highlight() {
    let mut s = on_web_detail();
    // Running first by default; the stopped task highlighted.
    press(&mut s, key('G'));
    assert_eq!(
        detail_tasks(&s)[s.selected(ViewKind::ServiceDetail)],
        "cccc3333"
    );
    // T sorts by the task id, descending on the second press.
    press(&mut s, shift('T'));
    press(&mut s, shift('T'));
    assert_eq!(detail_tasks(&s), ["cccc3333", "bbbb2222", "aaaa1111"]);
    assert_eq!(s.selected(ViewKind::ServiceDetail), 0, "still cccc3333");
    // enter opens the highlighted task.
    press(&mut s, code(KeyCode::Enter));
    assert!(matches!(s.view(), View::TaskDetail { task } if task.ends_with("cccc3333")));
}

#[test]
fn tasks_of_a_service_that_is_not_there_says_so() {
    let mut s = state();
    load_services(&mut s, services());
    command(&mut s, "tasks nosuch");
    assert_flash(
        &s,
        "no service \"nosuch\" in production; services: api, web, worker",
    );
    assert_eq!(s.view(), &View::Overview, "nothing opened");
    command(&mut s, "tasks web");
    assert_eq!(s.view(), &View::Tasks);
    assert_eq!(
        s.filters.get(&ViewKind::Tasks).map(String::as_str),
        Some("svc:web")
    );
}

#[test]
fn help_scrolls_when_it_does_not_fit_and_other_keys_close_it() {
    let mut s = state();
    update(&mut s, Action::Resize(80, 15));
    press(&mut s, key('?'));
    let max = crate::ui::help_max_scroll(&s);
    assert!(max > 0, "80×15 cannot show the whole help");
    press(&mut s, key('j'));
    assert_eq!(s.help_scroll, 1);
    assert_eq!(s.mode, Mode::Help, "j scrolls, it does not close");
    press(&mut s, key('G'));
    assert_eq!(s.help_scroll, max);
    press(&mut s, key('j'));
    assert_eq!(s.help_scroll, max, "not past the end");
    press(&mut s, key('k'));
    assert_eq!(s.help_scroll, max - 1);
    // A page is the terminal's height less the frame (15 - 8 rows).
    press(&mut s, code(KeyCode::PageUp));
    assert_eq!(s.help_scroll, (max - 1).saturating_sub(7));
    press(&mut s, key('g'));
    assert_eq!(s.help_scroll, 0);
    press(&mut s, code(KeyCode::Esc));
    assert_eq!(s.mode, Mode::Normal);
    // Opened again: from the top. A tall terminal shows it all.
    update(&mut s, Action::Resize(160, 48));
    press(&mut s, key('?'));
    assert_eq!(s.help_scroll, 0);
    assert_eq!(crate::ui::help_max_scroll(&s), 0);
    // It fits: j is any key, and closes it, as the title says.
    press(&mut s, key('j'));
    assert_eq!(s.help_scroll, 0);
    assert_eq!(s.mode, Mode::Normal);
}
