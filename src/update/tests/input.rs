//! Reducer tests of selection by identity, type-ahead into confirmations
//! and pastes.

use super::*;

/// The flash message says `text`.
#[track_caller]
fn assert_flash(s: &State, text: &str) {
    assert!(
        s.flash.as_ref().is_some_and(|f| f.text.contains(text)),
        "{:?}",
        s.flash
    );
}

/// The name of the service the current view has highlighted.
fn highlighted(s: &State) -> String {
    let rows = s.visible_services();
    rows[s.selected(s.view().kind())].name.clone()
}

fn three_ok() -> Vec<Service> {
    vec![
        service("api", 7, 2, 2),
        service("web", 42, 2, 2),
        service("worker", 3, 2, 2),
    ]
}

#[test]
fn the_highlight_follows_the_service_when_it_sorts_to_the_top() {
    let mut s = state();
    load_services(&mut s, three_ok());
    update(&mut s, Action::Command(Command::Services));
    press(&mut s, key('j'));
    assert_eq!(highlighted(&s), "web");
    // web turns degraded and sorts first: the highlight moves with it.
    let mut services = three_ok();
    services[1].running_count = 1;
    services[1].deployments[0].running_count = 1;
    load_services(&mut s, services);
    assert_eq!(s.visible_services()[0].name, "web", "web sorts first");
    assert_eq!(highlighted(&s), "web");
    // And `r` restarts web, not the service now in row 2.
    press(&mut s, key('r'));
    match &s.mode {
        Mode::Dialog(Dialog::Confirm { op, .. }) => assert_eq!(op.resource(), "web"),
        other => panic!("expected the restart confirmation, got {other:?}"),
    }
}

#[test]
fn a_vanished_selection_keeps_its_place_and_refuses_to_retarget() {
    let mut s = state();
    load_services(&mut s, three_ok());
    update(&mut s, Action::Command(Command::Services));
    press(&mut s, key('j'));
    assert_eq!(highlighted(&s), "web");
    // web disappears from the listing.
    let services = vec![service("api", 7, 2, 2), service("worker", 3, 2, 2)];
    load_services(&mut s, services);
    assert_eq!(s.selected(ViewKind::Services), 1, "the position is kept");
    assert_flash(&s, "web is no longer listed");
    // An operation key does not act on worker, now under the highlight.
    let effects = press(&mut s, key('r'));
    assert!(effects.is_empty());
    assert_eq!(s.mode, Mode::Normal, "no dialog opened");
    assert_flash(&s, "web is no longer listed");
    // Moving the selection selects a resource again.
    press(&mut s, key('k'));
    press(&mut s, key('j'));
    assert_eq!(highlighted(&s), "worker");
    press(&mut s, key('r'));
    match &s.mode {
        Mode::Dialog(Dialog::Confirm { op, .. }) => assert_eq!(op.resource(), "worker"),
        other => panic!("expected the restart confirmation, got {other:?}"),
    }
}

#[test]
fn a_vanished_selection_that_comes_back_is_selected_again() {
    let mut s = state();
    load_services(&mut s, three_ok());
    update(&mut s, Action::Command(Command::Services));
    press(&mut s, key('j'));
    load_services(&mut s, vec![service("api", 7, 2, 2)]);
    assert!(s.selection_lost.is_some());
    load_services(&mut s, three_ok());
    assert_eq!(s.selection_lost, None);
    assert_eq!(highlighted(&s), "web");
}

#[test]
fn a_filter_keeps_the_selected_service_while_it_matches() {
    let mut s = state();
    load_services(&mut s, three_ok());
    update(&mut s, Action::Command(Command::Services));
    press(&mut s, key('j'));
    press(&mut s, key('/'));
    typed(&mut s, "w");
    assert_eq!(highlighted(&s), "web", "web still matches 'w'");
    typed(&mut s, "o");
    assert_eq!(
        highlighted(&s),
        "worker",
        "web no longer matches: first row"
    );
    assert_eq!(
        s.selection_lost, None,
        "a filter is not a vanished resource"
    );
}

#[test]
fn keys_typed_ahead_into_a_confirmation_are_dropped() {
    let mut s = state();
    s.envs[0].protected = false;
    load_services(&mut s, three_ok());
    update(&mut s, Action::Command(Command::Services));
    press(&mut s, key('r'));
    assert!(s.mode.is_confirmation());
    // The `y` arrives before the dialog was ever drawn.
    let effects = update(&mut s, key('y'));
    assert!(effects.is_empty(), "nothing is sent: {effects:?}");
    assert!(s.mode.is_confirmation(), "the confirmation stays open");
    assert_flash(&s, "before the confirmation could be read");
    // Once drawn, the answer counts.
    update(&mut s, Action::Drawn);
    let effects = update(&mut s, key('y'));
    assert_eq!(operations(&effects).len(), 1);
}

#[test]
fn a_burst_of_keys_never_answers_the_confirmation_it_opens() {
    // `s 0 ⏎ y` in one burst (no frame between): the value step opens the
    // confirmation, and the `y` behind it is dropped.
    let mut s = state();
    load_services(&mut s, three_ok());
    update(&mut s, Action::Command(Command::Services));
    let mut effects = Vec::new();
    for k in [
        key('s'),
        code(KeyCode::Backspace),
        key('0'),
        code(KeyCode::Enter),
    ] {
        effects.extend(update(&mut s, k));
    }
    effects.extend(update(&mut s, key('y')));
    effects.extend(update(&mut s, code(KeyCode::Enter)));
    assert!(operations(&effects).is_empty(), "{effects:?}");
    assert!(s.mode.is_confirmation());
}

#[test]
fn esc_typed_ahead_still_cancels() {
    let mut s = state();
    load_services(&mut s, three_ok());
    update(&mut s, Action::Command(Command::Services));
    press(&mut s, key('r'));
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.mode, Mode::Normal);
}

#[test]
fn a_paste_goes_into_the_prompt_capped() {
    let mut s = state();
    load_services(&mut s, three_ok());
    update(&mut s, Action::Command(Command::Services));
    press(&mut s, key('/'));
    update(&mut s, Action::Paste("web\n".into()));
    assert_eq!(
        s.mode,
        Mode::Filter {
            input: "web".into()
        }
    );
    assert_eq!(highlighted(&s), "web");
    // 5 000 characters: cut to the cap, with a message.
    press(&mut s, code(KeyCode::Esc));
    press(&mut s, key(':'));
    update(&mut s, Action::Paste("x".repeat(5_000)));
    match &s.mode {
        Mode::Command { input } => assert_eq!(input.chars().count(), PASTE_MAX_CHARS),
        other => panic!("expected the command line, got {other:?}"),
    }
    assert_flash(&s, "of 5000 characters");
}

#[test]
fn a_paste_outside_a_prompt_or_into_a_confirmation_is_ignored() {
    let mut s = state();
    load_services(&mut s, three_ok());
    update(&mut s, Action::Command(Command::Services));
    let effects = update(&mut s, Action::Paste("rrrr yyyy".into()));
    assert!(effects.is_empty());
    assert_eq!(s.mode, Mode::Normal);
    assert_flash(&s, "paste ignored");
    s.envs[0].protected = true;
    press(&mut s, key('r'));
    update(&mut s, Action::Drawn);
    update(&mut s, Action::Paste("web".into()));
    match &s.mode {
        Mode::Dialog(Dialog::Confirm { typed, .. }) => assert_eq!(typed, ""),
        other => panic!("expected the confirmation, got {other:?}"),
    }
}

#[test]
fn ctrl_c_quits_from_a_confirmation_whatever_was_typed_ahead() {
    let mut s = state();
    load_services(&mut s, three_ok());
    update(&mut s, Action::Command(Command::Services));
    press(&mut s, key('r'));
    let effects = update(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert!(s.quit);
    assert_eq!(effects, vec![Effect::Quit]);
}

#[test]
fn a_move_then_new_data_in_one_burst_keeps_the_row_moved_to() {
    let mut s = state();
    load_services(&mut s, three_ok());
    update(&mut s, Action::Command(Command::Services));
    // `j` and a refresh that re-sorts arrive before any frame.
    update(&mut s, key('j'));
    let mut services = three_ok();
    services[1].running_count = 1;
    services[1].deployments[0].running_count = 1;
    load_services(&mut s, services);
    assert_eq!(highlighted(&s), "web", "the row j moved to, re-sorted");
}

#[test]
fn prompts_edit_at_the_cursor_with_readline_keys() {
    let mut s = state();
    load_services(&mut s, three_ok());
    update(&mut s, Action::Command(Command::Services));
    let ctrl = |c| Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
    // The command line: a typo fixed in the middle.
    press(&mut s, key(':'));
    typed(&mut s, "tsks web");
    for _ in 0.." web".len() + 3 {
        press(&mut s, code(KeyCode::Left));
    }
    typed(&mut s, "a");
    assert_eq!(
        s.mode,
        Mode::Command {
            input: "tasks web".into()
        }
    );
    // ctrl-w deletes the word before the cursor, ctrl-u all before it.
    press(&mut s, code(KeyCode::End));
    press(&mut s, ctrl('w'));
    assert_eq!(
        s.mode,
        Mode::Command {
            input: "tasks ".into()
        }
    );
    press(&mut s, ctrl('u'));
    assert_eq!(
        s.mode,
        Mode::Command {
            input: String::new()
        }
    );
    press(&mut s, code(KeyCode::Esc));
    // A prefilled dialog value: home, then a digit before it.
    press(&mut s, key('s'));
    press(&mut s, code(KeyCode::Home));
    typed(&mut s, "1");
    match &s.mode {
        Mode::Dialog(Dialog::Input { input, .. }) => assert_eq!(input, "12"),
        other => panic!("expected the scale prompt, got {other:?}"),
    }
    // The next prompt starts with its cursor at the end.
    press(&mut s, code(KeyCode::Esc));
    press(&mut s, key('/'));
    typed(&mut s, "web");
    assert_eq!(s.prompt_back, 0);
    let alt_backspace = Action::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::ALT));
    press(&mut s, alt_backspace);
    assert_eq!(
        s.mode,
        Mode::Filter {
            input: String::new()
        }
    );
}
