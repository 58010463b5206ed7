//! Lock clients in separate processes, so that a fault can stop a whole client — its lock
//! library's background work included — the way a long GC pause or a SIGSTOP does: ZooKeeper's
//! heartbeats and etcd's keep-alives stop with it, and its session or lease can expire while it
//! still believes it holds the lock. (An in-task pause, the default, leaves those running.)
//!
//! [`ProcessService`] wraps a strategy: each worker's client is a child process (`stratbench
//! lock-client ...`, given as a [`ChildCommand`]) that runs the strategy's own client and
//! answers one request per line on stdin/stdout, through [`serve`]:
//!
//! ```text
//! → acquire <lock> <timeout_ms>     ← held <token>   | error <kind> <detail>
//! → release                         ← released       | error <kind> <detail>
//! ```
//!
//! The child prints `ready` once connected. [`LockClient::pause`] stops the child (SIGSTOP) and
//! continues it (SIGCONT) after the pause; [`LockClient::crash`] kills it (SIGKILL) and starts a
//! new one. Each child is a [`ChildProcess`], like every other process the harness starts:
//! stopped when its client is dropped, registered for a hard exit, supervised.

use super::{Held, LockClient, LockError, LockService};
use crate::process::{ChildProcess, Spec};
use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader, Lines};
use tokio::process::{ChildStdin, ChildStdout};

/// How long a child may take to connect and say `ready`.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Time a child gets beyond the request's own timeout to answer.
const ANSWER_GRACE: Duration = Duration::from_secs(10);

/// How to start one client process (the worker number is appended as `--worker N`).
#[derive(Clone, Debug)]
pub struct ChildCommand {
    pub program: PathBuf,
    pub args: Vec<String>,
}

/// A strategy whose clients run in child processes; `inner` (the same strategy, in this
/// process) only cleans up after the run.
#[derive(Debug)]
pub struct ProcessService<S> {
    inner: S,
    command: Arc<ChildCommand>,
    _strategy: PhantomData<fn() -> S>,
}

impl<S: LockService> ProcessService<S> {
    /// Clients of `inner`'s strategy, each in a process started with `command`.
    pub fn new(inner: S, command: ChildCommand) -> Self {
        ProcessService { inner, command: Arc::new(command), _strategy: PhantomData }
    }
}

impl<S: LockService> LockService for ProcessService<S> {
    type Client = ProcessClient;
    const MONOTONIC_TOKENS: bool = S::MONOTONIC_TOKENS;
    /// A paused process stops its heartbeats and keep-alives too.
    const HELD_WHILE_TASK_PAUSED: bool = false;

    async fn connect(&self, worker: u32) -> Result<ProcessClient, LockError> {
        ProcessClient::spawn(Arc::clone(&self.command), worker).await
    }

    async fn cleanup(&self) -> Result<u64, LockError> {
        self.inner.cleanup().await
    }
}

/// One worker's client process.
pub struct ProcessClient {
    command: Arc<ChildCommand>,
    worker: u32,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    /// Declared after the pipes: they close first (the child exits on its own), then it is
    /// stopped.
    process: ChildProcess,
}

fn connect_error(detail: impl std::fmt::Display) -> LockError {
    LockError::Connect(format!("lock client process: {detail}"))
}

impl ProcessClient {
    async fn spawn(command: Arc<ChildCommand>, worker: u32) -> Result<Self, LockError> {
        let spec = Spec::new(format!("lock client {worker}"), &command.program)
            .args(&command.args)
            .args(["--worker".to_string(), worker.to_string()])
            .pipes();
        let mut process = ChildProcess::spawn(&spec).map_err(connect_error)?;
        let stdin = process.take_stdin().ok_or_else(|| connect_error("no stdin"))?;
        let stdout = process.take_stdout().ok_or_else(|| connect_error("no stdout"))?;
        let stdin = ChildStdin::from_std(stdin).map_err(connect_error)?;
        let stdout = BufReader::new(ChildStdout::from_std(stdout).map_err(connect_error)?).lines();
        let mut client = ProcessClient { command, worker, stdin, stdout, process };
        match client.read_line(READY_TIMEOUT).await?.as_str() {
            "ready" => Ok(client),
            other => Err(parse_error(other)),
        }
    }

    async fn read_line(&mut self, timeout: Duration) -> Result<String, LockError> {
        match tokio::time::timeout(timeout, self.stdout.next_line()).await {
            Ok(Ok(Some(line))) => Ok(line),
            Ok(Ok(None)) => Err(connect_error("it exited")),
            Ok(Err(e)) => Err(connect_error(e)),
            Err(_) => Err(connect_error(format!("no answer within {timeout:?}"))),
        }
    }

    async fn request(&mut self, line: &str, timeout: Duration) -> Result<String, LockError> {
        self.stdin.write_all(line.as_bytes()).await.map_err(connect_error)?;
        self.stdin.flush().await.map_err(connect_error)?;
        self.read_line(timeout + ANSWER_GRACE).await
    }
}

/// An `error <kind> <detail>` line as a [`LockError`].
fn parse_error(line: &str) -> LockError {
    let mut parts = line.splitn(3, ' ');
    let (word, kind, detail) = (parts.next(), parts.next(), parts.next().unwrap_or("").to_string());
    match (word, kind) {
        (Some("error"), Some("timeout")) => LockError::Timeout(Duration::from_millis(detail.parse().unwrap_or(0))),
        (Some("error"), Some("lost")) => LockError::Lost(detail),
        (Some("error"), Some("connect")) => LockError::Connect(detail),
        (Some("error"), Some(_)) => LockError::Server(detail),
        _ => LockError::Server(format!("unexpected answer `{line}` from the lock client process")),
    }
}

/// The `error ...` line for `error`.
fn error_line(error: &LockError) -> String {
    format!("error {} {}", error.kind(), error.detail().replace('\n', " "))
}

impl LockClient for ProcessClient {
    type Handle = ();

    async fn acquire(&mut self, lock: u64, timeout: Duration) -> Result<Held<()>, LockError> {
        let reply = self.request(&format!("acquire {lock} {}\n", timeout.as_millis()), timeout).await?;
        match reply.strip_prefix("held ").and_then(|t| t.parse().ok()) {
            Some(token) => Ok(Held { lock, token, handle: () }),
            None => Err(parse_error(&reply)),
        }
    }

    async fn release(&mut self, _held: Held<()>) -> Result<(), LockError> {
        match self.request("release\n", Duration::ZERO).await?.as_str() {
            "released" => Ok(()),
            other => Err(parse_error(other)),
        }
    }

    async fn crash(&mut self, _held: Held<()>) -> Result<(), LockError> {
        self.process.kill();
        *self = ProcessClient::spawn(Arc::clone(&self.command), self.worker).await?;
        Ok(())
    }

    async fn pause(&mut self, pause: Duration) {
        if let Err(error) = self.process.set_paused(true) {
            tracing::warn!("cannot pause the lock client: {error}");
        }
        tokio::time::sleep(pause).await;
        let _ = self.process.set_paused(false);
    }
}

/// The child's side: connects one client of `service` as worker `worker`, says `ready`, and
/// answers requests from `input` until it ends.
pub async fn serve<S, R, W>(service: S, worker: u32, input: R, mut output: W) -> Result<(), LockError>
where
    S: LockService,
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let io = |e: std::io::Error| connect_error(e);
    let mut client = match service.connect(worker).await {
        Ok(client) => client,
        Err(error) => {
            output.write_all(format!("{}\n", error_line(&error)).as_bytes()).await.map_err(io)?;
            return Err(error);
        }
    };
    output.write_all(b"ready\n").await.map_err(io)?;
    output.flush().await.map_err(io)?;
    let mut held = None;
    let mut lines = input.lines();
    // Ends when the parent closes stdin (or kills this process).
    while let Some(line) = lines.next_line().await.map_err(io)? {
        let words: Vec<&str> = line.split_whitespace().collect();
        let reply = match words[..] {
            ["acquire", lock, timeout_ms] => match (lock.parse(), timeout_ms.parse()) {
                (Ok(lock), Ok(ms)) => match client.acquire(lock, Duration::from_millis(ms)).await {
                    Ok(lock) => {
                        let reply = format!("held {}", lock.token);
                        held = Some(lock);
                        reply
                    }
                    Err(error) => error_line(&error),
                },
                _ => format!("error server bad request `{line}`"),
            },
            ["release"] => match held.take() {
                Some(lock) => client.release(lock).await.map_or_else(|e| error_line(&e), |()| "released".into()),
                None => "error server release without a held lock".into(),
            },
            _ => format!("error server bad request `{line}`"),
        };
        output.write_all(format!("{reply}\n").as_bytes()).await.map_err(io)?;
        output.flush().await.map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locks::lease::LeaseService;

    #[tokio::test]
    async fn serve_answers_requests_line_by_line() {
        let service = LeaseService::new(Duration::from_secs(1));
        let input: &[u8] = b"acquire 3 100\nrelease\nrelease\nexplode\n";
        let mut output = Vec::new();
        serve(service, 0, input, &mut output).await.unwrap();
        let text = String::from_utf8(output).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[..3], ["ready", "held 1", "released"]);
        assert!(lines[3].starts_with("error server"), "{}", lines[3]);
        assert!(lines[4].starts_with("error server bad request"), "{}", lines[4]);
    }

    #[test]
    fn errors_cross_the_pipe_by_kind() {
        for error in [
            LockError::Timeout(Duration::from_millis(250)),
            LockError::Lost("expired".into()),
            LockError::Connect("refused".into()),
            LockError::Server("oops".into()),
        ] {
            let back = parse_error(&error_line(&error));
            assert_eq!(back.kind(), error.kind());
        }
        assert_eq!(
            parse_error(&error_line(&LockError::Timeout(Duration::from_millis(250)))),
            LockError::Timeout(Duration::from_millis(250))
        );
    }
}
