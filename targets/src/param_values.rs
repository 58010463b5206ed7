//! Readers of the values in a scenario's `params` table that several families share: a
//! bounded whole number, a duration and a flag. Each returns the message that the family wraps into
//! its own error, naming the parameter.

use std::time::Duration;
use workloads::units::HumanDuration;

/// The longest duration a parameter may take.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);

/// A whole number from 1 to `max`.
pub fn count(value: &toml::Value, max: u32) -> Result<u32, String> {
    match value.as_integer() {
        Some(n) if n >= 1 && n <= i64::from(max) => Ok(n as u32),
        _ => Err(format!("must be a whole number from 1 to {max}, got {value}")),
    }
}

/// A duration like `example` ("150ms"), longer than zero and at most [`MAX_DURATION`].
pub fn duration(value: &toml::Value, example: &str) -> Result<Duration, String> {
    let text = value.as_str().ok_or_else(|| format!("must be a duration like \"{example}\", got {value}"))?;
    match HumanDuration::parse(text)? {
        HumanDuration(d) if !d.is_zero() && d <= MAX_DURATION => Ok(d),
        _ => Err("must be longer than zero and at most 1h".to_string()),
    }
}

/// `true` or `false`.
pub fn flag(value: &toml::Value) -> Result<bool, String> {
    value.as_bool().ok_or_else(|| format!("must be true or false, got {value}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_durations_are_bounded() {
        assert_eq!(count(&3.into(), 5), Ok(3));
        assert!(count(&0.into(), 5).unwrap_err().contains("from 1 to 5"));
        assert!(count(&6.into(), 5).is_err());
        assert!(count(&"3".into(), 5).is_err());
        assert_eq!(duration(&"150ms".into(), "1s"), Ok(Duration::from_millis(150)));
        assert!(duration(&"0s".into(), "1s").unwrap_err().contains("longer than zero"));
        assert!(duration(&"2h".into(), "1s").is_err());
        assert_eq!(flag(&true.into()), Ok(true));
        assert!(flag(&"yes".into()).unwrap_err().contains("true or false"));
        assert!(duration(&5.into(), "150ms").unwrap_err().contains("\"150ms\""));
    }
}
