//! nginx as a reference proxy: the same backends behind nginx's own upstream methods, so our
//! proxy can be judged beside what a user would otherwise deploy. nginx runs from a config
//! written into the run's directory, in the foreground (`-g 'daemon off;'`) as a
//! [`ChildProcess`] (its workers are in its process group and go with it), on a loopback port
//! from [`start_on_free_ports`]; upstream connections are kept alive (`keepalive`, HTTP/1.1,
//! no `Connection: close`), without which nginx opens a connection per request.
//!
//! | row | upstream method | our comparable strategy |
//! |---|---|---|
//! | `engine:nginx:round-robin` | (default) | `round-robin` |
//! | `engine:nginx:least-outstanding` | `least_conn` | `least-outstanding` |
//! | `engine:nginx:p2c` | `random two least_conn` | `p2c` |
//! | `engine:nginx:consistent-hash` | `hash $request_uri consistent` | `consistent-hash` |
//!
//! Failure handling is written out in the config ([`FailureConfig`]), never left implicit:
//! with our layer off (the scenario sets none of its parameters), nginx's defaults, stated —
//! `proxy_next_upstream error timeout` (a failed upstream is retried on the next one, with no
//! limit on tries) and `max_fails=1 fail_timeout=10s` on every server; with the layer's
//! parameters, their nginx equivalents — `retries` → `proxy_next_upstream_tries` (+1),
//! `retry_on` → `error` / `http_500 http_502 http_503 http_504` / `timeout`, `max_fails` and
//! `fail_timeout` as they are, `attempt_timeout` → the connect, send and read timeouts. nginx
//! has no retry budget and no outlier ejection; the row's `failure_layer` says so.
//!
//! With an access log path, nginx writes one line per request in
//! [`NGINX_LOG_FORMAT`]: which upstreams it tried, their statuses and times.

use crate::balancing::failure::FailureParams;
use crate::balancing::failure::attempts::NGINX_LOG_FORMAT;
use crate::process::{ChildProcess, ProcessError, READY_TIMEOUT, Spec, start_on_free_ports};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The nginx executable, looked up on `PATH`.
pub const NGINX: &str = "nginx";
/// Where Debian installs it, for a `PATH` without `/usr/sbin`.
const NGINX_SBIN: &str = "/usr/sbin/nginx";

/// The nginx to run: the one on `PATH`, else Debian's.
fn executable() -> &'static str {
    let on_path = Command::new(NGINX).arg("-v").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if on_path.is_ok_and(|s| s.success()) { NGINX } else { NGINX_SBIN }
}

/// An nginx upstream method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    RoundRobin,
    LeastConn,
    RandomTwoLeastConn,
    HashConsistent,
}

impl Method {
    /// Every method, with its row name.
    pub const ALL: [(Method, &'static str); 4] = [
        (Method::RoundRobin, "engine:nginx:round-robin"),
        (Method::LeastConn, "engine:nginx:least-outstanding"),
        (Method::RandomTwoLeastConn, "engine:nginx:p2c"),
        (Method::HashConsistent, "engine:nginx:consistent-hash"),
    ];

    /// The method of row `name`.
    pub fn from_row(name: &str) -> Option<Method> {
        Self::ALL.iter().find(|(_, row)| *row == name).map(|(method, _)| *method)
    }

    fn directive(self) -> &'static str {
        match self {
            Method::RoundRobin => "",
            Method::LeastConn => "least_conn;",
            Method::RandomTwoLeastConn => "random two least_conn;",
            Method::HashConsistent => "hash $request_uri consistent;",
        }
    }
}

/// nginx's failure handling, as its directives.
#[derive(Clone, Debug, PartialEq)]
pub struct FailureConfig {
    /// `proxy_next_upstream`.
    pub next_upstream: String,
    /// `proxy_next_upstream_tries` (0: no limit).
    pub tries: u32,
    pub max_fails: u32,
    pub fail_timeout: Duration,
    /// `proxy_connect_timeout`, `proxy_send_timeout`, `proxy_read_timeout` (nginx's 60 s if
    /// none).
    pub timeout: Option<Duration>,
    /// What nginx cannot do of the layer's parameters.
    pub missing: Vec<&'static str>,
}

impl FailureConfig {
    /// nginx's equivalent of the layer `params` (its own defaults when the layer is off).
    pub fn of(params: &FailureParams) -> Self {
        if !params.enabled() {
            let ten = Duration::from_secs(10);
            return FailureConfig {
                next_upstream: "error timeout".into(),
                tries: 0,
                max_fails: 1,
                fail_timeout: ten,
                timeout: None,
                missing: Vec::new(),
            };
        }
        let on = params.retry_on;
        let kinds: Vec<&str> =
            [(on.refused, "error"), (on.timeout, "timeout"), (on.server_error, "http_500 http_502 http_503 http_504")]
                .iter()
                .filter(|(set, _)| *set && params.retries_on())
                .map(|(_, directive)| *directive)
                .collect();
        let mut missing = Vec::new();
        if params.retries_on() {
            missing.push("retry budget");
        }
        if params.consecutive_errors > 0 || params.success_rate_stdev.is_some() {
            missing.push("outlier ejection");
        }
        let fail_timeout = whole_seconds(params.fail_timeout);
        if fail_timeout != params.fail_timeout {
            missing.push("fail_timeout below whole seconds (rounded up)");
        }
        FailureConfig {
            next_upstream: if kinds.is_empty() { "off".into() } else { kinds.join(" ") },
            tries: if params.retries_on() { params.retries + 1 } else { 0 },
            max_fails: params.max_fails,
            fail_timeout,
            timeout: params.attempt_timeout,
            missing,
        }
    }

    /// The `failure_layer` column of an nginx row.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "nginx: proxy_next_upstream {}; proxy_next_upstream_tries {}; max_fails={} fail_timeout={}s",
            self.next_upstream,
            self.tries,
            self.max_fails,
            self.fail_timeout.as_secs_f64()
        );
        if let Some(timeout) = self.timeout {
            let _ = write!(text, "; timeouts {}ms", timeout.as_millis());
        }
        if !self.missing.is_empty() {
            let _ = write!(text, "; no {}", self.missing.join(", no "));
        }
        text
    }

    fn location_directives(&self) -> String {
        let mut text = format!(
            "            proxy_next_upstream {};\n            proxy_next_upstream_tries {};\n",
            self.next_upstream, self.tries
        );
        if let Some(timeout) = self.timeout {
            let ms = timeout.as_millis().max(1);
            for directive in ["proxy_connect_timeout", "proxy_send_timeout", "proxy_read_timeout"] {
                let _ = writeln!(text, "            {directive} {ms}ms;");
            }
        }
        text
    }
}

/// `duration` rounded up to whole seconds, at least 1: nginx reads a server's `fail_timeout`
/// in seconds only (`fail_timeout=500ms` is a config error).
fn whole_seconds(duration: Duration) -> Duration {
    Duration::from_secs(duration.as_secs() + u64::from(duration.subsec_nanos() > 0)).max(Duration::from_secs(1))
}

/// Whether nginx can be run here.
pub fn installed() -> bool {
    Command::new(executable()).arg("-v").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// What nginx runs: its upstream method, backends, keep-alive, failure handling and
/// optional access log.
#[derive(Clone, Debug)]
pub struct NginxSetup<'a> {
    pub method: Method,
    pub backends: &'a [SocketAddr],
    pub weights: &'a [f64],
    pub keepalive: u32,
    pub failure: FailureConfig,
    /// Where to write the attempt log (one line per request), if anywhere.
    pub access_log: Option<PathBuf>,
}

/// The config for `setup`, listening on `port`, with every file nginx writes under `dir`.
pub fn config(dir: &Path, port: u16, setup: &NginxSetup<'_>) -> String {
    let d = dir.display();
    let failure = &setup.failure;
    let mut servers = String::new();
    for (backend, weight) in setup.backends.iter().zip(setup.weights.iter().chain(std::iter::repeat(&1.0))) {
        let weight = (weight.round() as u64).max(1);
        let _ = writeln!(
            servers,
            "        server {backend} weight={weight} max_fails={} fail_timeout={}s;",
            failure.max_fails,
            failure.fail_timeout.as_secs()
        );
    }
    let access_log = match &setup.access_log {
        Some(path) => format!("log_format attempts '{NGINX_LOG_FORMAT}';\n    access_log {} attempts;", path.display()),
        None => "access_log off;".into(),
    };
    format!(
        "worker_processes auto;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n    {access_log}\n    client_body_temp_path {d}/client_body;\n    proxy_temp_path {d}/proxy;\n\
         \x20   fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n\
         \x20   upstream backends {{\n        {method}\n{servers}        keepalive {keepalive};\n    }}\n\
         \x20   server {{\n        listen 127.0.0.1:{port};\n        location / {{\n\
         \x20           proxy_pass http://backends;\n            proxy_http_version 1.1;\n\
         \x20           proxy_set_header Connection \"\";\n{next}        }}\n    }}\n}}\n",
        method = setup.method.directive(),
        keepalive = setup.keepalive,
        next = failure.location_directives(),
    )
}

/// A running nginx.
pub struct Nginx {
    pub address: SocketAddr,
    /// Stops nginx (and its workers) when dropped.
    pub process: ChildProcess,
}

/// Writes the config into `dir` (created) and starts nginx; waits until it accepts
/// connections.
pub fn start(dir: &Path, setup: &NginxSetup<'_>) -> Result<Nginx, ProcessError> {
    let io = |e: std::io::Error| ProcessError::Start { name: "nginx".into(), detail: e.to_string() };
    std::fs::create_dir_all(dir).map_err(io)?;
    // nginx reads relative paths in its config (and `-c`) from its own prefix, not from our
    // working directory: a relative `--out` made it look for the config under /usr/share/nginx.
    let dir = &std::fs::canonicalize(dir).map_err(io)?;
    start_on_free_ports(1, |ports| {
        let port = ports[0];
        let conf: PathBuf = dir.join("nginx.conf");
        std::fs::write(&conf, config(dir, port, setup)).map_err(io)?;
        let spec = Spec::new("nginx", executable())
            .args([std::ffi::OsStr::new("-c"), conf.as_os_str()])
            .args(["-g", "daemon off;"])
            .log(dir.join("stderr.log"));
        let mut process = ChildProcess::spawn(&spec)?;
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let ping = || {
            std::net::TcpStream::connect_timeout(&address, Duration::from_millis(100))
                .map(drop)
                .map_err(|e| format!("{e} (see {})", dir.join("error.log").display()))
        };
        process.wait_ready(READY_TIMEOUT, ping)?;
        Ok(Nginx { address, process })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_has_the_method_keepalive_and_every_backend() {
        let backends: Vec<SocketAddr> = vec!["127.0.0.1:9001".parse().unwrap(), "127.0.0.1:9002".parse().unwrap()];
        let setup = NginxSetup {
            method: Method::HashConsistent,
            backends: &backends,
            weights: &[1.0, 3.0],
            keepalive: 32,
            failure: FailureConfig::of(&FailureParams::default()),
            access_log: None,
        };
        let text = config(Path::new("/tmp/x"), 8080, &setup);
        for needle in [
            "hash $request_uri consistent;",
            "server 127.0.0.1:9002 weight=3 max_fails=1 fail_timeout=10s;",
            "proxy_next_upstream error timeout;",
            "proxy_next_upstream_tries 0;",
            "access_log off;",
            "keepalive 32;",
            "proxy_http_version 1.1;",
            "listen 127.0.0.1:8080;",
            "pid /tmp/x/nginx.pid;",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
        let method = text.find("hash $request_uri").unwrap();
        assert!(method < text.find("keepalive").unwrap(), "the method comes before keepalive");
    }

    const BACKEND: &str = "127.0.0.1:9001";

    /// The nginx equivalent of the layer parameters in `toml`.
    fn failure_of(toml: &str) -> FailureConfig {
        let table: toml::Table = toml::from_str(toml).unwrap();
        let mut params = FailureParams::default();
        for (name, value) in &table {
            params.read(name, value).unwrap();
        }
        FailureConfig::of(&params)
    }

    /// Round robin over `backends` with `failure`, logging attempts to `access_log`.
    fn round_robin(backends: &[SocketAddr], failure: FailureConfig, access_log: PathBuf) -> NginxSetup<'_> {
        NginxSetup {
            method: Method::RoundRobin,
            backends,
            weights: &[1.0],
            keepalive: 32,
            failure,
            access_log: Some(access_log),
        }
    }

    #[test]
    fn the_layer_parameters_become_their_nginx_directives() {
        let failure = failure_of(
            "retries = 2\nretry_on = [\"refused\", \"5xx\", \"timeout\"]\nmax_fails = 3\nfail_timeout = \"5s\"\n\
             attempt_timeout = \"250ms\"\noutlier_consecutive_errors = 5",
        );
        assert_eq!(failure.next_upstream, "error timeout http_500 http_502 http_503 http_504");
        assert_eq!((failure.tries, failure.max_fails), (3, 3));
        assert!(failure.describe().contains("no retry budget, no outlier ejection"), "{}", failure.describe());
        let backends = [BACKEND.parse().unwrap()];
        let text = config(Path::new("/tmp/x"), 8080, &round_robin(&backends, failure, "/tmp/x/attempts.log".into()));
        for needle in [
            "max_fails=3 fail_timeout=5s;",
            "proxy_next_upstream_tries 3;",
            "proxy_read_timeout 250ms;",
            "access_log /tmp/x/attempts.log attempts;",
            "$upstream_addr|$upstream_status",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
    }

    #[test]
    fn nginx_accepts_the_config_of_a_sub_second_fail_timeout() {
        if !installed() {
            eprintln!("nginx is not installed; skipped (scripts/test.sh installs it)");
            return;
        }
        let failure = failure_of("retries = 1\nmax_fails = 2\nfail_timeout = \"500ms\"");
        assert_eq!(failure.fail_timeout, Duration::from_secs(1), "nginx counts fail_timeout in whole seconds");
        assert!(failure.describe().contains("rounded up"), "{}", failure.describe());
        let dir = tempfile::tempdir().unwrap();
        let backends = [BACKEND.parse().unwrap()];
        let setup = round_robin(&backends, failure, dir.path().join("attempts.log"));
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, config(dir.path(), crate::process::free_port().unwrap(), &setup)).unwrap();
        let output = Command::new(executable()).arg("-t").arg("-c").arg(&conf).output().unwrap();
        assert!(output.status.success(), "nginx -t: {}", String::from_utf8_lossy(&output.stderr));
    }
}
