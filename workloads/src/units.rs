//! Value types for scenario fields whose validity is checked while parsing, so that a bad
//! value is reported with the field's name and line by the TOML parser itself.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};
use std::fmt;
use std::time::Duration;

/// A duration written as humans write it: `10s`, `500ms`, `2m`, `1h 30m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// Parses `10s`, `500ms`, `2m`...; the error says what was wrong and gives examples.
    pub fn parse(text: &str) -> Result<Self, String> {
        humantime::parse_duration(text.trim())
            .map(HumanDuration)
            .map_err(|e| format!("cannot read `{text}` as a duration ({e}); write it like 10s, 500ms, 2m or 1h"))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl std::str::FromStr for HumanDuration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        HumanDuration::parse(&text).map_err(D::Error::custom)
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A whole number that must be at least one (a count of nodes, workers, keys...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Positive(pub u64);

impl<'de> Deserialize<'de> for Positive {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(deserializer)?;
        if value < 1 {
            return Err(D::Error::custom(format!("must be at least 1, got {value}")));
        }
        Ok(Positive(value as u64))
    }
}

impl std::str::FromStr for Positive {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().replace('_', "").parse::<i64>() {
            Ok(v) if v >= 1 => Ok(Positive(v as u64)),
            Ok(v) => Err(format!("must be at least 1, got {v}")),
            Err(_) => Err(format!("`{s}` is not a whole number")),
        }
    }
}

/// A rate in operations per second: finite and greater than zero.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Rate(pub f64);

impl Rate {
    fn check(value: f64) -> Result<Self, String> {
        if value.is_finite() && value > 0.0 {
            Ok(Rate(value))
        } else {
            Err(format!("rate must be a positive number of operations per second, got {value}"))
        }
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Rate::check(f64::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

impl std::str::FromStr for Rate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let value: f64 = s.trim().parse().map_err(|_| format!("`{s}` is not a number"))?;
        Rate::check(value)
    }
}

/// A fraction in [0, 1].
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Fraction(pub f64);

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        if (0.0..=1.0).contains(&value) {
            Ok(Fraction(value))
        } else {
            Err(D::Error::custom(format!("must be a fraction between 0 and 1, got {value}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_human_units() {
        assert_eq!(HumanDuration::parse("500ms").unwrap().0, Duration::from_millis(500));
        assert_eq!(HumanDuration::parse("2m").unwrap().0, Duration::from_secs(120));
        assert!(HumanDuration::parse("10q").unwrap_err().contains("10q"));
        assert!(HumanDuration::parse("-1s").is_err());
    }

    #[test]
    fn positive_rejects_zero_and_negatives() {
        assert!("0".parse::<Positive>().unwrap_err().contains("at least 1"));
        assert!("-3".parse::<Positive>().is_err());
        assert_eq!("1_000".parse::<Positive>().unwrap(), Positive(1000));
    }

    #[test]
    fn rate_rejects_zero_nan_and_infinity() {
        for bad in ["0", "-5", "NaN", "inf", "fast"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }
}
