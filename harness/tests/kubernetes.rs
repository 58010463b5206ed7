//! Load from several machines on Kubernetes (deploy/kubernetes/): the manifests rendered for N
//! drivers, and N driver processes run on this machine exactly as the Indexed Job's pods run
//! them — the rendered pod arguments and environment, the pod command `driver.sh`, one shared
//! results directory, then the merge Job's `merge.sh` — checked against one driver carrying
//! all the load.

mod common;

use common::{stratbench, text};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::SystemTime;

const DRIVERS: usize = 3;
const RATE_PER_DRIVER: u32 = 1000;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn render(out: &Path, start_at: &str, run_args: &[&str]) -> Output {
    Command::new("sh")
        .arg(repo().join("scripts/render-kubernetes.sh"))
        .args(["--drivers", &DRIVERS.to_string(), "--out", out.to_str().unwrap(), "--start-at", start_at, "--"])
        .args(run_args)
        .output()
        .unwrap()
}

/// The `args:` list of the driver container, unquoted.
fn pod_args(driver_job: &str) -> Vec<String> {
    let lines = driver_job.lines().skip_while(|l| l.trim() != "args:").skip(1);
    let items = lines.map_while(|l| l.trim().strip_prefix("- \"").and_then(|rest| rest.strip_suffix('"')));
    items.map(|item| item.replace("\\\"", "\"").replace("\\\\", "\\")).collect()
}

/// The value of env variable `name` in a rendered manifest.
fn pod_env(manifest: &str, name: &str) -> String {
    let mut lines = manifest.lines().skip_while(|l| l.trim() != format!("- name: {name}"));
    let value = lines.nth(1).and_then(|l| l.trim().strip_prefix("value: ")).unwrap_or_else(|| panic!("{name}"));
    value.trim_matches('"').to_string()
}

/// Runs a pod command (`driver.sh` or `merge.sh`) with `env`, finding `stratbench` on PATH as
/// the image does.
fn pod_command(script: &str, args: &[String], env: &[(&str, String)]) -> Command {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_stratbench")).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let mut command = Command::new("sh");
    command.arg(repo().join("deploy/kubernetes").join(script)).args(args).env("PATH", path);
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

fn summary(dir: &Path) -> std::collections::HashMap<String, String> {
    let rows = common::summary(dir);
    assert_eq!(rows.len(), 1, "{}", dir.display());
    rows.into_iter().next().unwrap()
}

#[test]
fn manifests_render_for_n_drivers_and_bad_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k8s");
    let rendered = render(&out, "1800000000", &["quick", "--name", "say \"hi\""]);
    assert!(rendered.status.success(), "{}", text(&rendered));
    let driver_job = std::fs::read_to_string(out.join("driver-job.yaml")).unwrap();
    for line in
        ["completionMode: Indexed", "completions: 3", "parallelism: 3", "command: [\"/usr/local/bin/driver.sh\"]"]
    {
        assert!(driver_job.contains(line), "{line} in {driver_job}");
    }
    assert_eq!(pod_args(&driver_job), ["quick", "--name", "say \"hi\""]);
    assert_eq!(pod_env(&driver_job, "START_AT"), "1800000000");
    let merge_job = std::fs::read_to_string(out.join("merge-job.yaml")).unwrap();
    assert_eq!(pod_env(&merge_job, "DRIVERS"), "3");
    for file in ["results-pvc.yaml", "driver-job.yaml", "merge-job.yaml"] {
        let manifest = std::fs::read_to_string(out.join(file)).unwrap();
        assert!(!manifest.contains('@'), "every placeholder filled in {file}: {manifest}");
        assert!(manifest.contains("stratbench-results"), "one shared volume: {file}");
    }
    let cases: [(&[&str], &str); 3] = [
        (&["--drivers", "0", "--out", "x", "--", "quick"], "--drivers"),
        (&["--drivers", "2", "--out", "x", "--", "quick", "--out", "y"], "--out"),
        (&["--drivers", "2", "--out", "x", "--start-at", "soon", "--", "quick"], "--start-at"),
    ];
    for (args, named) in cases {
        let output = Command::new("sh").arg(repo().join("scripts/render-kubernetes.sh")).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(String::from_utf8_lossy(&output.stderr).contains(named), "{args:?}: {}", text(&output));
    }
}

#[test]
fn n_drivers_run_as_the_pods_do_and_merge_like_one_driver_carrying_all_the_load() {
    let dir = tempfile::tempdir().unwrap();
    let start = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs_f64() + 4.0;
    let rate = RATE_PER_DRIVER.to_string();
    let load = ["--family", "noop", "--duration", "2s", "--warmup", "200ms", "--interval", "500ms"];
    let run_args: Vec<&str> = load.iter().copied().chain(["--rate", &rate, "--concurrency", "1"]).collect();
    let manifests = dir.path().join("k8s");
    let rendered = render(&manifests, &format!("{start:.3}"), &run_args);
    assert!(rendered.status.success(), "{}", text(&rendered));
    let driver_job = std::fs::read_to_string(manifests.join("driver-job.yaml")).unwrap();
    let merge_job = std::fs::read_to_string(manifests.join("merge-job.yaml")).unwrap();
    let results = dir.path().join("results");
    let env = |index: usize| {
        vec![
            ("JOB_COMPLETION_INDEX", index.to_string()),
            ("START_AT", pod_env(&driver_job, "START_AT")),
            ("RESULTS", results.display().to_string()),
        ]
    };
    let spawn = |i| {
        let mut command = pod_command("driver.sh", &pod_args(&driver_job), &env(i));
        command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
    };
    let pods: Vec<_> = (0..DRIVERS).map(spawn).collect();
    for pod in pods {
        let output = pod.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", text(&output));
    }
    let merge_env = [("DRIVERS", pod_env(&merge_job, "DRIVERS")), ("RESULTS", results.display().to_string())];
    let merged = pod_command("merge.sh", &[], &merge_env).output().unwrap();
    assert!(merged.status.success(), "{}", text(&merged));

    let drivers: Vec<_> = (0..DRIVERS).map(|i| summary(&results.join(format!("driver-{i}")))).collect();
    let m = summary(&results.join("merged"));
    assert_eq!(m["driver_id"], "driver-0+driver-1+driver-2");
    let ops = |row: &std::collections::HashMap<String, String>| row["ops"].parse::<f64>().unwrap();
    assert_eq!(ops(&m), drivers.iter().map(ops).sum::<f64>(), "operation counts add");
    assert!(!m["message"].contains("off the common interval grid"), "{}", m["message"]);

    let one = dir.path().join("one");
    let all_rate = (RATE_PER_DRIVER * DRIVERS as u32).to_string();
    let mut single: Vec<&str> = ["run"].into_iter().chain(load).collect();
    let workers = DRIVERS.to_string();
    single.extend(["--rate", &all_rate, "--concurrency", &workers, "--out", one.to_str().unwrap()]);
    let output = stratbench(&single);
    assert!(output.status.success(), "{}", text(&output));
    let expected = f64::from(RATE_PER_DRIVER) * DRIVERS as f64 * 2.0;
    for count in [ops(&m), ops(&summary(&one))] {
        assert!((count - expected).abs() <= 0.02 * expected, "{count} operations, {expected} scheduled");
    }
    let merged_dir = results.join("merged");
    let compare = ["compare", one.to_str().unwrap(), merged_dir.to_str().unwrap(), "--threshold", "off"];
    let output = stratbench(&compare);
    assert_eq!(output.status.code(), Some(0), "the merged run matches the single driver's: {}", text(&output));
}

#[test]
fn the_merge_job_refuses_when_a_driver_left_no_summary() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    std::fs::create_dir_all(results.join("driver-0")).unwrap();
    std::fs::write(results.join("driver-0/summary.csv"), "run_id\n").unwrap();
    let env = [("DRIVERS", "2".to_string()), ("RESULTS", results.display().to_string())];
    let output = pod_command("merge.sh", &[], &env).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("driver-1"), "{}", text(&output));
    assert!(!results.join("merged").exists());
}
