//! The `stratbench` binary end to end: a quick run writes files that match the documented
//! schema, bad input of every kind exits 2 with a message that names the problem, Ctrl-C
//! leaves valid CSV and exits 130, a second run into a directory in use is refused, and `list` and `locate` answer.

use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn stratbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stratbench")).args(args).output().expect("the binary runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// The column names documented for `file` in results/README.md, in order.
fn documented_columns(file: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../results/README.md")).unwrap();
    let section = readme.split(&format!("## {file}\n")).nth(1).unwrap_or_else(|| panic!("README has a {file} section"));
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .map(|rest| rest.split('`').next().unwrap().to_string())
        .collect()
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let records = reader.records().map(|r| r.expect("every row parses")).collect();
    (header, records)
}

#[test]
fn quick_run_writes_valid_files_matching_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let output = stratbench(&["run", "--quick", "--out", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("| scenario"), "a table on stdout: {}", text(&output));

    let mut run_ids = HashSet::new();
    for file in ["summary.csv", "timeseries.csv", "events.csv", "nodes.csv"] {
        let (header, records) = read_csv(&out.join(file));
        assert_eq!(header, documented_columns(file), "{file} columns differ from results/README.md");
        assert!(!records.is_empty(), "{file} has rows");
        assert!(records.iter().all(|r| r.len() == header.len()), "{file}: every row has every column");
        if file == "summary.csv" {
            let status = header.iter().position(|c| c == "status").unwrap();
            let family = header.iter().position(|c| c == "family").unwrap();
            assert!(records.iter().all(|r| &r[status] == "ok"), "every run ok");
            let families: HashSet<&str> = records.iter().map(|r| &r[family]).collect();
            assert!(families.contains("hashing") && families.contains("noop"), "{families:?}");
            run_ids.extend(records.iter().map(|r| r[0].to_string()));
        } else {
            assert!(records.iter().all(|r| run_ids.contains(&r[0])), "{file} rows belong to summary runs");
        }
    }
    for run_id in &run_ids {
        let log = std::fs::read(out.join("hlog").join(format!("{run_id}.hlog"))).unwrap();
        let mut histograms = 0;
        for entry in IntervalLogIterator::new(&log) {
            if let LogEntry::Interval(interval) = entry.expect("the log parses") {
                let bytes = base64_decode(interval.encoded_histogram());
                let histogram: hdrhistogram::Histogram<u64> = Deserializer::new().deserialize(&mut &bytes[..]).unwrap();
                // An interval whose operations all failed (a lock lost to a pause), or in which
                // no operation ended (a worker descheduled on a busy machine), is written too,
                // empty; a run has at least one that is not.
                histograms += u32::from(!histogram.is_empty());
            }
        }
        assert!(histograms > 0, "{run_id}.hlog has intervals with latencies");
    }
    let host: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("host.json")).unwrap()).unwrap();
    assert!(host["cpu_cores_logical"].as_u64().unwrap() >= 1);
}

/// Standard base64, as the interval log encodes histograms.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes().filter(|b| *b != b'=') {
        bits = (bits << 6) | ALPHABET.iter().position(|c| *c == byte).expect("base64") as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

fn assert_bad_input(args: &[&str], needles: &[&str]) {
    let output = stratbench(args);
    let message = text(&output);
    assert_eq!(output.status.code(), Some(2), "{args:?} should exit 2: {message}");
    for needle in needles {
        assert!(message.contains(needle), "{args:?}: message should name `{needle}`: {message}");
    }
    assert!(!message.contains("panicked"), "{args:?} panicked: {message}");
}

#[test]
fn bad_flags_exit_2_naming_the_problem() {
    assert_bad_input(&["run", "--family", "hashingg"], &["hashingg"]);
    assert_bad_input(&["run", "--strategy", "ringg"], &["ringg"]);
    assert_bad_input(&["run", "--dist", "gaussian"], &["--dist", "gaussian"]);
    assert_bad_input(&["run", "--rate", "0"], &["--rate", "positive"]);
    assert_bad_input(&["run", "--rate", "-100"], &["--rate"]);
    assert_bad_input(&["run", "--nodes", "0"], &["--nodes", "at least 1"]);
    assert_bad_input(&["run", "--nodes", "-3"], &["--nodes"]);
    assert_bad_input(&["run", "--family", "hashing", "--nodes", "100001"], &["nodes", "at most 100000"]);
    assert_bad_input(&["run", "--duration", "0s"], &["--duration"]);
    assert_bad_input(&["run", "--duration", "10q"], &["--duration", "10q"]);
    assert_bad_input(&["run", "--warmup", "soon"], &["--warmup", "soon"]);
    assert_bad_input(&["run", "--concurrency", "0"], &["--concurrency"]);
    assert_bad_input(&["run", "--family", "hashing", "--param", "vnodes=0"], &["vnodes"]);
    assert_bad_input(&["run", "--family", "hashing", "--param", "maglev_table=1000"], &["maglev_table", "prime"]);
    assert_bad_input(&["run", "--family", "noop", "--mode", "net"], &["nothing to run", "net"]);
    assert_bad_input(&["run", "no-such-preset"], &["no-such-preset", "quick"]);
    assert_bad_input(&["run", "/no/such/file.toml"], &["/no/such/file.toml"]);
    assert_bad_input(&["locate", "--strategy", "nope", "--nodes", "3", "k"], &["nope"]);
    assert_bad_input(&["locate", "--strategy", "jump", "--nodes", "3", "--key-format", "u64", "abc"], &["abc"]);
}

#[test]
fn bad_scenario_files_exit_2_naming_field_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[&str])] = &[
        ("[[scenario]\nname = 'x'", &["line 1"]),
        ("[[scenario]]\nname = 'x'\nfamily = 'hashing'\nduration = '10q'", &["line 4", "10q"]),
        ("[[scenario]]\nname = 'x'\nfamily = 'hashing'\nnodes = 0", &["line 4", "nodes", "at least 1"]),
        ("[[scenario]]\nname = 'x'\nfamily = 'hashing'\nrate = -5.0", &["line 4", "rate"]),
        ("[[scenario]]\nname = 'x'\nfamily = 'hashing'\ndist = 'gaussian'", &["line 4", "gaussian"]),
        ("[[scenario]]\nname = 'x'\nfamily = 'hashing'\nwarmup = 'later'", &["line 4", "later"]),
        ("[[scenario]]\nname = 'x'\nfamily = 'hashing'\nnodess = 3", &["line 4", "nodess"]),
        ("[[scenario]]\nname = 'x'\nfamily = 'hashing'\nduration = '0s'", &["`duration`", "`x`"]),
        ("[[scenario]]\nname = 'x'\nfamily = 'locksmith'", &["locksmith", "unknown family"]),
        ("[[scenario]]\nname = 'x'\nfamily = 'hashing'\nstrategies = ['ring', 'rng']", &["rng"]),
        ("[[scenario]]\nname = 'x'\nfamily = 'hashing'\n[scenario.params]\nepsilon = -1", &["epsilon"]),
        (
            "[[scenario]]\nname = 'x'\nfamily = 'hashing'\n[[scenario.events]]\nat = '1s'\naction = 'explode'",
            &["events[0]", "explode"],
        ),
        (
            "[[scenario]]\nname = 'x'\nfamily = 'commit'\n[[scenario.events]]\nat = '1s'\naction = 'kill-leader'",
            &["events[0]", "`kill-leader`", "commit family"],
        ),
    ];
    for (i, (toml, needles)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("case{i}.toml"));
        std::fs::write(&path, toml).unwrap();
        let path = path.to_str().unwrap();
        let mut expected = needles.to_vec();
        expected.push(path);
        assert_bad_input(&["run", path, "--out", dir.path().join("out").to_str().unwrap()], &expected);
    }
}

#[test]
fn ctrl_c_stops_the_run_and_leaves_valid_csv() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let child = Command::new(env!("CARGO_BIN_EXE_stratbench"))
        .args(["run", "--family", "noop", "--duration", "60s", "--warmup", "200ms", "--repeat", "2", "--out"])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    // A second session into the same directory would overwrite its files: refused.
    let second = stratbench(&["run", "--family", "noop", "--duration", "1s", "--out", out.to_str().unwrap()]);
    assert_eq!(second.status.code(), Some(2), "{}", text(&second));
    assert!(text(&second).contains("another stratbench run is writing there"), "{}", text(&second));
    let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let started = Instant::now();
    let output = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10), "stopped promptly");
    assert_eq!(output.status.code(), Some(130), "{}", text(&output));
    let (header, records) = read_csv(&out.join("summary.csv"));
    assert_eq!(records.len(), 1, "the second repetition never started");
    let status = header.iter().position(|c| c == "status").unwrap();
    let ops = header.iter().position(|c| c == "ops").unwrap();
    assert_eq!(&records[0][status], "interrupted");
    assert!(records[0][ops].parse::<u64>().unwrap() > 0, "what was measured is there");
    let (_, intervals) = read_csv(&out.join("timeseries.csv"));
    assert!(!intervals.is_empty());
}

#[test]
fn list_shows_families_strategies_and_presets() {
    let output = stratbench(&["list"]);
    assert!(output.status.success());
    let listing = text(&output);
    for needle in ["hashing", "maglev", "crate:jumphash", "noop", "zipfian", "quick", "resize", "ycsb-a"] {
        assert!(listing.contains(needle), "list mentions {needle}: {listing}");
    }
}

#[test]
fn locate_places_raw_keys_like_the_reference_jump() {
    // Test vectors of the paper's reference code (as the Go port go-jump checks them).
    for (nodes, key, bucket) in [("57", "42", "43"), ("1024", "256", "520"), ("666", "3735883980", "361")] {
        let output = stratbench(&["locate", "--strategy", "jump", "--nodes", nodes, "--key-format", "u64", key]);
        assert!(output.status.success(), "{}", text(&output));
        assert_eq!(String::from_utf8_lossy(&output.stdout), format!("{key}\t{bucket}\n"));
    }
    let output = stratbench(&["locate", "--strategy", "ring", "--nodes", "5", "user:1", "user:2"]);
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 2);
}
