//! Durations and byte sizes as people type them: `"10s"`, `"1m30s"` or a number of seconds;
//! `"500MB"`, `"2GiB"`, a number of bytes, or `"25%"` of total memory.
//!
//! Errors about values that parse but lie outside the allowed range start with
//! [`OUT_OF_RANGE`], so the control API can answer 422 rather than 400 for them.
//!
//! Parsing is delegated to `humantime` and `bytesize`; this module only adds the number and
//! percentage forms and the serde glue so config files and API bodies accept the same text.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// Prefix of every error about a well-formed but out-of-range value.
pub const OUT_OF_RANGE: &str = "out of range: ";

/// A duration that deserializes from `"1m30s"` or from a (possibly fractional) number of
/// seconds, and serializes back to the humantime form so API responses round-trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// Parses the text forms accepted on the command line and in query strings.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Ok(secs) = text.parse::<f64>() {
            return Self::from_secs_f64(secs);
        }
        humantime::parse_duration(text)
            .map_err(|e| format!("`{text}` is not a duration like \"10s\" or \"1m30s\": {e}"))
            .and_then(|d| Self::from_secs_f64(d.as_secs_f64()))
    }

    /// Rejects negative, NaN and absurd values with a sentence a person can act on.
    pub fn from_secs_f64(secs: f64) -> Result<Self, String> {
        if !secs.is_finite() || secs < 0.0 {
            return Err(format!(
                "out of range: a duration must be a non-negative number of seconds, not {secs}"
            ));
        }
        if secs > 365.0 * 86_400.0 {
            return Err(format!(
                "out of range: {secs} seconds is longer than a year"
            ));
        }
        Ok(HumanDuration(Duration::from_secs_f64(secs)))
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

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match NumOrText::deserialize(d)? {
            NumOrText::Num(n) => Self::from_secs_f64(n),
            NumOrText::Text(t) => Self::parse(&t),
        }
        .map_err(serde::de::Error::custom)
    }
}

/// A byte size: absolute, or a percentage of total memory resolved later by the caller that
/// knows what "total" means.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SizeSpec {
    /// A number of bytes.
    Bytes(u64),
    /// A percentage (0..=100] of the host's total memory.
    Percent(f64),
}

impl SizeSpec {
    /// Parses `"500MB"`, `"2GiB"`, `"1048576"` or `"25%"`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some(p) = text.strip_suffix('%') {
            let pct: f64 = p
                .trim()
                .parse()
                .map_err(|_| format!("`{text}` is not a percentage like \"25%\""))?;
            if !(pct > 0.0 && pct <= 100.0) {
                return Err(format!(
                    "out of range: {pct}% is not a percentage in (0, 100]"
                ));
            }
            return Ok(SizeSpec::Percent(pct));
        }
        if let Ok(n) = text.parse::<u64>() {
            return Ok(SizeSpec::Bytes(n));
        }
        text.parse::<bytesize::ByteSize>()
            .map(|b| SizeSpec::Bytes(b.as_u64()))
            .map_err(|_| format!("`{text}` is not a size like \"500MB\", \"2GiB\" or \"25%\""))
    }

    /// Resolves the size against `total` bytes (used for percentages).
    pub fn resolve(self, total: u64) -> u64 {
        match self {
            SizeSpec::Bytes(b) => b,
            SizeSpec::Percent(p) => (total as f64 * p / 100.0) as u64,
        }
    }
}

impl fmt::Display for SizeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SizeSpec::Bytes(b) => write!(f, "{}", bytesize::ByteSize(*b).display().iec()),
            SizeSpec::Percent(p) => write!(f, "{p}%"),
        }
    }
}

impl std::str::FromStr for SizeSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

impl Serialize for SizeSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            SizeSpec::Bytes(b) => s.serialize_u64(*b),
            SizeSpec::Percent(_) => s.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for SizeSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match NumOrText::deserialize(d)? {
            NumOrText::Num(n) if n >= 0.0 && n.fract() == 0.0 && n < u64::MAX as f64 => {
                Ok(SizeSpec::Bytes(n as u64))
            }
            NumOrText::Num(n) if n < 0.0 => Err(format!(
                "out of range: a size must not be negative, not {n}"
            )),
            NumOrText::Num(n) => Err(format!("{n} is not a size: use a whole number of bytes")),
            NumOrText::Text(t) => Self::parse(&t),
        }
        .map_err(serde::de::Error::custom)
    }
}

/// The two shapes a duration or size may arrive in.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrText {
    Num(f64),
    Text(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_text_and_numbers() {
        assert_eq!(
            HumanDuration::parse("1m30s").unwrap().0,
            Duration::from_secs(90)
        );
        assert_eq!(
            HumanDuration::parse("2.5").unwrap().0,
            Duration::from_millis(2500)
        );
        let d: HumanDuration = serde_json::from_str("10").unwrap();
        assert_eq!(d.0, Duration::from_secs(10));
        assert!(HumanDuration::parse("-1").is_err());
        assert!(HumanDuration::parse("soon").is_err());
        let huge = HumanDuration::parse("100000000s").unwrap_err();
        assert!(huge.starts_with(OUT_OF_RANGE), "{huge}");
        assert_eq!(HumanDuration(Duration::from_secs(90)).to_string(), "1m 30s");
    }

    #[test]
    fn sizes_accept_units_numbers_and_percent() {
        assert_eq!(
            SizeSpec::parse("500MB").unwrap(),
            SizeSpec::Bytes(500_000_000)
        );
        assert_eq!(SizeSpec::parse("2GiB").unwrap(), SizeSpec::Bytes(2 << 30));
        assert_eq!(SizeSpec::parse("25%").unwrap().resolve(1000), 250);
        let s: SizeSpec = serde_json::from_str("4096").unwrap();
        assert_eq!(s, SizeSpec::Bytes(4096));
        assert!(SizeSpec::parse("0%").is_err());
        assert!(SizeSpec::parse("lots").is_err());
        assert!(serde_json::from_str::<SizeSpec>("-5").is_err());
    }
}
