//! The locks family's parameters (`[scenario.params]`), checked once before a run. Every
//! error names the parameter.

use std::collections::BTreeMap;
use std::time::Duration;
use workloads::units::HumanDuration;

/// The longest TTL, hold, think time or timeout accepted: longer is a typo.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);
/// The most lock names a run may use (the checker keeps state per lock).
pub const MAX_LOCKS: u64 = 1_000_000;

/// How hold times are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldDist {
    /// Always `hold`.
    Fixed,
    /// Exponential with mean `hold`.
    Exponential,
}

/// Parameters of a locks run.
#[derive(Clone, Debug, PartialEq)]
pub struct LockParams {
    /// Lease TTL (lease, redis, redlock) and etcd lease TTL (rounded up to whole seconds).
    pub ttl: Duration,
    /// Time a holder keeps the lock after writing to the resource.
    pub hold: Duration,
    pub hold_dist: HoldDist,
    /// Give up acquiring after this long.
    pub acquire_timeout: Duration,
    /// redis and redlock: the longest random wait before retrying a refused acquire.
    pub retry_delay: Duration,
    /// The protected resource rejects writes with a token lower than the highest it has seen.
    pub fencing: bool,
    /// redlock: independent masters (3 or 5).
    pub masters: usize,
    /// zookeeper: session timeout.
    pub session_timeout: Duration,
    /// etcd: members of the cluster started by the harness (1 or 3).
    pub etcd_members: usize,
    /// redis, redlock: `appendonly yes` with `appendfsync always` on the managed servers.
    pub redis_fsync_always: bool,
    /// Networked strategies: each client in its own process, so a pause stops it whole.
    pub client_process: bool,
}

impl Default for LockParams {
    fn default() -> Self {
        LockParams {
            ttl: Duration::from_secs(5),
            hold: Duration::ZERO,
            hold_dist: HoldDist::Fixed,
            acquire_timeout: Duration::from_secs(5),
            retry_delay: Duration::from_millis(1),
            fencing: true,
            masters: 3,
            session_timeout: Duration::from_secs(4),
            etcd_members: 1,
            redis_fsync_always: false,
            client_process: false,
        }
    }
}

/// A parameter with a bad value: (parameter name, message).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("parameter `{param}`: {message}")]
pub struct ParamError {
    pub param: String,
    pub message: String,
}

impl LockParams {
    /// Every parameter name.
    pub const NAMES: [&'static str; 11] = [
        "ttl",
        "hold",
        "hold_dist",
        "acquire_timeout",
        "retry_delay",
        "fencing",
        "masters",
        "session_timeout",
        "etcd_members",
        "redis_persistence",
        "client_process",
    ];

    /// Reads `[params]`.
    pub fn from_table(table: &BTreeMap<String, toml::Value>) -> Result<Self, ParamError> {
        let mut params = LockParams::default();
        for (name, value) in table {
            let name = name.as_str();
            match name {
                "ttl" => params.ttl = positive_duration(name, value, Duration::from_millis(1))?,
                "hold" => params.hold = duration(name, value)?,
                "think" => {
                    return Err(error(
                        name,
                        "think time is the workload's now: set `think = \"5ms\"` beside `concurrency` in the \
                         scenario (or `--think 5ms`); it is slept between cycles, outside the timed span",
                    ));
                }
                "acquire_timeout" => params.acquire_timeout = positive_duration(name, value, Duration::from_millis(1))?,
                "retry_delay" => params.retry_delay = positive_duration(name, value, Duration::from_micros(1))?,
                "session_timeout" => params.session_timeout = positive_duration(name, value, Duration::from_secs(1))?,
                "hold_dist" => {
                    params.hold_dist = match text(name, value)? {
                        "fixed" => HoldDist::Fixed,
                        "exponential" => HoldDist::Exponential,
                        other => return Err(error(name, format!("`{other}` is not `fixed` or `exponential`"))),
                    }
                }
                "fencing" => params.fencing = boolean(name, value)?,
                "client_process" => params.client_process = boolean(name, value)?,
                "masters" => params.masters = one_of(name, value, &[3, 5])?,
                "etcd_members" => params.etcd_members = one_of(name, value, &[1, 3])?,
                "redis_persistence" => {
                    params.redis_fsync_always = match text(name, value)? {
                        "off" => false,
                        "always" => true,
                        other => return Err(error(name, format!("`{other}` is not `off` or `always`"))),
                    }
                }
                other => {
                    return Err(error(
                        "params",
                        format!("unknown parameter `{other}` (known: {})", Self::NAMES.join(", ")),
                    ));
                }
            }
        }
        Ok(params)
    }

    /// The etcd lease TTL: whole seconds, at least 2 (etcd's own minimum is about 1.5 s).
    pub fn etcd_ttl_s(&self) -> i64 {
        (self.ttl.as_secs_f64().ceil() as i64).max(2)
    }
}

fn error(param: &str, message: impl Into<String>) -> ParamError {
    ParamError { param: param.to_string(), message: message.into() }
}

fn boolean(name: &str, value: &toml::Value) -> Result<bool, ParamError> {
    crate::param_values::flag(value).map_err(|message| error(name, message))
}

fn text<'v>(name: &str, value: &'v toml::Value) -> Result<&'v str, ParamError> {
    value.as_str().ok_or_else(|| error(name, "must be a string"))
}

fn duration(name: &str, value: &toml::Value) -> Result<Duration, ParamError> {
    let parsed = HumanDuration::parse(text(name, value)?).map_err(|m| error(name, m))?.0;
    if parsed > MAX_DURATION {
        return Err(error(name, format!("must be at most {}", HumanDuration(MAX_DURATION))));
    }
    Ok(parsed)
}

fn positive_duration(name: &str, value: &toml::Value, min: Duration) -> Result<Duration, ParamError> {
    let parsed = duration(name, value)?;
    if parsed < min {
        return Err(error(name, format!("must be at least {}, got {}", HumanDuration(min), HumanDuration(parsed))));
    }
    Ok(parsed)
}

fn one_of(name: &str, value: &toml::Value, allowed: &[usize]) -> Result<usize, ParamError> {
    let n = value.as_integer().ok_or_else(|| error(name, "must be an integer"))?;
    allowed
        .iter()
        .copied()
        .find(|a| *a as i64 == n)
        .ok_or_else(|| error(name, format!("must be one of {allowed:?}, got {n}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<LockParams, ParamError> {
        let table: toml::Table = toml::from_str(text).unwrap();
        LockParams::from_table(&table.into_iter().collect())
    }

    #[test]
    fn reads_every_parameter() {
        let params = parse(
            "ttl='500ms'\nhold='2ms'\nhold_dist='exponential'\nacquire_timeout='3s'\n\
             retry_delay='5ms'\nfencing=false\nclient_process=true\nmasters=5\nsession_timeout='2s'\netcd_members=3\nredis_persistence='always'",
        )
        .unwrap();
        assert_eq!(params.ttl, Duration::from_millis(500));
        assert_eq!(params.hold_dist, HoldDist::Exponential);
        assert!(!params.fencing && params.redis_fsync_always && params.client_process);
        assert_eq!((params.masters, params.etcd_members), (5, 3));
        assert_eq!(params.etcd_ttl_s(), 2);
    }

    #[test]
    fn bad_values_name_the_parameter() {
        for (text, param) in [
            ("ttl='0s'", "ttl"),
            ("ttl='-1s'", "ttl"),
            ("ttl=5", "ttl"),
            ("hold='2h'", "hold"),
            ("masters=4", "masters"),
            ("etcd_members=2", "etcd_members"),
            ("fencing='yes'", "fencing"),
            ("hold_dist='normal'", "hold_dist"),
            ("tll='1s'", "params"),
            ("think='5ms'", "think"),
        ] {
            let error = parse(text).unwrap_err();
            assert_eq!(error.param, param, "{text}: {error}");
        }
    }
}
