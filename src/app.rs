//! The event loop and the headless driver used by tests.
//!
//! terminal events → `Action` → `update` → effects on tokio tasks → results
//! as `Action`s → draw from `&State` when something changed. The loop never
//! awaits the network: it only waits for the next event, result or tick.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use color_eyre::Result;
use crossterm::event::Event;
use ratatui::Terminal;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;

use crate::action::Action;
use crate::clock::Clock;
use crate::config::theme::Theme;
use crate::exec::SessionEnd;
use crate::runner::{EnvRuntime, Runner, start_pollers};
use crate::state::{Mode, State};
use crate::ui;
use crate::update::update;

/// Time between clock ticks (data ages on screen move by seconds).
const TICK: Duration = Duration::from_secs(1);
/// At most this many frames a second, however fast results and keys arrive.
const FRAME: Duration = Duration::from_millis(33);
/// A confirmation accepts keys only once it has been on screen this long
/// (a key pressed sooner was on its way before the operator could read it)…
const CONFIRM_READ: Duration = Duration::from_millis(250);
/// …and no key has come for this long (a held or typed-ahead burst that
/// started before it was drawn is not an answer).
const CONFIRM_QUIET: Duration = Duration::from_millis(150);

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

    /// Drops the SIGINTs received so far: a ctrl-c typed while the
    /// terminal belonged to an ECS Exec session was meant for it.
    pub async fn discard_interrupts(&mut self) {
        while let Ok(Some(())) = tokio::time::timeout(Duration::ZERO, self.int.recv()).await {}
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
    /// Where the session-manager-plugin is looked for (`None`: `PATH`).
    plugin_search: Option<std::ffi::OsString>,
    /// This session's recording (the data loaded goes there).
    recorder: Option<std::sync::Arc<crate::recording::Recorder>>,
    /// The time of the clock ticks (sped up with the simulation's).
    clock: Clock,
}

impl App {
    /// `clock` stamps fetched data and gives the clock ticks their time
    /// (the wall clock, a manual one in tests, or the wall clock sped up
    /// with the simulation's).
    pub fn new(state: State, envs: Vec<EnvRuntime>, clock: Clock) -> Self {
        let (tx, rx) = unbounded_channel();
        let runner = Runner::new(envs, tx.clone(), clock.clone());
        Self {
            state,
            runner,
            tx,
            rx,
            pending: 0,
            signals: None,
            plugin_search: None,
            recorder: None,
            clock,
        }
    }

    /// SIGTERM, SIGHUP and SIGINT end [`run`](Self::run) with
    /// [`Ended::Signal`].
    #[must_use]
    pub fn with_signals(mut self, signals: Signals) -> Self {
        self.signals = Some(signals);
        self
    }

    /// Operations are recorded in `audit` before they are sent. Without an
    /// audit log the console refuses to send any.
    #[must_use]
    pub fn with_audit(mut self, audit: std::sync::Arc<crate::audit::AuditLog>) -> Self {
        self.state.audit_path = Some(audit.path().display().to_string());
        let stream = crate::audit::stream_name(&self.state.session);
        self.runner.set_audit(audit, stream);
        self
    }

    /// Timeline events are appended to `recorder` (this session's
    /// recording).
    #[must_use]
    pub fn with_recorder(mut self, recorder: std::sync::Arc<crate::recording::Recorder>) -> Self {
        self.state.recording_path = Some(recorder.path().display().to_string());
        self.runner.set_recorder(recorder.clone());
        self.recorder = Some(recorder);
        self
    }

    /// The simulation of a drill: `Effect::DrillCheck` asks it how the
    /// drill stands.
    #[must_use]
    pub fn with_drill(mut self, sim: std::sync::Arc<crate::backend::sim::SimBackend>) -> Self {
        self.runner.set_drill(sim);
        self
    }

    /// Sets the deadline of a mutating request (tests shorten it; the
    /// default is [`MUTATION_TIMEOUT`](crate::backend::MUTATION_TIMEOUT)).
    pub fn set_mutation_timeout(&mut self, timeout: Duration) {
        self.runner.set_mutation_timeout(timeout);
    }

    /// Looks for the session-manager-plugin in `search` (a `PATH`-style
    /// list) instead of `PATH` (tests).
    pub fn set_plugin_search(&mut self, search: std::ffi::OsString) {
        self.runner.set_plugin_search(search.clone());
        self.plugin_search = Some(search);
    }

    /// Sets the pauses between reads back of an unanswered change that does
    /// not show yet (tests shorten them).
    pub fn set_read_back_pauses(&mut self, pauses: Vec<Duration>) {
        self.runner.set_read_back_pauses(pauses);
    }

    /// Applies an action and starts the effects it asks for.
    pub fn dispatch(&mut self, action: Action) {
        if action.completes().is_some() {
            self.pending = self.pending.saturating_sub(1);
        }
        // The data this action brings is recorded as `update` will see it.
        if let Some(recorder) = &self.recorder
            && let Some(capture) = crate::recording::capture(&self.state, &action)
        {
            recorder.data(capture);
        }
        for effect in update(&mut self.state, action) {
            // Each answered effect gets one action that completes it
            // (`Action::completes`); `Quit` is the loop's own.
            if effect.is_answered() {
                self.pending += 1;
            }
            self.runner.spawn(effect);
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
        self.run_here(terminal, theme).await
    }

    /// [`run`](Self::run), keeping the app (a drill reads its state after).
    pub async fn run_here<B: ratatui::backend::Backend>(
        &mut self,
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
        crate::runner::start_probes(&self.state, &self.tx, cancel);

        let size = terminal.size()?;
        self.dispatch(Action::Resize(size.width, size.height));
        self.dispatch(Action::Tick(self.clock.now()));
        // Intents of earlier sessions without a result are read back.
        self.dispatch(Action::Start);

        let gate = Arc::new(InputGate::default());
        let mut events = spawn_input_reader(gate.clone());
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_draw = tokio::time::Instant::now() - FRAME;
        // A confirmation drawn but not yet accepting keys: since when, and
        // which one (another confirmation starts again).
        let mut unarmed: Option<(tokio::time::Instant, Mode)> = None;
        let mut last_key = tokio::time::Instant::now() - CONFIRM_QUIET;

        while !self.state.quit {
            let next_frame = last_draw + FRAME;
            if self.state.dirty && tokio::time::Instant::now() >= next_frame {
                terminal.draw(|frame| ui::draw(frame, &self.state, theme))?;
                self.state.dirty = false;
                last_draw = tokio::time::Instant::now();
                // What is on screen now has been shown; a confirmation
                // starts accepting keys only once it could have been read.
                if self.state.mode.is_confirmation() && !self.state.confirm_shown {
                    if unarmed.as_ref().is_none_or(|(_, m)| *m != self.state.mode) {
                        unarmed = Some((last_draw, self.state.mode.clone()));
                    }
                } else {
                    unarmed = None;
                    self.dispatch(Action::Drawn);
                }
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
                // An ECS Exec session is open: the terminal is its until
                // the plugin exits.
                if let Some(h) = self.state.handover.take() {
                    let id = h.id.clone();
                    let end = self.hand_over(&gate, h).await;
                    terminal.clear()?;
                    let size = terminal.size()?;
                    self.dispatch(Action::Resize(size.width, size.height));
                    self.dispatch(Action::ExecEnded { id, end });
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
                    if matches!(event, Some(Ok(Event::Key(_)))) {
                        last_key = tokio::time::Instant::now();
                    }
                    if !self.on_event(event) {
                        return Ok(self.input_ended().await);
                    }
                    // Every event already waiting is applied before the next
                    // draw; ctrl-c stops it at once whatever is queued.
                    while !self.state.quit {
                        match events.try_recv() {
                            Ok(event) => {
                                if matches!(event, Ok(Event::Key(_))) {
                                    last_key = tokio::time::Instant::now();
                                }
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
                _ = tick.tick() => self.dispatch(Action::Tick(self.clock.now())),
                () = tokio::time::sleep_until(next_frame), if self.state.dirty => {}
                () = tokio::time::sleep_until(armed_at(unarmed.as_ref(), last_key)), if unarmed.is_some() => {
                    if let Some((since, mode)) = unarmed.take()
                        && self.state.mode == mode
                        && !self.state.confirm_shown
                    {
                        if tokio::time::Instant::now() >= armed_at(Some(&(since, mode.clone())), last_key) {
                            // Read long enough, no burst behind it: keys answer.
                            self.dispatch(Action::Drawn);
                        } else {
                            unarmed = Some((since, mode));
                        }
                    }
                }
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

    /// Hands the terminal to the `session-manager-plugin` of an ECS Exec
    /// session and takes it back when the plugin exits: the input thread
    /// stops reading the terminal (the plugin's keystrokes are its own),
    /// raw mode and the alternate screen are left, signals a user types
    /// (ctrl-c, ctrl-\\, ctrl-z) go to the plugin and not to the console,
    /// then everything is put back as it was.
    async fn hand_over(&mut self, gate: &InputGate, h: crate::exec::Handover) -> SessionEnd {
        use crossterm::{cursor, event, execute, terminal};
        use tokio::signal::unix::{SignalKind, signal};
        gate.pause();
        let mut out = std::io::stdout();
        let _ = execute!(
            out,
            event::DisableBracketedPaste,
            terminal::LeaveAlternateScreen,
            cursor::Show
        );
        let _ = terminal::disable_raw_mode();
        // Held for the session: these signals no longer end or stop the
        // console (the plugin gets them, as with the AWS CLI).
        let held: Vec<_> = [
            SignalKind::interrupt(),
            SignalKind::quit(),
            SignalKind::from_raw(libc::SIGTSTP),
        ]
        .into_iter()
        .filter_map(|k| signal(k).ok())
        .collect();
        {
            use std::io::Write;
            let _ = writeln!(
                out,
                "honban: ECS Exec — {} in {} of task {} ({}); the console comes back when it exits",
                h.command,
                h.session.container,
                crate::ops::task_label(&h.session.task_arn),
                self.state.envs.get(h.env).map_or("?", |e| e.name.as_str()),
            );
            let _ = out.flush();
        }
        tracing::info!(id = %h.id, session = %h.session.session_id, "terminal handed to session-manager-plugin");
        let search = self.plugin_search.clone();
        let end =
            match tokio::task::spawn_blocking(move || crate::exec::run_plugin(&h, search)).await {
                Ok(end) => end,
                Err(e) => SessionEnd {
                    code: None,
                    error: Some(crate::supervise::join_error(e)),
                    seconds: 0,
                },
            };
        tracing::info!(end = %end.describe(), "terminal back from session-manager-plugin");
        drop(held);
        if let Some(s) = self.signals.as_mut() {
            s.discard_interrupts().await;
        }
        let _ = terminal::enable_raw_mode();
        let _ = execute!(
            out,
            terminal::EnterAlternateScreen,
            event::EnableBracketedPaste,
            cursor::Hide
        );
        gate.resume();
        end
    }

    /// Without a terminal (tests): runs the plugin of an ECS Exec session
    /// that is waiting for it, as the event loop does after a frame, and
    /// applies its end. `None` when no session is waiting.
    pub async fn run_handover_headless(&mut self) -> Option<SessionEnd> {
        let h = self.state.handover.take()?;
        let id = h.id.clone();
        let search = self.plugin_search.clone();
        let end = tokio::task::spawn_blocking(move || crate::exec::run_plugin(&h, search))
            .await
            .unwrap_or_else(|e| SessionEnd {
                code: None,
                error: Some(crate::supervise::join_error(e)),
                seconds: 0,
            });
        self.dispatch(Action::ExecEnded {
            id,
            end: end.clone(),
        });
        Some(end)
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

/// How often the input thread looks up from the terminal to see whether
/// it must pause.
const INPUT_POLL: Duration = Duration::from_millis(100);

/// Pauses the input thread: while an ECS Exec session has the terminal,
/// nothing in the console may read it (the plugin's keystrokes would be
/// stolen). `pause` returns once the thread has stopped reading.
#[derive(Default)]
pub(crate) struct InputGate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    /// The loop asks the thread to stop reading.
    paused: bool,
    /// The thread has stopped reading and waits.
    parked: bool,
}

impl InputGate {
    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks the thread to stop and waits (a bounded time) until it has.
    fn pause(&self) {
        let mut g = self.lock();
        g.paused = true;
        self.changed.notify_all();
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while !g.parked {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                tracing::warn!("the input thread did not pause in time");
                break;
            }
            g = self
                .changed
                .wait_timeout(g, left)
                .map_or_else(|e| e.into_inner().0, |(g, _)| g);
        }
    }

    fn resume(&self) {
        let mut g = self.lock();
        g.paused = false;
        self.changed.notify_all();
    }

    /// The thread's side: waits here while paused.
    fn wait_while_paused(&self) {
        let mut g = self.lock();
        if !g.paused {
            return;
        }
        g.parked = true;
        self.changed.notify_all();
        while g.paused {
            g = self.changed.wait(g).unwrap_or_else(PoisonError::into_inner);
        }
        g.parked = false;
    }
}

/// Reads terminal events on a thread of its own and hands them over as
/// they arrive, so that the loop can take every waiting one at once. It
/// looks up every [`INPUT_POLL`] to pause when `gate` says so (an ECS Exec
/// session has the terminal). The thread ends when the loop has gone (or
/// the terminal fails).
pub(crate) fn spawn_input_reader(
    gate: Arc<InputGate>,
) -> UnboundedReceiver<std::io::Result<Event>> {
    let (tx, rx) = unbounded_channel();
    let spawned = std::thread::Builder::new()
        .name("honban-input".into())
        .spawn(move || {
            loop {
                gate.wait_while_paused();
                if tx.is_closed() {
                    break;
                }
                match crossterm::event::poll(INPUT_POLL) {
                    Ok(false) => continue,
                    Ok(true) => {}
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
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
#[allow(
    clippy::manual_assert,
    reason = "a deliberate panic on request, not an assertion"
)]
fn injected_panic() {
    if std::env::var_os("HONBAN_TEST_PANIC").is_some_and(|v| v == "after-draw") {
        panic!("injected by HONBAN_TEST_PANIC=after-draw (a test of the terminal's restoration)");
    }
}

/// When a confirmation drawn at `since` starts accepting keys: once it has
/// been on screen [`CONFIRM_READ`] and no key has come for
/// [`CONFIRM_QUIET`].
fn armed_at(
    unarmed: Option<&(tokio::time::Instant, Mode)>,
    last_key: tokio::time::Instant,
) -> tokio::time::Instant {
    match unarmed {
        Some((since, _)) => (*since + CONFIRM_READ).max(last_key + CONFIRM_QUIET),
        None => tokio::time::Instant::now() + Duration::from_hours(1),
    }
}
