//! `run --metrics-listen`: a test scrapes `/metrics` twice while a run goes, as Prometheus
//! would, and finds the session's totals growing and the last interval's figures labelled
//! with the run.

mod common;

use common::{stratbench, text};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `GET /metrics` over HTTP/1.1: (status line, headers and body).
fn scrape(address: &str, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.lines().next().unwrap_or_default().to_string();
    (status, response)
}

fn total(response: &str, name: &str) -> u64 {
    let line =
        response.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("{name}: {response}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_scrape_during_a_run_sees_its_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stratbench"))
        .args(["run", "--family", "noop", "--duration", "4s", "--warmup", "200ms", "--interval", "250ms"])
        .args(["--rate", "2000", "--metrics-listen", "127.0.0.1:0", "--out"])
        .arg(dir.path().join("run"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut lines = stderr.lines();
    let address = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.split("live metrics at http://").nth(1).map(|rest| rest.trim_end_matches("/metrics").to_string())
        })
        .expect("the run logs where its metrics are");
    std::thread::spawn(move || for _ in lines {});
    std::thread::sleep(Duration::from_millis(1500));
    let (status, first) = scrape(&address, "/metrics");
    assert!(status.contains("200"), "{first}");
    assert!(first.to_lowercase().contains("content-type: text/plain; version=0.0.4"), "{first}");
    assert!(first.contains("# TYPE stratbench_ops_total counter"), "{first}");
    assert!(first.contains("run_id=\"0000-noop-noop-inproc-r1\""), "labelled with the run: {first}");
    assert!(first.contains("stratbench_interval_response_seconds{"), "{first}");
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(1000));
    let (_, second) = scrape(&address, "/metrics");
    assert!(
        total(&second, "stratbench_ops_total") > total(&first, "stratbench_ops_total"),
        "the totals grow between scrapes {:?} apart",
        started.elapsed()
    );
    let (status, _) = scrape(&address, "/other");
    assert!(status.contains("404"), "{status}");
    assert!(child.wait().unwrap().success());
}

#[test]
fn a_metrics_address_off_loopback_or_in_use_is_bad_input() {
    let output = stratbench(&["run", "--family", "noop", "--quick", "--metrics-listen", "10.1.2.3:9464"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("loopback"), "{}", text(&output));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let output = stratbench(&[
        "run",
        "--family",
        "noop",
        "--quick",
        "--metrics-listen",
        &address,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("--metrics-listen"), "{}", text(&output));
}
