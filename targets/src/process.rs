//! The one owner of every child process the harness starts: external servers (redis-server,
//! ZooKeeper, etcd, nginx, PostgreSQL and its `initdb`), `stratbench serve` nodes, backends
//! and proxies, and lock-client processes. One type, [`ChildProcess`], with one set of rules:
//!
//! - **Own process group.** The program runs in a process group of its own, so that a
//!   terminal's Ctrl-C reaches only the harness, and so that pausing, stopping and killing
//!   reach every process the program forks (nginx's workers, PostgreSQL's backends).
//! - **Readiness.** [`ChildProcess::wait_ready`] polls a protocol ping; [`ChildProcess::wait_line`]
//!   waits for the line a `stratbench serve` role prints once it listens. Both are bounded in
//!   time and give up at once when the harness is interrupted ([`cancel`]).
//! - **Pause** ([`ChildProcess::set_paused`]): SIGSTOP / SIGCONT of the group (fault events).
//! - **Stop** ([`ChildProcess::stop`]): SIGCONT, SIGTERM, up to [`STOP_GRACE`], then SIGKILL of
//!   the group; always reaped. **Kill** ([`ChildProcess::kill`]): SIGKILL of the group, as a
//!   crash. Dropping the value stops it.
//! - **Registered.** Every live group is in a registry, so that a second Ctrl-C, which exits at
//!   once, kills them all and removes every scratch directory first ([`stop_all`]).
//! - **Dies with the harness, even under SIGKILL.** Once the harness calls [`use_supervisor`],
//!   every program runs under `stratbench supervise` ([`supervise`]): a small process that
//!   starts the program in its group and, when the harness goes away (it is re-parented), stops
//!   that group and removes the program's scratch directory. The supervisor stays outside the
//!   program's group, so it keeps watching while the program is paused. (The alternative, the
//!   parent-death signal, needs `unsafe`, fires when the spawning *thread* exits, is cleared when
//!   PostgreSQL's user is set, and reaches only one process, not nginx's workers.)
//!
//! Scratch directories ([`scratch_dir`]) are `0700` and named `stratbench-<pid>-<name>-…`
//! after the harness that made them, so that [`remove_stale_dirs`] can remove, at the next
//! start, those whose harness is gone. Logs are created `0600` ([`create_log`]).
//!
//! Ports: [`free_port`] hands out a loopback port that was free and that this process has not
//! handed out before; [`start_on_free_ports`] starts a server on fresh ports and tries again
//! when the ports were taken in between (a server that binds a port itself, as `stratbench
//! serve` does with port 0, needs neither).

use crate::sync::Recover as _;
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use std::collections::HashSet;
use std::ffi::OsString;
use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

/// How long a program may take to become ready. ZooKeeper (a JVM) takes about a second on an
/// idle machine; a loaded 2-core machine can take several times that.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a stopping program gets between SIGTERM and SIGKILL. Short enough that an orphaned
/// server is gone well within 5 s of the harness's death.
pub const STOP_GRACE: Duration = Duration::from_secs(2);
/// How often readiness, exit and the supervisor's parent are polled.
const POLL_EVERY: Duration = Duration::from_millis(10);
/// How long a supervisor may take to start its program.
const SUPERVISOR_START: Duration = Duration::from_secs(5);
/// Attempts to start a server on fresh ports when the ones picked were taken in between.
pub const PORT_ATTEMPTS: u32 = 5;
/// The subcommand of the harness's executable that runs [`supervise`].
pub const SUPERVISE_COMMAND: &str = "supervise";
/// The prefix of every scratch directory's name.
const DIR_PREFIX: &str = "stratbench-";

/// Why a child process could not be started or did not become ready.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The process could not be spawned, or a file it needs not written.
    #[error("cannot start {name}: {detail}")]
    Start { name: String, detail: String },
    /// The process started but did not become ready in time (or exited).
    #[error("{name} did not become ready within {waited:?}: {detail}{log}")]
    NotReady { name: String, waited: Duration, detail: String, log: String },
    /// The harness was interrupted while waiting.
    #[error("{name}: interrupted while starting")]
    Cancelled { name: String },
}

static SUPERVISOR: OnceLock<PathBuf> = OnceLock::new();
static CANCELLED: AtomicBool = AtomicBool::new(false);
static NEXT_ID: AtomicU64 = AtomicU64::new(0);
/// Live children: (registration id, program's process group, supervisor pid).
static LIVE: Mutex<Vec<(u64, i32, Option<i32>)>> = Mutex::new(Vec::new());
/// Live scratch directories, removed by [`stop_all`].
static DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Ports handed out by [`free_port`] in this process.
static PORTS: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// Runs every later program under `exe supervise`, so that it dies with this process even when
/// this process is SIGKILLed. The harness calls it first thing; libraries and tests that do not
/// run children under a supervisor still get process groups, the registry and stop on drop.
pub fn use_supervisor(exe: PathBuf) {
    let _ = SUPERVISOR.set(exe);
}

/// Makes every readiness wait give up at once (the harness was interrupted).
pub fn cancel() {
    CANCELLED.store(true, Ordering::SeqCst);
}

/// Whether [`cancel`] was called.
pub fn cancelled() -> bool {
    CANCELLED.load(Ordering::Relaxed)
}

/// Kills every live child's process group and its supervisor (SIGKILL), and removes every
/// scratch directory. For the one path that skips destructors: a second Ctrl-C.
pub fn stop_all() {
    let live = std::mem::take(&mut *LIVE.locked());
    for (_, group, supervisor) in &live {
        let _ = killpg(Pid::from_raw(*group), Signal::SIGCONT);
        let _ = killpg(Pid::from_raw(*group), Signal::SIGKILL);
        if let Some(pid) = supervisor {
            let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
        }
    }
    // A killed process still holds its files for a moment; PostgreSQL's cluster is removed
    // only once nothing writes into it.
    let deadline = Instant::now() + STOP_GRACE;
    while live.iter().any(|(_, group, _)| killpg(Pid::from_raw(*group), None).is_ok()) && Instant::now() < deadline {
        std::thread::sleep(POLL_EVERY);
    }
    for dir in std::mem::take(&mut *DIRS.locked()) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Process groups of the live children (for tests that check nothing is left).
pub fn live_groups() -> Vec<i32> {
    LIVE.locked().iter().map(|(_, group, _)| *group).collect()
}

/// What to start: a program, its arguments and how it is wired.
#[derive(Clone, Debug)]
pub struct Spec {
    name: String,
    program: PathBuf,
    args: Vec<OsString>,
    cwd: Option<PathBuf>,
    log: Option<PathBuf>,
    pipes: bool,
    user: Option<(u32, u32)>,
    owned_dir: Option<PathBuf>,
    stop_signal: Signal,
}

impl Spec {
    /// `program`, called `name` in messages; stdin, stdout and stderr null until said otherwise.
    pub fn new(name: impl Into<String>, program: impl Into<PathBuf>) -> Self {
        Spec {
            name: name.into(),
            program: program.into(),
            args: Vec::new(),
            cwd: None,
            log: None,
            pipes: false,
            user: None,
            owned_dir: None,
            stop_signal: Signal::SIGTERM,
        }
    }

    /// Asks it to stop with `signal` instead of SIGTERM (PostgreSQL's SIGTERM waits for every
    /// session to end; its SIGQUIT does not).
    pub fn stop_signal(mut self, signal: Signal) -> Self {
        self.stop_signal = signal;
        self
    }

    /// Appends arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Runs it in `dir`.
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Sends its stderr (and stdout, unless piped) to `path`, created `0600`.
    pub fn log(mut self, path: impl Into<PathBuf>) -> Self {
        self.log = Some(path.into());
        self
    }

    /// Pipes its stdin and stdout to this process ([`ChildProcess::take_stdin`]).
    pub fn pipes(mut self) -> Self {
        self.pipes = true;
        self
    }

    /// Runs it as `uid`/`gid`.
    pub fn user(mut self, user: Option<(u32, u32)>) -> Self {
        self.user = user;
        self
    }

    /// The scratch directory the supervisor removes if the harness dies.
    pub fn owns_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.owned_dir = Some(dir.into());
        self
    }

    fn error(&self, detail: impl std::fmt::Display) -> ProcessError {
        ProcessError::Start { name: self.name.clone(), detail: detail.to_string() }
    }

    /// The command to spawn: the program itself, or the supervisor running it.
    fn command(&self) -> Command {
        let Some(supervisor) = SUPERVISOR.get() else {
            let mut command = Command::new(&self.program);
            command.args(&self.args).process_group(0);
            if let Some((uid, gid)) = self.user {
                command.uid(uid).gid(gid);
            }
            return command;
        };
        let mut command = Command::new(supervisor);
        command.arg(SUPERVISE_COMMAND);
        if let Some((uid, gid)) = self.user {
            command.args(["--uid", &uid.to_string(), "--gid", &gid.to_string()]);
        }
        if let Some(dir) = &self.owned_dir {
            command.arg("--remove-dir").arg(dir);
        }
        command.arg("--").arg(&self.program).args(&self.args).process_group(0);
        command
    }
}

/// A running child process (its group), stopped on drop.
#[derive(Debug)]
pub struct ChildProcess {
    name: String,
    /// The direct child: the supervisor, or the program itself.
    child: Option<Child>,
    /// The program's process group (its pid).
    group: i32,
    supervised: bool,
    registration: u64,
    stop_signal: Signal,
    log: Option<PathBuf>,
    stdin: Option<ChildStdin>,
    stdout: Option<ChildStdout>,
    /// Its exit status once stopped, killed or reaped by [`ChildProcess::wait_or_kill`].
    status: Option<ExitStatus>,
}

impl ChildProcess {
    /// Starts `spec` in a process group of its own, registered for [`stop_all`].
    pub fn spawn(spec: &Spec) -> Result<Self, ProcessError> {
        if cancelled() {
            return Err(ProcessError::Cancelled { name: spec.name.clone() });
        }
        let mut command = spec.command();
        if let Some(dir) = &spec.cwd {
            command.current_dir(dir);
        }
        let log = match &spec.log {
            Some(path) => {
                Some(create_log(path).map_err(|e| spec.error(format!("cannot create {}: {e}", path.display())))?)
            }
            None => None,
        };
        let stderr = log.as_ref().map_or(Ok(Stdio::null()), |f| f.try_clone().map(Stdio::from));
        command.stderr(stderr.map_err(|e| spec.error(e))?);
        if spec.pipes {
            command.stdin(Stdio::piped()).stdout(Stdio::piped());
        } else {
            command.stdin(Stdio::null()).stdout(log.map_or(Stdio::null(), Stdio::from));
        }
        let mut child = command.spawn().map_err(|e| spec.error(format!("{}: {e}", spec.program.display())))?;
        let supervised = SUPERVISOR.get().is_some();
        let group = if supervised { supervised_program(&mut child, spec)? } else { child.id() as i32 };
        let registration = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let supervisor = supervised.then_some(child.id() as i32);
        LIVE.locked().push((registration, group, supervisor));
        tracing::debug!("started {} (group {group})", spec.name);
        Ok(ChildProcess {
            name: spec.name.clone(),
            stdin: child.stdin.take(),
            stdout: child.stdout.take(),
            child: Some(child),
            group,
            supervised,
            registration,
            stop_signal: spec.stop_signal,
            log: spec.log.clone(),
            status: None,
        })
    }

    /// The program's process id (its process group), while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|_| self.group as u32)
    }

    /// The name used in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its stdin, when piped (a node exits when it closes).
    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.stdin.take()
    }

    /// Its stdout, when piped.
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.stdout.take()
    }

    /// Its exit status once it has exited, without waiting; also after [`ChildProcess::kill`]
    /// or [`ChildProcess::stop`], so that a watcher sees a killed node as down. Under a
    /// supervisor, a program killed by signal N shows as exit code 128 + N.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        match self.child.as_mut() {
            Some(child) => child.try_wait().ok().flatten(),
            None => self.status,
        }
    }

    /// Polls `ping` until it succeeds, the process exits, `timeout` passes or the harness is
    /// interrupted.
    pub fn wait_ready(&mut self, timeout: Duration, ping: impl Fn() -> Result<(), String>) -> Result<(), ProcessError> {
        let start = Instant::now();
        let mut last = String::from("no answer yet");
        while start.elapsed() < timeout {
            match ping() {
                Ok(()) => {
                    tracing::debug!("{} ready after {:?}", self.name, start.elapsed());
                    return Ok(());
                }
                Err(error) => last = error,
            }
            if let Some(status) = self.exited() {
                last = format!("it exited ({status})");
                break;
            }
            if cancelled() {
                return Err(ProcessError::Cancelled { name: self.name.clone() });
            }
            std::thread::sleep(POLL_EVERY);
        }
        Err(self.not_ready(start.elapsed(), last))
    }

    /// Waits up to `timeout` for it to exit by itself (a one-shot program such as `initdb`);
    /// stops it if it does not, or if the harness is interrupted meanwhile.
    pub fn wait_exit(mut self, timeout: Duration) -> Result<ExitStatus, ProcessError> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Some(status) = self.exited() {
                return Ok(status);
            }
            if cancelled() {
                return Err(ProcessError::Cancelled { name: self.name.clone() });
            }
            std::thread::sleep(POLL_EVERY);
        }
        Err(self.not_ready(start.elapsed(), "it did not finish".into()))
    }

    /// Waits for the first line on the piped stdout (a `stratbench serve` role's `listening
    /// …`), then keeps draining stdout so that the child never writes into a closed pipe.
    pub fn wait_line(&mut self, timeout: Duration) -> Result<String, ProcessError> {
        let stdout = self.stdout.take().ok_or_else(|| self.not_ready(Duration::ZERO, "stdout is not piped".into()))?;
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = sender.send(lines.next());
            for _ in lines {}
        });
        let start = Instant::now();
        while start.elapsed() < timeout {
            match receiver.recv_timeout(POLL_EVERY * 10) {
                Ok(Some(Ok(line))) => return Ok(line),
                Ok(_) => return Err(self.not_ready(start.elapsed(), "it exited before saying it listens".into())),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) if cancelled() => {
                    return Err(ProcessError::Cancelled { name: self.name.clone() });
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
        Err(self.not_ready(start.elapsed(), "no line on its stdout".into()))
    }

    fn not_ready(&self, waited: Duration, detail: String) -> ProcessError {
        ProcessError::NotReady { name: self.name.clone(), waited, detail, log: self.log_tail() }
    }

    /// The last lines of its log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = self.log.as_ref().and_then(|path| std::fs::read_to_string(path).ok()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().rev().take(5).collect();
        if lines.is_empty() {
            return String::new();
        }
        format!("; last lines of its log: {}", lines.into_iter().rev().collect::<Vec<_>>().join(" | "))
    }

    /// Pauses (SIGSTOP) or continues (SIGCONT) the whole group.
    pub fn set_paused(&self, paused: bool) -> Result<(), ProcessError> {
        if self.child.is_none() {
            return Err(ProcessError::Start { name: self.name.clone(), detail: "not running".into() });
        }
        killpg(Pid::from_raw(self.group), if paused { Signal::SIGSTOP } else { Signal::SIGCONT })
            .map_err(|e| ProcessError::Start { name: self.name.clone(), detail: e.to_string() })
    }

    /// Stops the group: SIGCONT, SIGTERM (or the spec's stop signal), up to [`STOP_GRACE`],
    /// then SIGKILL; reaps it.
    pub fn stop(&mut self) {
        self.end(self.stop_signal, STOP_GRACE);
    }

    /// Kills the group at once (SIGKILL), as a crash would; reaps it.
    pub fn kill(&mut self) {
        self.end(Signal::SIGKILL, STOP_GRACE);
    }

    /// Waits up to `timeout` for it to exit by itself (a node told to shut down); kills it if
    /// it does not. The exit status, if it exited by itself.
    pub fn wait_or_kill(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.exited() {
                self.end(Signal::SIGKILL, STOP_GRACE);
                return Some(status);
            }
            std::thread::sleep(POLL_EVERY);
        }
        self.kill();
        None
    }

    fn end(&mut self, first: Signal, grace: Duration) {
        let Some(mut child) = self.child.take() else { return };
        // A stopped process ignores SIGTERM until continued.
        stop_group(self.group, first, grace, || matches!(child.try_wait(), Ok(None)) || self.group_alive());
        if self.supervised && matches!(child.try_wait(), Ok(None)) {
            // The supervisor exits as soon as its program does; this is only a backstop.
            wait_until(STOP_GRACE, || !matches!(child.try_wait(), Ok(None)));
            let _ = child.kill();
        }
        self.status = child.wait().ok();
        LIVE.locked().retain(|(id, _, _)| *id != self.registration);
        tracing::debug!("stopped {} (group {})", self.name, self.group);
    }

    fn group_alive(&self) -> bool {
        group_alive(self.group)
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether any process of `group` is left (zombies of a reaped program are not).
fn group_alive(group: i32) -> bool {
    killpg(Pid::from_raw(group), None).is_ok()
}

/// Sends SIGCONT and `first` to `group`, waits up to `grace` while `alive()`, then SIGKILLs it.
fn stop_group(group: i32, first: Signal, grace: Duration, mut alive: impl FnMut() -> bool) {
    let group = Pid::from_raw(group);
    let _ = killpg(group, Signal::SIGCONT);
    let _ = killpg(group, first);
    if !wait_until(grace, || !alive()) {
        tracing::warn!("process group {group} did not stop within {grace:?}; killing it");
    }
    let _ = killpg(group, Signal::SIGKILL);
}

/// Polls `done` until it holds or `timeout` passes; whether it held.
fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL_EVERY);
    }
}

/// The pid of the program a just-started supervisor runs (its only child).
fn supervised_program(supervisor: &mut Child, spec: &Spec) -> Result<i32, ProcessError> {
    let path = format!("/proc/{0}/task/{0}/children", supervisor.id());
    let mut found = None;
    let started = wait_until(SUPERVISOR_START, || {
        found = std::fs::read_to_string(&path).ok().and_then(|text| text.split_whitespace().next()?.parse().ok());
        found.is_some() || !matches!(supervisor.try_wait(), Ok(None))
    });
    match found {
        Some(pid) if started => Ok(pid),
        _ => {
            let _ = supervisor.kill();
            let status = supervisor.wait().map(|s| s.to_string()).unwrap_or_default();
            Err(spec.error(format!("its supervisor did not start it ({status}; see the log)")))
        }
    }
}

/// `stratbench supervise`: runs `program` in a process group of its own with this process's
/// stdin, stdout and stderr, and exits with its exit code (128 + N when killed by signal N).
/// When this process's parent (the harness) goes away, it stops the program's group ([`STOP_GRACE`]
/// then SIGKILL), removes `remove_dir` and exits 1.
pub fn supervise(program: &Path, args: &[OsString], user: Option<(u32, u32)>, remove_dir: Option<&Path>) -> i32 {
    use std::os::unix::process::ExitStatusExt as _;
    let parent = nix::unistd::getppid();
    let mut command = Command::new(program);
    command.args(args).process_group(0);
    if let Some((uid, gid)) = user {
        command.uid(uid).gid(gid);
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            eprintln!("stratbench supervise: cannot start {}: {error}", program.display());
            return 127;
        }
    };
    let group = child.id() as i32;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                // What the program forked and left behind goes with it.
                let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
                return status.code().or_else(|| status.signal().map(|s| 128 + s)).unwrap_or(1);
            }
            Ok(None) => {}
            Err(_) => return 1,
        }
        if nix::unistd::getppid() != parent {
            stop_group(group, Signal::SIGTERM, STOP_GRACE, || {
                matches!(child.try_wait(), Ok(None)) || group_alive(group)
            });
            let _ = child.wait();
            if let Some(dir) = remove_dir {
                let _ = std::fs::remove_dir_all(dir);
            }
            return 1;
        }
        std::thread::sleep(POLL_EVERY);
    }
}

/// A scratch directory (`0700`) under the system's temporary directory, removed on drop and by
/// [`stop_all`]; its name carries this process's id for [`remove_stale_dirs`].
#[derive(Debug)]
pub struct ScratchDir {
    dir: Option<tempfile::TempDir>,
}

impl ScratchDir {
    /// The directory's path.
    pub fn path(&self) -> &Path {
        self.dir.as_ref().expect("present until dropped").path()
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            DIRS.locked().retain(|d| d != dir.path());
        }
    }
}

/// A new scratch directory for `name` (a server's data, a cluster's sockets).
pub fn scratch_dir(name: &str) -> Result<ScratchDir, ProcessError> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("{DIR_PREFIX}{}-{name}-", std::process::id()))
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .map_err(|e| ProcessError::Start {
            name: name.into(),
            detail: format!("cannot create a temporary directory: {e}"),
        })?;
    DIRS.locked().push(dir.path().to_path_buf());
    Ok(ScratchDir { dir: Some(dir) })
}

/// Removes the scratch directories left by harnesses that are no longer running (killed
/// outright before their supervisors could clean up, or from a machine's crash). Those whose
/// owner still runs are kept. The number removed.
pub fn remove_stale_dirs() -> usize {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return 0 };
    let stale = entries.filter_map(Result::ok).filter(|entry| {
        let name = entry.file_name();
        let owner = name.to_str().and_then(|n| n.strip_prefix(DIR_PREFIX)).and_then(|rest| rest.split('-').next());
        owner.and_then(|pid| pid.parse::<u32>().ok()).is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
    });
    stale.filter(|entry| std::fs::remove_dir_all(entry.path()).is_ok()).count()
}

/// Creates (or truncates) a log file readable by its owner only.
pub fn create_log(path: &Path) -> std::io::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    // An existing file keeps its mode on open: set it.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

/// A loopback port that was free a moment ago and that this process has not handed out before
/// (two servers of one run never race for one port; another program still can, hence
/// [`start_on_free_ports`]).
pub fn free_port() -> std::io::Result<u16> {
    for _ in 0..64 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        if PORTS.locked().get_or_insert_with(HashSet::new).insert(port) {
            return Ok(port);
        }
    }
    Err(std::io::Error::other("no fresh loopback port after 64 tries"))
}

/// Starts a server with `start(ports)` (`count` fresh ports) until one comes up, picking fresh
/// ports after a failure that looks like a port collision.
pub fn start_on_free_ports<T, E: std::fmt::Display + From<ProcessError>>(
    count: usize,
    mut start: impl FnMut(&[u16]) -> Result<T, E>,
) -> Result<T, E> {
    let mut last = None;
    for _ in 0..PORT_ATTEMPTS {
        let ports = (0..count)
            .map(|_| free_port())
            .collect::<std::io::Result<Vec<u16>>>()
            .map_err(|e| ProcessError::Start { name: "a server".into(), detail: format!("cannot pick a port: {e}") })?;
        match start(&ports) {
            Ok(server) => return Ok(server),
            Err(error) if looks_like_collision(&error.to_string()) && !cancelled() => last = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last.expect("at least one attempt"))
}

fn looks_like_collision(text: &str) -> bool {
    let text = text.to_lowercase();
    text.contains("address already in use") || text.contains("could not bind") || text.contains("bind:")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sleeper() -> ChildProcess {
        ChildProcess::spawn(&Spec::new("sleeper", "sh").args(["-c", "sleep 30 & sleep 30"])).unwrap()
    }

    #[test]
    fn a_dropped_process_takes_its_whole_group_with_it() {
        let process = sleeper();
        let group = process.pid().unwrap() as i32;
        assert!(live_groups().contains(&group));
        std::thread::sleep(Duration::from_millis(50));
        assert!(group_alive(group));
        drop(process);
        assert!(!live_groups().contains(&group));
        assert!(!group_alive(group), "the forked sleep survived its group's stop");
    }

    #[test]
    fn a_paused_group_still_stops() {
        let mut process = sleeper();
        let group = process.pid().unwrap() as i32;
        process.set_paused(true).unwrap();
        let started = Instant::now();
        process.stop();
        assert!(!group_alive(group));
        assert!(started.elapsed() < STOP_GRACE, "a paused sleep obeys SIGTERM once continued");
    }

    #[test]
    fn a_killed_program_reports_that_it_exited() {
        // A watcher restarts a node once `exited` says it is down; a kill must say so.
        let mut process = ChildProcess::spawn(&Spec::new("sleep", "sleep").args(["30"])).unwrap();
        assert!(process.exited().is_none());
        process.kill();
        assert!(process.exited().is_some(), "a killed program is down");
        let mut stopped = ChildProcess::spawn(&Spec::new("sleep", "sleep").args(["30"])).unwrap();
        stopped.stop();
        assert!(stopped.exited().is_some(), "a stopped program is down");
    }

    #[test]
    fn a_program_that_never_becomes_ready_is_an_error_naming_it() {
        let mut process = ChildProcess::spawn(&Spec::new("echo", "echo").args(["hello"]).pipes()).unwrap();
        assert_eq!(process.wait_line(Duration::from_secs(5)).unwrap(), "hello");
        let mut silent = ChildProcess::spawn(&Spec::new("true", "true").pipes()).unwrap();
        let error = silent.wait_line(Duration::from_secs(5)).unwrap_err().to_string();
        assert!(error.contains("true") && error.contains("exited"), "{error}");
    }

    #[test]
    fn free_ports_are_never_handed_out_twice() {
        let ports: Vec<u16> = (0..50).map(|_| free_port().unwrap()).collect();
        let unique: HashSet<u16> = ports.iter().copied().collect();
        assert_eq!(unique.len(), ports.len());
    }

    #[test]
    fn a_collision_is_retried_on_fresh_ports() {
        let mut seen = Vec::new();
        let result: Result<u16, ProcessError> = start_on_free_ports(1, |ports| {
            seen.push(ports[0]);
            if seen.len() < 3 {
                Err(ProcessError::NotReady {
                    name: "x".into(),
                    waited: Duration::ZERO,
                    detail: "Address already in use".into(),
                    log: String::new(),
                })
            } else {
                Ok(ports[0])
            }
        });
        assert_eq!(result.unwrap(), seen[2]);
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 3);
    }

    #[test]
    fn scratch_dirs_are_private_and_stale_ones_go() {
        let dir = scratch_dir("test").unwrap();
        let mode = std::fs::metadata(dir.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        // A directory of a harness that is gone (pid beyond pid_max) is stale; ours is not.
        let stale = std::env::temp_dir().join(format!("{DIR_PREFIX}4999999-test-x"));
        std::fs::create_dir_all(&stale).unwrap();
        remove_stale_dirs();
        assert!(!stale.exists());
        assert!(dir.path().exists());
    }

    #[test]
    fn logs_are_private() {
        let dir = scratch_dir("log").unwrap();
        let path = dir.path().join("x.log");
        create_log(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
