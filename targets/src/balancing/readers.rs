//! The readers of the balancing family's parameters that its parts share (the strategies'
//! and the failure layer's): each names the parameter in its error.

use super::BalancingError;
use std::time::Duration;
use workloads::units::HumanDuration;

/// The error for an invalid `param`.
pub(super) fn invalid(param: &'static str, message: impl Into<String>) -> BalancingError {
    BalancingError::InvalidParam { param, message: message.into() }
}

/// A whole number from 1 to `max`.
pub(super) fn whole(value: &toml::Value, param: &'static str, max: u64) -> Result<u64, BalancingError> {
    match value.as_integer() {
        Some(v) if v >= 1 && v as u64 <= max => Ok(v as u64),
        _ => Err(invalid(param, format!("must be a whole number from 1 to {max}, got {value}"))),
    }
}

/// A finite number (integer or float).
pub(super) fn number(value: &toml::Value) -> Option<f64> {
    value.as_float().or_else(|| value.as_integer().map(|i| i as f64)).filter(|v| v.is_finite())
}

/// A duration longer than zero, written like "10s".
pub(super) fn duration(value: &toml::Value, param: &'static str) -> Result<Duration, BalancingError> {
    let text = value.as_str().ok_or_else(|| invalid(param, format!("must be a duration like \"10s\", got {value}")))?;
    let duration = HumanDuration::parse(text).map_err(|message| invalid(param, message))?.0;
    if duration.is_zero() {
        return Err(invalid(param, "must be longer than zero"));
    }
    Ok(duration)
}
