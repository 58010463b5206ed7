//! Parameters of the networked version, read from the same `[params]` table as the
//! strategies' own (which ignore these names, and these ignore theirs).

use crate::hashing::HashingError;
use crate::servers::redis::Persistence;
use std::collections::BTreeMap;

/// Most keys one `MIGRATE` may carry.
pub const MAX_MIGRATE_BATCH: u64 = 10_000;

/// How keys move on a resize, and how the servers keep their data.
#[derive(Clone, Debug, PartialEq)]
pub struct NetParams {
    /// Keys per `MIGRATE` command.
    pub migrate_batch: u32,
    /// Keys per second the migration may move at most; `None` moves them as fast as the
    /// servers go.
    pub migrate_rate: Option<f64>,
    /// Whether managed servers keep an append-only file (a killed shard then keeps its keys).
    pub persistence: Persistence,
}

impl Default for NetParams {
    fn default() -> Self {
        NetParams { migrate_batch: 100, migrate_rate: None, persistence: Persistence::Off }
    }
}

impl NetParams {
    /// The parameter names of the networked version.
    pub const NAMES: [&'static str; 3] = ["migrate_batch", "migrate_rate", "redis_persistence"];

    /// Reads this version's parameters from `table`, ignoring the strategies' names.
    pub fn from_table(table: &BTreeMap<String, toml::Value>) -> Result<Self, HashingError> {
        let mut params = NetParams::default();
        for (name, value) in table {
            match name.as_str() {
                "migrate_batch" => params.migrate_batch = int_in(value, "migrate_batch", MAX_MIGRATE_BATCH)? as u32,
                "migrate_rate" => params.migrate_rate = Some(positive(value, "migrate_rate")?),
                "redis_persistence" => params.persistence = persistence(value)?,
                _ => {}
            }
        }
        Ok(params)
    }

    /// `table` without this version's names: what the strategies read.
    pub fn strategy_table(table: &BTreeMap<String, toml::Value>) -> BTreeMap<String, toml::Value> {
        table
            .iter()
            .filter(|(name, _)| !Self::NAMES.contains(&name.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

fn invalid(param: &'static str, message: String) -> HashingError {
    HashingError::InvalidParam { param, message }
}

fn int_in(value: &toml::Value, param: &'static str, max: u64) -> Result<u64, HashingError> {
    match value.as_integer() {
        Some(v) if v >= 1 && v as u64 <= max => Ok(v as u64),
        _ => Err(invalid(param, format!("must be a whole number from 1 to {max}, got {value}"))),
    }
}

fn positive(value: &toml::Value, param: &'static str) -> Result<f64, HashingError> {
    match value.as_float().or_else(|| value.as_integer().map(|i| i as f64)) {
        Some(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(invalid(param, format!("must be a positive number of keys per second, got {value}"))),
    }
}

fn persistence(value: &toml::Value) -> Result<Persistence, HashingError> {
    match value.as_str() {
        Some("off") => Ok(Persistence::Off),
        Some("always") => Ok(Persistence::AppendFsyncAlways),
        _ => Err(invalid("redis_persistence", format!("must be \"off\" or \"always\", got {value}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> BTreeMap<String, toml::Value> {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn reads_its_names_and_leaves_the_strategies_theirs() {
        let t = table("migrate_batch = 50\nmigrate_rate = 2000\nredis_persistence = 'always'\nvnodes = 40");
        let params = NetParams::from_table(&t).unwrap();
        assert_eq!(params.migrate_batch, 50);
        assert_eq!(params.migrate_rate, Some(2000.0));
        assert_eq!(params.persistence, Persistence::AppendFsyncAlways);
        assert_eq!(NetParams::strategy_table(&t).keys().collect::<Vec<_>>(), ["vnodes"]);
    }

    #[test]
    fn bad_values_name_the_parameter() {
        for (text, name) in [
            ("migrate_batch = 0", "migrate_batch"),
            ("migrate_rate = -1", "migrate_rate"),
            ("redis_persistence = 'sometimes'", "redis_persistence"),
        ] {
            let error = NetParams::from_table(&table(text)).unwrap_err().to_string();
            assert!(error.contains(name), "{text}: {error}");
        }
    }
}
