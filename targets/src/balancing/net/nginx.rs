//! nginx as a reference proxy: the same backends behind nginx's own upstream methods, so our
//! proxy can be judged beside what a user would otherwise deploy. nginx runs from a config
//! written into the run's directory, in the foreground (`-g 'daemon off;'`) as a child
//! process, on a loopback port; upstream connections are kept alive (`keepalive`, HTTP/1.1,
//! no `Connection: close`), without which nginx opens a connection per request.
//!
//! | row | upstream method | our comparable strategy |
//! |---|---|---|
//! | `engine:nginx:round-robin` | (default) | `round-robin` |
//! | `engine:nginx:least-outstanding` | `least_conn` | `least-outstanding` |
//! | `engine:nginx:p2c` | `random two least_conn` | `p2c` |
//! | `engine:nginx:consistent-hash` | `hash $request_uri consistent` | `consistent-hash` |
//!
//! nginx's defaults stay: a failed upstream is retried on the next one and marked down for
//! 10 s (`max_fails=1 fail_timeout=10s`), which is its reaction to a dead backend.

use super::process::{ChildGuard, SpawnError, free_port, wait_for_port};
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
/// How long nginx may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

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

/// Whether nginx can be run here.
pub fn installed() -> bool {
    Command::new(executable()).arg("-v").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// The config for `backends` (with `weights`) behind `method`, listening on `port`, with
/// every file nginx writes under `dir`.
pub fn config(
    dir: &Path,
    port: u16,
    method: Method,
    backends: &[SocketAddr],
    weights: &[f64],
    keepalive: u32,
) -> String {
    let d = dir.display();
    let mut servers = String::new();
    for (backend, weight) in backends.iter().zip(weights.iter().chain(std::iter::repeat(&1.0))) {
        let weight = (weight.round() as u64).max(1);
        let _ = writeln!(servers, "        server {backend} weight={weight};");
    }
    format!(
        "worker_processes auto;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n    access_log off;\n    client_body_temp_path {d}/client_body;\n    proxy_temp_path {d}/proxy;\n\
         \x20   fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n\
         \x20   upstream backends {{\n        {method}\n{servers}        keepalive {keepalive};\n    }}\n\
         \x20   server {{\n        listen 127.0.0.1:{port};\n        location / {{\n\
         \x20           proxy_pass http://backends;\n            proxy_http_version 1.1;\n\
         \x20           proxy_set_header Connection \"\";\n        }}\n    }}\n}}\n",
        method = method.directive(),
    )
}

/// A running nginx.
pub struct Nginx {
    pub address: SocketAddr,
    /// Stops nginx when dropped.
    pub guard: ChildGuard,
}

/// Writes the config into `dir` (created) and starts nginx; waits until it accepts
/// connections.
pub fn start(
    dir: &Path,
    method: Method,
    backends: &[SocketAddr],
    weights: &[f64],
    keepalive: u32,
) -> Result<Nginx, SpawnError> {
    let io = |source| SpawnError::Io { name: "nginx".into(), source };
    std::fs::create_dir_all(dir).map_err(io)?;
    // nginx reads relative paths in its config (and `-c`) from its own prefix, not from our
    // working directory: a relative `--out` made it look for the config under /usr/share/nginx.
    let dir = &std::fs::canonicalize(dir).map_err(io)?;
    let port = free_port().map_err(io)?;
    let conf: PathBuf = dir.join("nginx.conf");
    std::fs::write(&conf, config(dir, port, method, backends, weights, keepalive)).map_err(io)?;
    let log = std::fs::File::create(dir.join("stderr.log")).map_err(io)?;
    let mut command = Command::new(executable());
    command.arg("-c").arg(&conf).args(["-g", "daemon off;"]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(log);
    let mut guard = ChildGuard::spawn("nginx", &mut command)?;
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    if !wait_for_port(address, READY_TIMEOUT) || guard.has_exited() {
        return Err(SpawnError::NotReady {
            name: "nginx".into(),
            timeout: READY_TIMEOUT,
            detail: format!(" (see {})", dir.join("error.log").display()),
        });
    }
    Ok(Nginx { address, guard })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_has_the_method_keepalive_and_every_backend() {
        let backends: Vec<SocketAddr> = vec!["127.0.0.1:9001".parse().unwrap(), "127.0.0.1:9002".parse().unwrap()];
        let text = config(Path::new("/tmp/x"), 8080, Method::HashConsistent, &backends, &[1.0, 3.0], 32);
        for needle in [
            "hash $request_uri consistent;",
            "server 127.0.0.1:9002 weight=3;",
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
}
