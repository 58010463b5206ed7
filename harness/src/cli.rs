//! Command-line flags, as parsed by clap. Values are checked with the same parsers the
//! scenario files use (durations, positive counts, rates), so a flag and a file field give the
//! same message for the same mistake. [`crate::plan`] turns these flags into a typed run plan.

use crate::output::format::OutputFormat;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use workloads::Arrivals;
use workloads::OperationMix;
use workloads::keys::DistributionName;
use workloads::scenario::Mode;
use workloads::units::{HumanDuration, Positive, Rate};

/// Benchmark and load-testing harness for distributed-systems strategies.
#[derive(Debug, Parser)]
#[command(name = "stratbench", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios (default: the in-process `quick` suite) and write CSV summaries.
    Run(Box<RunArgs>),
    /// List families, strategies, modes, distributions and presets.
    List,
    /// Print which node owns each key under a hashing strategy.
    Locate(LocateArgs),
    /// Compare two summaries run by run; exit 1 on a regression beyond its threshold.
    Compare(CompareArgs),
    /// Add up the interval histograms of run directories written by several drivers.
    Merge(MergeArgs),
    /// Write a self-contained HTML report with plots of a run directory.
    Report(ReportArgs),
    /// Capacity of each strategy at a latency objective: open-loop runs at rising rates until
    /// the objective breaks (`--slo "p99<10ms"`); writes sweep.csv and the capacity columns.
    Sweep(Box<SweepArgs>),
    /// One lock client in its own process, answering requests on stdin (started by the locks
    /// family with `client_process = true`).
    #[command(hide = true)]
    LockClient(LockClientArgs),
    /// Run one networked node (what `run --mode net` starts on loopback; by hand to debug).
    Serve(ServeArgs),
    /// Run PROGRAM in a process group of its own and stop that group when the harness that
    /// started this goes away (how every server the harness starts dies with it).
    #[command(hide = true)]
    Supervise(SuperviseArgs),
}

/// Flags of the hidden `stratbench supervise`.
#[derive(Debug, Args)]
pub struct SuperviseArgs {
    /// Run the program as this user id (with --gid).
    #[arg(long, requires = "gid")]
    pub uid: Option<u32>,
    /// Run the program as this group id (with --uid).
    #[arg(long, requires = "uid")]
    pub gid: Option<u32>,
    /// The program's scratch directory, removed if the harness goes away.
    #[arg(long)]
    pub remove_dir: Option<std::path::PathBuf>,
    /// The program and its arguments.
    #[arg(last = true, required = true)]
    pub command: Vec<std::ffi::OsString>,
}

/// Flags of the hidden `stratbench lock-client`.
#[derive(Debug, Args)]
pub struct LockClientArgs {
    /// A networked lock strategy.
    #[arg(long)]
    pub strategy: String,
    /// The servers (as the family passes them: URLs or HOST:PORT), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub servers: Vec<String>,
    /// The run's namespace for keys and nodes.
    #[arg(long)]
    pub namespace: String,
    /// The driver worker this client serves.
    #[arg(long)]
    pub worker: u32,
    /// The scenario's lock parameters, NAME=VALUE.
    #[arg(long = "param", value_parser = parse_param)]
    pub params: Vec<(String, toml::Value)>,
}

/// Flags of `stratbench serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(subcommand)]
    pub role: ServeRole,
}

/// The roles a `serve` process can play; each family with networked nodes adds its own.
#[derive(Debug, Subcommand)]
pub enum ServeRole {
    /// A two-phase-commit participant: holds accounts, votes, applies decisions.
    Participant(ParticipantArgs),
    /// A two-phase-commit coordinator: runs transactions for clients.
    Coordinator(CoordinatorArgs),
    /// A replica of the Paxos-replicated key-value store.
    Replica(ReplicaArgs),
    /// An HTTP backend that answers after a simulated latency (balancing family).
    Backend(BackendArgs),
    /// An HTTP reverse proxy in front of backends, with a balancing strategy.
    Proxy(ProxyArgs),
}

/// Flags every node process takes.
#[derive(Debug, Args)]
pub struct NodeArgs {
    /// The node's id (2PC: participants 0..P, coordinators from P; replicas 0..N).
    #[arg(long)]
    pub id: u32,
    /// Where to listen; loopback only. Port 0 picks a free port, printed on stdout as
    /// `listening on ADDR`.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: std::net::SocketAddr,
    /// Directory of the node's log (created if missing).
    #[arg(long)]
    pub data_dir: PathBuf,
    /// fsync the log at every forced write.
    #[arg(long)]
    pub fsync: bool,
    /// A node it may dial, ID=ADDR; may be repeated.
    #[arg(long = "peer", value_parser = parse_peer)]
    pub peers: Vec<(u32, std::net::SocketAddr)>,
    /// Seed of the fault injector's draws.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Exit when stdin closes (the harness holds it open, so that no node outlives it).
    #[arg(long)]
    pub exit_on_stdin_close: bool,
}

/// The retry flag of the two-phase-commit roles.
#[derive(Debug, Args)]
pub struct RetryArgs {
    /// How often to resend an unacknowledged decision or ask again about a doubt.
    #[arg(long, value_parser = parse_duration, default_value = "100ms")]
    pub retry_every: HumanDuration,
}

/// Flags of `stratbench serve participant`.
#[derive(Debug, Args)]
pub struct ParticipantArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    #[command(flatten)]
    pub retry: RetryArgs,
    /// A prepared transaction without a decision after this long is in doubt.
    #[arg(long, value_parser = parse_duration, default_value = "200ms")]
    pub decision_timeout: HumanDuration,
}

/// Flags of `stratbench serve coordinator`.
#[derive(Debug, Args)]
pub struct CoordinatorArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    #[command(flatten)]
    pub retry: RetryArgs,
    /// Abort a transaction whose votes are not all in after this long.
    #[arg(long, value_parser = parse_duration, default_value = "500ms")]
    pub vote_timeout: HumanDuration,
}

/// Flags of `stratbench serve replica`.
#[derive(Debug, Args)]
pub struct ReplicaArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// Replicas in the group (ids 0..N).
    #[arg(long, default_value_t = 3)]
    pub replicas: u32,
    /// The protocol: multi-paxos (phase 1 once per leader, batched, pipelined) or paxos (both
    /// phases per command).
    #[arg(long, value_enum, default_value_t)]
    pub protocol: ProtocolArg,
    /// The leader's heartbeat interval.
    #[arg(long, value_parser = parse_duration, default_value = "20ms")]
    pub heartbeat: HumanDuration,
    /// Run for leader after hearing none for this long (plus a random part of as much again).
    #[arg(long, value_parser = parse_duration, default_value = "150ms")]
    pub election_timeout: HumanDuration,
    /// Answer reads from the leader's state while it holds a lease.
    #[arg(long)]
    pub lease_reads: bool,
    /// The most commands in one log slot.
    #[arg(long, default_value_t = 1024)]
    pub max_batch: u32,
    /// The most slots a leader has in flight.
    #[arg(long, default_value_t = 64)]
    pub window: u32,
}

/// The replicas' protocol.
#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum ProtocolArg {
    #[default]
    MultiPaxos,
    Paxos,
}

/// `ID=ADDR`.
fn parse_peer(text: &str) -> Result<(u32, std::net::SocketAddr), String> {
    let (id, address) = text.split_once('=').ok_or_else(|| format!("`{text}` is not ID=ADDR"))?;
    let id = id.trim().parse().map_err(|_| format!("`{id}` is not a node id"))?;
    let address = address.trim().parse().map_err(|_| format!("`{address}` is not an address like 127.0.0.1:7000"))?;
    Ok((id, address))
}

/// Flags every serve role shares.
#[derive(Debug, Args, Clone)]
pub struct ServeCommon {
    /// Address to listen on (loopback only; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: std::net::SocketAddr,
    /// Seed of the node's random choices.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Exit when standard input closes (how the harness makes sure its children never
    /// outlive it).
    #[arg(long)]
    pub exit_on_stdin_close: bool,
}

/// Flags of `stratbench serve backend`.
#[derive(Debug, Args)]
pub struct BackendArgs {
    #[command(flatten)]
    pub common: ServeCommon,
    /// Latency model: 5ms, constant:5ms, uniform:0ms..10ms, exp:5ms, lognormal:5ms,0.5.
    #[arg(long, default_value = "0")]
    pub latency: String,
    /// The backend's index, reported in the x-backend header.
    #[arg(long, default_value_t = 0)]
    pub id: u32,
    /// Requests served at once (more wait); unlimited if absent.
    #[arg(long, value_parser = parse_positive)]
    pub capacity: Option<Positive>,
    /// Fraction of requests answered with a 500.
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
}

/// Flags of `stratbench serve proxy`.
#[derive(Debug, Args)]
pub struct ProxyArgs {
    #[command(flatten)]
    pub common: ServeCommon,
    /// A balancing strategy (see `stratbench list`).
    #[arg(long)]
    pub strategy: String,
    /// Backend addresses, comma-separated: 127.0.0.1:8001,127.0.0.1:8002.
    #[arg(long, value_delimiter = ',', required = true)]
    pub backends: Vec<String>,
    /// A balancing parameter, NAME=VALUE (weights=[1,2,4], ewma_decay="10s"); may be repeated.
    #[arg(long = "param", value_parser = parse_param)]
    pub params: Vec<(String, toml::Value)>,
    /// Append one line per request to this file, in nginx's access-log format (the backends
    /// tried, their statuses and times), for drain and return times.
    #[arg(long)]
    pub attempt_log: Option<std::path::PathBuf>,
}

/// Flags of `stratbench run`. Every workload flag overrides the scenario files.
#[derive(Debug, Args, Default)]
#[command(allow_negative_numbers = true)]
pub struct RunArgs {
    /// Scenario files (TOML) or preset names (file stems in workloads/scenarios/).
    pub scenarios: Vec<String>,
    /// Run only this family (without SCENARIO: a scenario of this family from the flags).
    #[arg(long)]
    pub family: Option<String>,
    /// Strategies to run, comma-separated (default: all of the family's).
    #[arg(long = "strategy", value_delimiter = ',')]
    pub strategies: Vec<String>,
    /// inproc, net or all.
    #[arg(long, value_parser = parse_mode)]
    pub mode: Option<Mode>,
    /// Length of the measured phase (10s, 500ms, 2m).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<HumanDuration>,
    /// Warm-up before the measured phase, left out of the summary (0s: none, as in a
    /// scenario file).
    #[arg(long, value_parser = HumanDuration::parse)]
    pub warmup: Option<HumanDuration>,
    /// End the measured phase after this many operations (or at --duration, if sooner).
    #[arg(long, value_parser = parse_positive)]
    pub ops: Option<Positive>,
    /// Workers: operations in flight (closed loop), or the most operations in flight — the
    /// pool of slots that serve the one schedule of --rate (open loop).
    #[arg(long, value_parser = parse_positive)]
    pub concurrency: Option<Positive>,
    /// Target rate in operations per second: makes the run open loop, with latency counted
    /// from each operation's intended start (coordinated-omission correction).
    #[arg(long, value_parser = parse_rate)]
    pub rate: Option<Rate>,
    /// Spacing of open-loop arrivals.
    #[arg(long, value_enum)]
    pub arrivals: Option<ArrivalsArg>,
    /// Size of the key space.
    #[arg(long, value_parser = parse_positive)]
    pub keys: Option<Positive>,
    /// Key distribution: uniform, zipfian, hotspot, sequential or latest.
    #[arg(long, value_parser = parse_dist)]
    pub dist: Option<DistributionName>,
    /// Number of nodes at the start.
    #[arg(long, value_parser = parse_positive)]
    pub nodes: Option<Positive>,
    /// Operation mix as weights, e.g. `read=0.2,update=0.8` (read, update, insert, scan,
    /// read-modify-write).
    #[arg(long, value_parser = parse_mix)]
    pub mix: Option<OperationMix>,
    /// Operations timed together (closed loop).
    #[arg(long, value_parser = parse_positive)]
    pub batch: Option<Positive>,
    /// Closed loop: each worker's pause between operations (a user's think time), slept
    /// outside the timed span.
    #[arg(long, value_parser = parse_duration)]
    pub think: Option<HumanDuration>,
    /// Length of a time-series interval.
    #[arg(long, value_parser = parse_duration)]
    pub interval: Option<HumanDuration>,
    /// Seed of every random choice.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Repetitions of each run; every one keeps its own row.
    #[arg(long, value_parser = parse_positive)]
    pub repeat: Option<Positive>,
    /// A strategy parameter, NAME=VALUE (VALUE in TOML syntax); may be repeated.
    #[arg(long = "param", value_parser = parse_param)]
    pub params: Vec<(String, toml::Value)>,
    /// Directory for the results (default: results/<timestamp>-<name>); one that already holds
    /// a run is refused (exit 2) unless --force.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the run already in --out (its files are removed first).
    #[arg(long)]
    pub force: bool,
    /// Shrink every run for a smoke test (1 s measured, 100k keys at most).
    #[arg(long)]
    pub quick: bool,
    /// Use running Redis servers (redis://HOST:PORT, comma-separated; Redlock uses them all as
    /// masters) instead of starting redis-server.
    #[arg(long, value_delimiter = ',')]
    pub redis: Vec<String>,
    /// Use a running ZooKeeper ensemble (HOST:PORT, comma-separated) instead of starting one.
    #[arg(long, value_delimiter = ',')]
    pub zookeeper: Vec<String>,
    /// Use a running etcd cluster (http://HOST:PORT, comma-separated) instead of starting one.
    #[arg(long, value_delimiter = ',')]
    pub etcd: Vec<String>,
    /// What to print on stdout at the end: a table, CSV or JSON rows, or markdown.
    #[arg(long, value_enum, default_value_t)]
    pub format: OutputFormat,
    /// This driver's name when several machines drive the same target (recorded in every
    /// row and in host.json; `stratbench merge` combines their run directories).
    #[arg(long, value_parser = parse_driver_id)]
    pub driver_id: Option<String>,
    /// Start the first run at this wall-clock time, in seconds since the UNIX epoch (for
    /// example `$(($(date +%s) + 10))`), so that several drivers measure the same intervals.
    #[arg(long, value_parser = parse_epoch)]
    pub start_at: Option<SystemTime>,
    /// Serve the last finished interval's throughput, percentiles and errors, and the
    /// session's totals, at `http://ADDR/metrics` in the Prometheus text format while the
    /// session runs (a loopback address, e.g. 127.0.0.1:9464; port 0 picks one and logs it).
    #[arg(long, value_name = "ADDR", value_parser = parse_loopback_address)]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Run each strategy until its p99's 95% interval is within ± this much of p99 (`5%`),
    /// lengthening the measured phase up to --max-duration.
    #[arg(long, value_parser = parse_percent)]
    pub precision: Option<f64>,
    /// The longest measured phase --precision may use (default 5m).
    #[arg(long, value_parser = parse_duration)]
    pub max_duration: Option<HumanDuration>,
}

/// Flags of `stratbench sweep`: those of `run`, and the objective and the rates to search
/// (each overrides the scenario's `[scenario.sweep]` table).
#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// The objective: a latency percentile under a bound, optionally an error-rate bound
    /// (`p99<10ms`, `p99.9<50ms,errors<1%`).
    #[arg(long)]
    pub slo: Option<String>,
    /// The first rate, in operations per second (default: the scenario's rate, or 100).
    #[arg(long, value_parser = parse_rate)]
    pub start: Option<Rate>,
    /// Each geometric step's rate over the last (default 2).
    #[arg(long)]
    pub factor: Option<f64>,
    /// The highest rate to try.
    #[arg(long, value_parser = parse_rate)]
    pub max_rate: Option<Rate>,
    /// The most runs per strategy (default 20).
    #[arg(long, value_parser = parse_positive)]
    pub max_steps: Option<Positive>,
}

/// Flags of `stratbench compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline: a run directory or a summary.csv.
    pub baseline: PathBuf,
    /// The run to judge: a run directory or a summary.csv.
    pub current: PathBuf,
    /// Threshold in percent for every timing metric (`15`), or for one metric
    /// (`latency_us_p99=30`, `throughput_ops_s=off`); may be repeated.
    #[arg(long)]
    pub threshold: Vec<String>,
    /// A TOML file of thresholds per metric and per row (see results/README.md).
    #[arg(long)]
    pub thresholds: Option<PathBuf>,
    /// The strategy that `*_rel` metrics divide by, FAMILY=STRATEGY (default hashing=jump).
    #[arg(long)]
    pub reference: Vec<String>,
    /// How to print the comparison.
    #[arg(long, value_enum, default_value_t)]
    pub format: OutputFormat,
    /// Do not fail when runs of the baseline are missing from the current summary.
    #[arg(long)]
    pub allow_missing: bool,
}

/// Flags of `stratbench merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Run directories written by `stratbench run --driver-id ...` on each driver.
    #[arg(required = true, num_args = 1..)]
    pub dirs: Vec<PathBuf>,
    /// Directory for the merged run (default: results/<timestamp>-merged); not one of the
    /// inputs.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Merge even when a driver's (or a run's) interval logs are missing: its counts are
    /// added, its latencies cannot be.
    #[arg(long)]
    pub allow_partial: bool,
    /// What to print on stdout: the merged summary as a table, CSV, JSON or markdown.
    #[arg(long, value_enum, default_value_t)]
    pub format: OutputFormat,
}

/// Flags of `stratbench report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run directory to plot.
    pub dir: PathBuf,
    /// Where to write the report (default: RUN_DIR/report.html).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Open-loop arrival spacing.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ArrivalsArg {
    Constant,
    Poisson,
}

impl From<ArrivalsArg> for Arrivals {
    fn from(arg: ArrivalsArg) -> Self {
        match arg {
            ArrivalsArg::Constant => Arrivals::Constant,
            ArrivalsArg::Poisson => Arrivals::Poisson,
        }
    }
}

/// How `locate` reads keys.
#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum KeyFormat {
    /// Keys are strings; their xxh3-64 hash is placed.
    #[default]
    Str,
    /// Keys are unsigned 64-bit integers placed as they are (no hashing), to compare with
    /// other implementations of the same algorithm.
    U64,
}

/// Flags of `stratbench locate`.
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct LocateArgs {
    /// A hashing strategy (see `stratbench list`).
    #[arg(long)]
    pub strategy: String,
    /// Number of nodes (ids 0..N).
    #[arg(long, value_parser = parse_positive)]
    pub nodes: Positive,
    /// How to read the keys.
    #[arg(long, value_enum, default_value_t)]
    pub key_format: KeyFormat,
    /// A strategy parameter, NAME=VALUE; may be repeated.
    #[arg(long = "param", value_parser = parse_param)]
    pub params: Vec<(String, toml::Value)>,
    /// The keys.
    #[arg(required = true)]
    pub keys: Vec<String>,
}

fn parse_duration(text: &str) -> Result<HumanDuration, String> {
    let duration = HumanDuration::parse(text)?;
    if duration.0.is_zero() { Err("must be longer than zero".into()) } else { Ok(duration) }
}

/// The default of --max-duration.
pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(300);

/// `5%` or `5`, as a fraction: above 0% and below 100%.
fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%');
    let percent: f64 = number.parse().map_err(|_| format!("`{text}` is not a percentage like 5%"))?;
    if !(percent > 0.0 && percent < 100.0) {
        return Err(format!("`{text}`: a precision is above 0% and below 100%"));
    }
    Ok(percent / 100.0)
}

fn parse_positive(text: &str) -> Result<Positive, String> {
    text.parse()
}

fn parse_rate(text: &str) -> Result<Rate, String> {
    text.parse()
}

fn parse_dist(text: &str) -> Result<DistributionName, String> {
    text.parse()
}

/// A wall-clock start, in seconds since the UNIX epoch: not in the past, at most a day ahead.
fn parse_epoch(text: &str) -> Result<SystemTime, String> {
    let seconds: f64 =
        text.trim().parse().map_err(|_| format!("`{text}` is not a number of seconds since the epoch"))?;
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(format!("`{text}` is not a time since the epoch"));
    }
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(seconds);
    let now = SystemTime::now();
    if let Ok(past) = now.duration_since(at)
        && past > MAX_START_LATENESS
    {
        return Err(format!("`{text}` is {:.1}s in the past", past.as_secs_f64()));
    }
    if at.duration_since(now).is_ok_and(|ahead| ahead > MAX_START_WAIT) {
        return Err(format!("`{text}` is more than {}h ahead", MAX_START_WAIT.as_secs() / 3600));
    }
    Ok(at)
}

/// How far in the past `--start-at` may be (command-line latency), and how far ahead.
const MAX_START_LATENESS: Duration = Duration::from_secs(1);
const MAX_START_WAIT: Duration = Duration::from_secs(24 * 3600);

fn parse_loopback_address(text: &str) -> Result<std::net::SocketAddr, String> {
    let address: std::net::SocketAddr =
        text.parse().map_err(|_| format!("`{text}` is not an address like 127.0.0.1:9464"))?;
    if !address.ip().is_loopback() {
        return Err(format!("`{text}` is not a loopback address (stratbench listens on loopback only)"));
    }
    Ok(address)
}

fn parse_driver_id(text: &str) -> Result<String, String> {
    let ok = !text.is_empty()
        && text.len() <= 64
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok { Ok(text.to_string()) } else { Err(format!("`{text}`: use 1 to 64 letters, digits, `-`, `_` or `.`")) }
}

fn parse_mode(text: &str) -> Result<Mode, String> {
    text.parse()
}

/// `read=0.2,update=0.8`, read as the scenario files' `mix` table.
fn parse_mix(text: &str) -> Result<OperationMix, String> {
    let table = text.split(',').map(str::trim).filter(|p| !p.is_empty()).collect::<Vec<_>>().join("\n");
    let mix: OperationMix = toml::from_str(&table)
        .map_err(|e| format!("`{text}` is not a mix like read=0.2,update=0.8: {}", e.message()))?;
    mix.validate()?;
    Ok(mix)
}

/// `NAME=VALUE`, VALUE read as TOML (so `weights=[1,2,4]` and `epsilon=0.5` work), falling
/// back to a plain string.
fn parse_param(text: &str) -> Result<(String, toml::Value), String> {
    let (name, value) = text.split_once('=').ok_or_else(|| format!("`{text}` is not NAME=VALUE"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("`{text}` has an empty parameter name"));
    }
    let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut table| table.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_string()));
    Ok((name.to_string(), parsed))
}

/// Parses the process arguments. Help and version print and exit 0; a usage error prints
/// clap's message, which names the flag and the problem, and exits 2.
pub fn parse() -> Cli {
    Cli::parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_read_toml_values() {
        assert_eq!(parse_param("vnodes=40").unwrap(), ("vnodes".into(), toml::Value::Integer(40)));
        assert_eq!(parse_param("weights=[1,2]").unwrap().1, toml::Value::Array(vec![1.into(), 2.into()]));
        assert_eq!(parse_param("name=abc").unwrap().1, toml::Value::String("abc".into()));
        assert!(parse_param("novalue").is_err());
    }

    #[test]
    fn mixes_read_like_the_scenario_files() {
        let mix = parse_mix("read=0.2, update=0.8").unwrap();
        assert_eq!((mix.read, mix.update), (0.2, 0.8));
        assert_eq!(parse_mix("read-modify-write=1").unwrap().read_modify_write, 1.0);
    }

    #[test]
    fn zero_and_negative_values_are_refused() {
        for args in [
            vec!["stratbench", "run", "--duration", "0s"],
            vec!["stratbench", "run", "--concurrency", "0"],
            vec!["stratbench", "run", "--rate", "-10"],
            vec!["stratbench", "run", "--nodes", "-1"],
            vec!["stratbench", "run", "--duration", "ten"],
            vec!["stratbench", "run", "--dist", "gaussian"],
            vec!["stratbench", "run", "--mix", "reed=1"],
            vec!["stratbench", "run", "--mix", "read=-1"],
            vec!["stratbench", "run", "--start-at", "1000"],
            vec!["stratbench", "run", "--start-at", "soon"],
            vec!["stratbench", "run", "--driver-id", "a b"],
            vec!["stratbench", "run", "--format", "xml"],
        ] {
            assert!(Cli::try_parse_from(&args).is_err(), "{args:?}");
        }
    }
}
