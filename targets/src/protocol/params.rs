//! Readers of a protocol family's `[scenario.params]`: the shared value readers of
//! [`param_values`](crate::param_values) with their message wrapped into a
//! [`ProtocolError`] that names the parameter, and the loop over the table that refuses an
//! unknown name with the list of the family's parameters.

use super::ProtocolError;
use std::collections::BTreeMap;
use std::time::Duration;

/// Reads the parameters of `table` into `params` (the family's defaults) with `set`, in the
/// table's order; `set` answers `Ok(false)` for a name it does not know, which is refused
/// with the list `known` (", "-separated) of the `family`'s parameters.
pub fn read_table<P>(
    table: &BTreeMap<String, toml::Value>,
    family: &str,
    known: &str,
    mut params: P,
    mut set: impl FnMut(&mut P, &str, &toml::Value) -> Result<bool, ProtocolError>,
) -> Result<P, ProtocolError> {
    for (name, value) in table {
        if !set(&mut params, name, value)? {
            return Err(ProtocolError::invalid(name, format!("unknown parameter ({family} parameters: {known})")));
        }
    }
    Ok(params)
}

/// A whole number from 1 to `max`.
pub fn count(name: &str, value: &toml::Value, max: u32) -> Result<u32, ProtocolError> {
    crate::param_values::count(value, max).map_err(|message| ProtocolError::invalid(name, message))
}

/// `true` or `false`.
pub fn flag(name: &str, value: &toml::Value) -> Result<bool, ProtocolError> {
    crate::param_values::flag(value).map_err(|message| ProtocolError::invalid(name, message))
}

/// A duration; the message shows `example` ("150ms").
pub fn duration(name: &str, value: &toml::Value, example: &str) -> Result<Duration, ProtocolError> {
    crate::param_values::duration(value, example).map_err(|message| ProtocolError::invalid(name, message))
}

/// A table of `entries`, as a scenario file would give it (for tests).
#[cfg(test)]
pub fn table_of(entries: &[(&str, toml::Value)]) -> BTreeMap<String, toml::Value> {
    entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_parameter_is_refused_with_the_familys_list() {
        let table = table_of(&[("windw", 3.into())]);
        let error = read_table(&table, "consensus", "window, log", (), |_, _, _| Ok(false)).unwrap_err().to_string();
        assert_eq!(error, "parameter `windw`: unknown parameter (consensus parameters: window, log)");
        assert!(read_table(&table, "consensus", "windw", (), |_, name, _| Ok(name == "windw")).is_ok());
    }

    #[test]
    fn a_bad_value_names_its_parameter() {
        assert!(count("replicas", &0.into(), 5).unwrap_err().to_string().contains("`replicas`"));
        assert!(duration("heartbeat", &"soon".into(), "20ms").unwrap_err().to_string().contains("`heartbeat`"));
        assert!(flag("lease_reads", &1.into()).unwrap_err().to_string().contains("`lease_reads`"));
    }
}
