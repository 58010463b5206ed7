//! Command-line flags, as parsed by clap. Values are checked with the same parsers the
//! scenario files use (durations, positive counts, rates), so a flag and a file field give the
//! same message for the same mistake. [`crate::plan`] turns these flags into a typed run plan.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use workloads::Arrivals;
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
    /// Run one networked node (a backend, a proxy) until stopped.
    Serve(ServeArgs),
}

/// `stratbench serve ROLE ...`: one networked node, in the foreground, until Ctrl-C or
/// SIGTERM. Prints `listening <address>` on stdout once it accepts connections.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(subcommand)]
    pub role: ServeRole,
}

/// The roles a `serve` process can play. Each family with a networked version adds its own.
#[derive(Debug, Subcommand)]
pub enum ServeRole {
    /// An HTTP backend that answers after a simulated latency (balancing family).
    Backend(BackendArgs),
    /// An HTTP reverse proxy in front of backends, with a balancing strategy.
    Proxy(ProxyArgs),
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
    pub exit_on_stdin_eof: bool,
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
    /// Warm-up before the measured phase, left out of the summary.
    #[arg(long, value_parser = parse_duration)]
    pub warmup: Option<HumanDuration>,
    /// End the measured phase after this many operations (or at --duration, if sooner).
    #[arg(long, value_parser = parse_positive)]
    pub ops: Option<Positive>,
    /// Workers: operations in flight (closed loop), or workers sharing --rate (open loop).
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
    /// Operations timed together (closed loop).
    #[arg(long, value_parser = parse_positive)]
    pub batch: Option<Positive>,
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
    /// Directory for the results (default: results/<timestamp>-<name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Shrink every run for a smoke test (1 s measured, 100k keys at most).
    #[arg(long)]
    pub quick: bool,
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

fn parse_positive(text: &str) -> Result<Positive, String> {
    text.parse()
}

fn parse_rate(text: &str) -> Result<Rate, String> {
    text.parse()
}

fn parse_dist(text: &str) -> Result<DistributionName, String> {
    text.parse()
}

fn parse_mode(text: &str) -> Result<Mode, String> {
    text.parse()
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
    fn zero_and_negative_values_are_refused() {
        for args in [
            vec!["stratbench", "run", "--duration", "0s"],
            vec!["stratbench", "run", "--concurrency", "0"],
            vec!["stratbench", "run", "--rate", "-10"],
            vec!["stratbench", "run", "--nodes", "-1"],
            vec!["stratbench", "run", "--duration", "ten"],
            vec!["stratbench", "run", "--dist", "gaussian"],
        ] {
            assert!(Cli::try_parse_from(&args).is_err(), "{args:?}");
        }
    }
}
