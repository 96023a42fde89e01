//! Panics inside the console's tasks are contained: a task that panics
//! (the SDK on a bad endpoint, a bug in a conversion) becomes an error
//! shown in the console, never a torn-down terminal mid-session.
//!
//! Effects run as [`contained`] futures on tokio tasks; the runner awaits
//! each task's `JoinHandle` and turns a panic (a `JoinError`) into the
//! effect's failure. The panic hook that `ratatui::init` installs restores
//! the terminal: [`contain_task_panics`] wraps it so that a panic raised
//! while a contained future is polled only logs, and every other panic
//! (the process going down) still restores the terminal and reports.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

thread_local! {
    /// Set while a contained future is polled (or a contained closure runs)
    /// on this thread: a panic now is caught and reported by the runner.
    static CONTAINED: Cell<bool> = const { Cell::new(false) };
}

/// Restores the flag when a poll ends, also when it unwinds.
struct Restore(bool);

impl Drop for Restore {
    fn drop(&mut self) {
        CONTAINED.set(self.0);
    }
}

/// A future whose panics the runner catches (see the module docs).
pub struct Contained<F> {
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for Contained<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _restore = Restore(CONTAINED.replace(true));
        self.inner.as_mut().poll(cx)
    }
}

/// Marks `fut` as one whose panics are caught by whoever awaits its task.
pub fn contained<F: Future>(fut: F) -> Contained<F> {
    Contained {
        inner: Box::pin(fut),
    }
}

/// Runs `f` marked like a contained future (for `spawn_blocking`).
pub fn contained_blocking<T>(f: impl FnOnce() -> T) -> T {
    let _restore = Restore(CONTAINED.replace(true));
    f()
}

/// Whether a panic on this thread now would be caught by the runner.
pub fn is_contained() -> bool {
    CONTAINED.get()
}

/// Wraps the current panic hook (ratatui's, which restores the terminal,
/// around color-eyre's report): a panic inside a contained task is logged
/// and left to the runner, which shows it as an error; any other panic
/// goes to the previous hook as before. Call it once, after the terminal
/// is set up.
pub fn contain_task_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if is_contained() {
            let location = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            tracing::error!(panic = %message(info.payload()), %location, "a task panicked; the console goes on");
        } else {
            previous(info);
        }
    }));
}

/// The text of a panic's payload.
pub fn message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// What a task that did not finish says: its panic's message, or that it
/// was cancelled.
pub fn join_error(e: tokio::task::JoinError) -> String {
    if e.is_panic() {
        let payload = e.into_panic();
        format!("internal error (a panic: {})", message(&*payload))
    } else {
        "internal error (the task was cancelled)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    #[allow(
        clippy::manual_assert,
        reason = "the panic under test, behind a condition only to keep the code after it reachable"
    )]
    async fn a_panic_in_a_contained_task_is_a_join_error_with_its_message() {
        let handle = tokio::spawn(contained(async {
            assert!(is_contained());
            if is_contained() {
                panic!("bad endpoint");
            }
            1
        }));
        let err = handle.await.expect_err("the task panicked");
        assert_eq!(join_error(err), "internal error (a panic: bad endpoint)");
        // The flag does not leak to what runs next on this thread.
        assert!(!is_contained());
        assert!(contained_blocking(is_contained));
        assert!(!is_contained());
    }
}
