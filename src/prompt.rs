//! Editing a one-line prompt: the keys every prompt of the console shares
//! (the command line, filters, dialog values, typed confirmations, the logs
//! view's pattern and time), after readline's habits.
//!
//! The cursor is kept as the number of characters between it and the end
//! of the text (`back`), so that a prompt opened with a value (a prefilled
//! count) starts with the cursor at its end. Only one prompt is open at a
//! time: [`State::prompt_back`](crate::state::State::prompt_back) holds it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The most characters any prompt holds.
pub const MAX_CHARS: usize = 300;

/// What a key did to the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// The text changed.
    Changed,
    /// Only the cursor moved.
    Moved,
    /// Not an editing key (enter, esc, tab, arrows up and down, …): the
    /// prompt's owner decides.
    NotAnEdit,
}

/// Applies `key` to `text` with the cursor `back` characters from its end.
///
/// Characters insert at the cursor (up to [`MAX_CHARS`]); backspace and
/// delete remove around it; left/right, home/end (and ctrl-a/ctrl-e) move
/// it; ctrl-u deletes to the start, ctrl-k to the end; ctrl-w and
/// alt-backspace delete the word before the cursor.
pub fn edit(text: &mut String, back: &mut usize, key: &KeyEvent) -> Edit {
    let len = text.chars().count();
    *back = (*back).min(len);
    let at = len - *back;
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    match key.code {
        KeyCode::Char('a') if ctrl => move_to(back, len),
        KeyCode::Char('e') if ctrl => move_to(back, 0),
        KeyCode::Char('u') if ctrl => remove(text, 0, at),
        KeyCode::Char('k') if ctrl => {
            let edit = remove(text, at, len);
            *back = 0;
            edit
        }
        KeyCode::Char('w') if ctrl => remove(text, word_start(text, at), at),
        KeyCode::Backspace if alt || ctrl => remove(text, word_start(text, at), at),
        KeyCode::Char(_) if ctrl || alt => Edit::NotAnEdit,
        KeyCode::Char(c) => {
            if len >= MAX_CHARS || c.is_control() {
                return Edit::NotAnEdit;
            }
            let byte = byte_index(text, at);
            text.insert(byte, c);
            Edit::Changed
        }
        KeyCode::Backspace if at > 0 => remove(text, at - 1, at),
        KeyCode::Backspace => Edit::Moved,
        KeyCode::Delete if *back > 0 => {
            let edit = remove(text, at, at + 1);
            *back -= 1;
            edit
        }
        KeyCode::Delete => Edit::Moved,
        KeyCode::Left => move_to(back, (*back + 1).min(len)),
        KeyCode::Right => move_to(back, back.saturating_sub(1)),
        KeyCode::Home => move_to(back, len),
        KeyCode::End => move_to(back, 0),
        _ => Edit::NotAnEdit,
    }
}

/// Inserts `s` at the cursor, as much as fits [`MAX_CHARS`]; returns how
/// many characters went in.
pub fn insert_str(text: &mut String, back: usize, s: &str) -> usize {
    let len = text.chars().count();
    let at = len - back.min(len);
    let room = MAX_CHARS.saturating_sub(len);
    let taken: String = s.chars().take(room).collect();
    let n = taken.chars().count();
    text.insert_str(byte_index(text, at), &taken);
    n
}

/// The text before and after the cursor (for drawing it).
pub fn split(text: &str, back: usize) -> (&str, &str) {
    let len = text.chars().count();
    let at = len - back.min(len);
    text.split_at(byte_index(text, at))
}

fn move_to(back: &mut usize, to: usize) -> Edit {
    *back = to;
    Edit::Moved
}

/// Removes characters `from..to` (character indices).
fn remove(text: &mut String, from: usize, to: usize) -> Edit {
    if from >= to {
        return Edit::Moved;
    }
    let a = byte_index(text, from);
    let b = byte_index(text, to);
    text.replace_range(a..b, "");
    Edit::Changed
}

/// Where the word before character `at` starts (blanks before it skipped),
/// as readline's ctrl-w.
fn word_start(text: &str, at: usize) -> usize {
    let chars: Vec<char> = text.chars().take(at).collect();
    let mut i = chars.len();
    while i > 0 && chars[i - 1].is_whitespace() {
        i -= 1;
    }
    while i > 0 && !chars[i - 1].is_whitespace() {
        i -= 1;
    }
    i
}

fn byte_index(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    /// Types `keys` into `start` (cursor at its end); returns the text and
    /// the text before the cursor.
    fn run(start: &str, keys: &[KeyEvent]) -> (String, String) {
        let mut text = start.to_string();
        let mut back = 0;
        for key in keys {
            edit(&mut text, &mut back, key);
        }
        let before = split(&text, back).0.to_string();
        (text, before)
    }

    #[test]
    fn characters_insert_at_the_cursor() {
        let (text, before) = run("image:tg", &[k(KeyCode::Left), k(KeyCode::Char('a'))]);
        assert_eq!(text, "image:tag");
        assert_eq!(before, "image:ta");
    }

    #[test]
    fn home_end_and_readline_moves() {
        let (text, before) = run("web", &[k(KeyCode::Home), k(KeyCode::Char('>'))]);
        assert_eq!((text.as_str(), before.as_str()), (">web", ">"));
        let (_, before) = run("web", &[ctrl('a'), ctrl('e')]);
        assert_eq!(before, "web");
        let (_, before) = run("web", &[k(KeyCode::Home), k(KeyCode::End)]);
        assert_eq!(before, "web");
        let (_, before) = run("web", &[k(KeyCode::Right), k(KeyCode::Left)]);
        assert_eq!(before, "we", "right at the end stays");
    }

    #[test]
    fn ctrl_u_k_w_and_alt_backspace_delete() {
        assert_eq!(run("production/web", &[ctrl('u')]).0, "");
        assert_eq!(
            run("svc:web status:x", &[k(KeyCode::Left), ctrl('u')]).0,
            "x"
        );
        assert_eq!(run("svc:web  status:x", &[ctrl('w')]).0, "svc:web  ");
        assert_eq!(run("svc:web status:x ", &[ctrl('w')]).0, "svc:web ");
        let alt = KeyEvent::new(KeyCode::Backspace, KeyModifiers::ALT);
        assert_eq!(run("a b", &[alt]).0, "a ");
        assert_eq!(
            run("abc", &[k(KeyCode::Home), k(KeyCode::Right), ctrl('k')]),
            ("a".to_string(), "a".to_string())
        );
    }

    #[test]
    fn backspace_and_delete_around_the_cursor() {
        let (text, before) = run("abc", &[k(KeyCode::Left), k(KeyCode::Backspace)]);
        assert_eq!((text.as_str(), before.as_str()), ("ac", "a"));
        let (text, before) = run("abc", &[k(KeyCode::Home), k(KeyCode::Delete)]);
        assert_eq!((text.as_str(), before.as_str()), ("bc", ""));
        assert_eq!(run("", &[k(KeyCode::Backspace), k(KeyCode::Delete)]).0, "");
    }

    #[test]
    fn multibyte_text_is_edited_by_characters() {
        let (text, _) = run("本番x", &[k(KeyCode::Left), k(KeyCode::Backspace)]);
        assert_eq!(text, "本x");
    }

    #[test]
    fn the_length_is_capped_and_control_keys_are_not_edits() {
        let mut text = "x".repeat(MAX_CHARS);
        let mut back = 0;
        assert_eq!(
            edit(&mut text, &mut back, &k(KeyCode::Char('y'))),
            Edit::NotAnEdit
        );
        assert_eq!(text.len(), MAX_CHARS);
        assert_eq!(edit(&mut text, &mut back, &ctrl('r')), Edit::NotAnEdit);
        assert_eq!(
            edit(&mut text, &mut back, &k(KeyCode::Enter)),
            Edit::NotAnEdit
        );
        let mut short = "ab".to_string();
        assert_eq!(insert_str(&mut short, 1, "XYZ"), 3);
        assert_eq!(short, "aXYZb");
    }
}
