//! The event loop and the headless driver used by tests.
//!
//! terminal events → `Action` → `update` → effects on tokio tasks → results
//! as `Action`s → draw from `&State` when something changed. The loop never
//! awaits the network: it only waits for the next event, result or tick.

use std::time::Duration;

use chrono::Utc;
use color_eyre::Result;
use crossterm::event::Event;
use ratatui::Terminal;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;

use crate::action::Action;
use crate::backend::sim::SimClock;
use crate::config::theme::Theme;
use crate::effect::Effect;
use crate::runner::{EnvRuntime, Runner, start_pollers};
use crate::state::State;
use crate::ui;
use crate::update::update;

/// Time between clock ticks (data ages on screen move by seconds).
const TICK: Duration = Duration::from_secs(1);
/// At most this many frames a second, however fast results and keys arrive.
const FRAME: Duration = Duration::from_millis(33);

/// How the interactive console ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The operator quit (or the terminal went away).
    Quit,
    /// A signal asked the process to end: its number (SIGHUP 1, SIGINT 2,
    /// SIGTERM 15). The caller restores the terminal and exits 128 + n.
    Signal(i32),
}

/// The signals that end the console cleanly: SIGTERM (a service manager,
/// `kill`), SIGHUP (the SSH session or terminal went away) and SIGINT
/// (`kill -INT`; ctrl-c in the console is a key). Installed just before
/// the terminal is taken over: until then their default action is right.
pub struct Signals {
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    /// Must be called within the tokio runtime.
    pub fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// The number of the next signal received.
    pub async fn recv(&mut self) -> i32 {
        tokio::select! {
            _ = self.hup.recv() => SIGHUP,
            _ = self.term.recv() => SIGTERM,
            _ = self.int.recv() => SIGINT,
        }
    }
}

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGTERM: i32 = 15;

/// After the terminal's input ends, how long a hang-up signal is waited
/// for (an SSH session that drops closes the terminal and sends SIGHUP,
/// in either order).
const HANGUP_GRACE: Duration = Duration::from_millis(200);

/// The next signal, or never without [`Signals`].
async fn next_signal(signals: Option<&mut Signals>) -> i32 {
    match signals {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

/// The console: state, the effect runner and the channel results come back on.
pub struct App {
    pub state: State,
    runner: Runner,
    tx: UnboundedSender<Action>,
    rx: UnboundedReceiver<Action>,
    /// Effects started whose results have not come back yet.
    pending: usize,
    signals: Option<Signals>,
}

impl App {
    /// `clock` stamps fetched data (the wall clock, or a manual one in tests).
    pub fn new(state: State, envs: Vec<EnvRuntime>, clock: SimClock) -> Self {
        let (tx, rx) = unbounded_channel();
        let runner = Runner::new(envs, tx.clone(), clock);
        Self {
            state,
            runner,
            tx,
            rx,
            pending: 0,
            signals: None,
        }
    }

    /// SIGTERM, SIGHUP and SIGINT end [`run`](Self::run) with
    /// [`Ended::Signal`].
    pub fn with_signals(mut self, signals: Signals) -> Self {
        self.signals = Some(signals);
        self
    }

    /// Operations are recorded in `audit` before they are sent. Without an
    /// audit log the console refuses to send any.
    pub fn with_audit(mut self, audit: std::sync::Arc<crate::audit::AuditLog>) -> Self {
        self.state.audit_path = Some(audit.path().display().to_string());
        let stream = crate::audit::stream_name(&self.state.session);
        self.runner.set_audit(audit, stream);
        self
    }

    /// Timeline events are appended to `recorder` (this session's
    /// recording).
    pub fn with_recorder(mut self, recorder: std::sync::Arc<crate::recording::Recorder>) -> Self {
        self.state.recording_path = Some(recorder.path().display().to_string());
        self.runner.set_recorder(recorder);
        self
    }

    /// Sets the deadline of a mutating request (tests shorten it; the
    /// default is [`MUTATION_TIMEOUT`](crate::backend::MUTATION_TIMEOUT)).
    pub fn set_mutation_timeout(&mut self, timeout: Duration) {
        self.runner.set_mutation_timeout(timeout);
    }

    /// Sets the pauses between reads back of an unanswered change that does
    /// not show yet (tests shorten them).
    pub fn set_read_back_pauses(&mut self, pauses: Vec<Duration>) {
        self.runner.set_read_back_pauses(pauses);
    }

    /// Applies an action and starts the effects it asks for.
    pub fn dispatch(&mut self, action: Action) {
        if matches!(
            action,
            Action::Loaded { .. }
                | Action::TaskDefinitionLoaded { .. }
                | Action::RevisionsLoaded { .. }
                | Action::OperationDone { .. }
                | Action::OutcomeAudited { .. }
                | Action::Reconciled { .. }
                | Action::ProbeDone { .. }
                // --- metrics
                | Action::AlarmHistoryLoaded { .. }
                // --- logs
                | Action::LogsLoaded { .. }
        ) {
            self.pending = self.pending.saturating_sub(1);
        }
        for effect in update(&mut self.state, action) {
            match effect {
                Effect::Quit => {}
                // Handed to the recorder; nothing comes back.
                Effect::Record { .. } => self.runner.spawn(effect),
                _ => {
                    self.pending += 1;
                    self.runner.spawn(effect);
                }
            }
        }
    }

    /// Waits until every effect started has delivered its result (tests).
    pub async fn settle(&mut self) {
        while self.pending > 0 {
            match self.rx.recv().await {
                Some(action) => self.dispatch(action),
                None => break,
            }
        }
    }

    /// Runs the interactive console on a terminal until the user quits or
    /// a signal ends it. The terminal is left as it is: the caller restores
    /// it.
    pub async fn run<B: ratatui::backend::Backend>(
        mut self,
        terminal: &mut Terminal<B>,
        theme: &Theme,
    ) -> Result<Ended>
    where
        B::Error: Send + Sync + 'static,
    {
        let cancel = CancellationToken::new();
        let result = self.event_loop(terminal, theme, &cancel).await;
        cancel.cancel();
        if let Ok(Ended::Signal(n)) = result {
            tracing::info!(signal = n, "ended by a signal");
        }
        result
    }

    async fn event_loop<B: ratatui::backend::Backend>(
        &mut self,
        terminal: &mut Terminal<B>,
        theme: &Theme,
        cancel: &CancellationToken,
    ) -> Result<Ended>
    where
        B::Error: Send + Sync + 'static,
    {
        let pollers: Vec<_> = self.runner_envs().into_iter().enumerate().collect();
        start_pollers(&pollers, &self.tx, cancel);
        crate::probe::start_probes(&self.state, &self.tx, cancel);

        let size = terminal.size()?;
        self.dispatch(Action::Resize(size.width, size.height));
        self.dispatch(Action::Tick(Utc::now()));
        // Intents of earlier sessions without a result are read back.
        self.dispatch(Action::Start);

        let mut events = spawn_input_reader();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_draw = tokio::time::Instant::now() - FRAME;

        while !self.state.quit {
            let next_frame = last_draw + FRAME;
            if self.state.dirty && tokio::time::Instant::now() >= next_frame {
                terminal.draw(|frame| ui::draw(frame, &self.state, theme))?;
                self.state.dirty = false;
                last_draw = tokio::time::Instant::now();
                // What is on screen now has been shown (a confirmation
                // starts accepting keys).
                self.dispatch(Action::Drawn);
                #[cfg(debug_assertions)]
                injected_panic();
                // An alarm fired where the bell is on: the frame shows which.
                if std::mem::take(&mut self.state.bell) {
                    ring_bell();
                }
                // `y` copied something: to the clipboard, through the terminal.
                if let Some(text) = self.state.clipboard.take() {
                    write_clipboard(&text);
                }
                continue;
            }
            // Keys are read and applied as they arrive, never one per frame:
            // a draw waits for the frame (bursts of results and keys
            // coalesce into one), input never waits for a draw.
            tokio::select! {
                biased;
                n = next_signal(self.signals.as_mut()) => return Ok(Ended::Signal(n)),
                event = events.recv() => {
                    if !self.on_event(event) {
                        return Ok(self.input_ended().await);
                    }
                    // Every event already waiting is applied before the next
                    // draw; ctrl-c stops it at once whatever is queued.
                    while !self.state.quit {
                        match events.try_recv() {
                            Ok(event) => {
                                if !self.on_event(Some(event)) {
                                    return Ok(self.input_ended().await);
                                }
                            }
                            Err(_) => break,
                        }
                    }
                }
                Some(action) = self.rx.recv() => {
                    self.dispatch(action);
                    self.drain();
                }
                _ = tick.tick() => self.dispatch(Action::Tick(Utc::now())),
                _ = tokio::time::sleep_until(next_frame), if self.state.dirty => {}
            }
        }
        Ok(Ended::Quit)
    }

    /// The terminal's input has ended: a hang-up that closed it is told
    /// from a plain end by the SIGHUP that comes with it.
    async fn input_ended(&mut self) -> Ended {
        if self.signals.is_none() {
            return Ended::Quit;
        }
        match tokio::time::timeout(HANGUP_GRACE, next_signal(self.signals.as_mut())).await {
            Ok(n) => Ended::Signal(n),
            Err(_) => Ended::Quit,
        }
    }

    /// Applies one terminal event; `false` when the terminal is gone.
    fn on_event(&mut self, event: Option<std::io::Result<Event>>) -> bool {
        match event {
            Some(Ok(Event::Key(key))) => self.dispatch(Action::Key(key)),
            Some(Ok(Event::Paste(text))) => self.dispatch(Action::Paste(text)),
            Some(Ok(Event::Resize(w, h))) => self.dispatch(Action::Resize(w, h)),
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                tracing::error!(error = %e, "terminal input failed");
                return false;
            }
            None => return false,
        }
        true
    }

    /// Applies every action already waiting (before the next draw; tests
    /// use it for results that come back outside [`settle`](Self::settle)).
    pub fn drain(&mut self) {
        while let Ok(action) = self.rx.try_recv() {
            self.dispatch(action);
        }
    }

    fn runner_envs(&self) -> Vec<crate::config::RefreshIntervals> {
        self.state.envs.iter().map(|e| e.intervals).collect()
    }
}

/// Reads terminal events on a thread of its own and hands them over as
/// they arrive, so that the loop can take every waiting one at once. The
/// thread ends with the process (it blocks in `read`), or when the loop
/// has gone and a send fails.
fn spawn_input_reader() -> UnboundedReceiver<std::io::Result<Event>> {
    let (tx, rx) = unbounded_channel();
    let spawned = std::thread::Builder::new()
        .name("honban-input".into())
        .spawn(move || {
            loop {
                let event = crossterm::event::read();
                let failed = event.is_err();
                if tx.send(event).is_err() || failed {
                    break;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the input thread");
    }
    rx
}

/// Sets the clipboard through the terminal (OSC 52; tmux passes it on with
/// `set-clipboard on`), written straight to it after a frame.
fn write_clipboard(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout();
    let seq = crate::clipboard::osc52(text);
    if let Err(e) = out.write_all(seq.as_bytes()).and_then(|()| out.flush()) {
        tracing::warn!(error = %e, "the clipboard could not be written");
    }
}

/// Rings the terminal bell (written straight to the terminal, after a
/// frame: ratatui draws only cells).
fn ring_bell() {
    use std::io::Write;
    let mut out = std::io::stdout();
    if let Err(e) = out.write_all(b"\x07").and_then(|()| out.flush()) {
        tracing::warn!(error = %e, "the bell could not be rung");
    }
}

/// Debug builds only, for the fault suite: `HONBAN_TEST_PANIC=after-draw`
/// panics in the event loop once a frame is drawn, outside any contained
/// task, to prove that the panic hook gives the terminal back. A release
/// build has no such switch.
#[cfg(debug_assertions)]
fn injected_panic() {
    if std::env::var_os("HONBAN_TEST_PANIC").is_some_and(|v| v == "after-draw") {
        panic!("injected by HONBAN_TEST_PANIC=after-draw (a test of the terminal's restoration)");
    }
}
