//! Durations and byte sizes as people type them: `"10s"`, `"1m30s"` or a number of seconds;
//! `"500MB"`, `"2GiB"`, a number of bytes, or `"25%"` of total memory.
//!
//! A [`UnitError`] says whether the text was not a duration or size at all (`Shape`) or was one
//! outside the allowed range (`Range`). Request parameters hold a [`Given`] value, which decodes
//! every well-formed value and keeps a range problem for the kind's `validate()` to report, so
//! a request's shape is judged while decoding (400) and its range by validation (422).
//!
//! Parsing is delegated to `humantime` and `bytesize`; this module only adds the number and
//! percentage forms and the serde glue so config files and API bodies accept the same text.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// Why a duration or size was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnitError {
    /// The text is not a duration or size at all.
    #[error("{0}")]
    Shape(String),
    /// A well-formed value outside what jolt accepts.
    #[error("{0}")]
    Range(String),
}

/// A duration that deserializes from `"1m30s"` or from a (possibly fractional) number of
/// seconds, and serializes back to the humantime form so API responses round-trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// Parses the text forms accepted on the command line and in query strings.
    pub fn parse(text: &str) -> Result<Self, UnitError> {
        let text = text.trim();
        if let Ok(secs) = text.parse::<f64>() {
            return Self::from_secs_f64(secs);
        }
        humantime::parse_duration(text)
            .map_err(|e| {
                UnitError::Shape(format!(
                    "`{text}` is not a duration like \"10s\" or \"1m30s\": {e}"
                ))
            })
            .and_then(|d| Self::from_secs_f64(d.as_secs_f64()))
    }

    /// Rejects negative, NaN and absurd values with a sentence a person can act on.
    pub fn from_secs_f64(secs: f64) -> Result<Self, UnitError> {
        if !secs.is_finite() || secs < 0.0 {
            return Err(UnitError::Range(format!(
                "a duration must be a non-negative number of seconds, not {secs}"
            )));
        }
        if secs > 365.0 * 86_400.0 {
            return Err(UnitError::Range(format!(
                "{secs} seconds is longer than a year"
            )));
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
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
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
        NumOrText::deserialize(d)?
            .duration()
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
    pub fn parse(text: &str) -> Result<Self, UnitError> {
        let text = text.trim();
        if let Some(p) = text.strip_suffix('%') {
            let pct: f64 = p.trim().parse().map_err(|_| {
                UnitError::Shape(format!("`{text}` is not a percentage like \"25%\""))
            })?;
            if !(pct > 0.0 && pct <= 100.0) {
                return Err(UnitError::Range(format!(
                    "{pct}% is not a percentage in (0, 100]"
                )));
            }
            return Ok(SizeSpec::Percent(pct));
        }
        if let Ok(n) = text.parse::<u64>() {
            return Ok(SizeSpec::Bytes(n));
        }
        text.parse::<bytesize::ByteSize>()
            .map(|b| SizeSpec::Bytes(b.as_u64()))
            .map_err(|_| {
                UnitError::Shape(format!(
                    "`{text}` is not a size like \"500MB\", \"2GiB\" or \"25%\""
                ))
            })
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
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
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
        NumOrText::deserialize(d)?
            .size()
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

impl NumOrText {
    fn duration(self) -> Result<HumanDuration, UnitError> {
        match self {
            NumOrText::Num(n) => HumanDuration::from_secs_f64(n),
            NumOrText::Text(t) => HumanDuration::parse(&t),
        }
    }

    fn size(self) -> Result<SizeSpec, UnitError> {
        match self {
            NumOrText::Num(n) if n >= 0.0 && n.fract() == 0.0 && n < u64::MAX as f64 => {
                Ok(SizeSpec::Bytes(n as u64))
            }
            NumOrText::Num(n) if n < 0.0 => Err(UnitError::Range(format!(
                "a size must not be negative, not {n}"
            ))),
            NumOrText::Num(n) => Err(UnitError::Shape(format!(
                "{n} is not a size: use a whole number of bytes"
            ))),
            NumOrText::Text(t) => SizeSpec::parse(&t),
        }
    }
}

/// A request parameter's duration or size as given: the decoder accepts every well-formed
/// value and keeps a range problem here instead of failing, so the kind's `validate()` reports
/// it (422) while a malformed value fails decoding (400). Dereferences to the value (the
/// default when out of range, which `validate()` never lets through).
#[derive(Clone, Debug, PartialEq)]
pub struct Given<T> {
    value: T,
    out_of_range: Option<String>,
}

impl<T> Given<T> {
    /// A value known to be in range (defaults, values set by code).
    pub fn new(value: T) -> Self {
        Given {
            value,
            out_of_range: None,
        }
    }

    /// The value, or why it is out of range.
    pub fn checked(&self) -> Result<&T, &str> {
        match &self.out_of_range {
            None => Ok(&self.value),
            Some(why) => Err(why),
        }
    }
}

impl<T> From<T> for Given<T> {
    fn from(value: T) -> Self {
        Given::new(value)
    }
}

impl<T> std::ops::Deref for Given<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: Serialize> Serialize for Given<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

/// Turns a unit's verdict into a `Given`: a range problem is kept, a shape problem fails.
fn given<T: Default, E: serde::de::Error>(r: Result<T, UnitError>) -> Result<Given<T>, E> {
    match r {
        Ok(value) => Ok(Given::new(value)),
        Err(UnitError::Range(why)) => Ok(Given {
            value: T::default(),
            out_of_range: Some(why),
        }),
        Err(UnitError::Shape(why)) => Err(E::custom(why)),
    }
}

impl<'de> Deserialize<'de> for Given<HumanDuration> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        given(NumOrText::deserialize(d)?.duration())
    }
}

impl<'de> Deserialize<'de> for Given<SizeSpec> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        given(NumOrText::deserialize(d)?.size())
    }
}

impl Default for SizeSpec {
    fn default() -> Self {
        SizeSpec::Bytes(0)
    }
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
        assert!(matches!(huge, UnitError::Range(_)), "{huge}");
        assert!(matches!(
            HumanDuration::parse("soon"),
            Err(UnitError::Shape(_))
        ));
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

    #[test]
    fn given_values_keep_range_problems_and_refuse_bad_shapes() {
        let g: Given<SizeSpec> = serde_json::from_str("-5").unwrap();
        assert!(g.checked().unwrap_err().contains("negative"));
        let g: Given<SizeSpec> = serde_json::from_str("\"150%\"").unwrap();
        assert!(g.checked().is_err());
        assert!(serde_json::from_str::<Given<SizeSpec>>("\"lots\"").is_err());
        let g: Given<HumanDuration> = serde_json::from_str("-1").unwrap();
        assert!(g.checked().is_err());
        let g: Given<HumanDuration> = serde_json::from_str("\"1m\"").unwrap();
        assert_eq!(g.checked().unwrap().0, Duration::from_secs(60));
        assert!(serde_json::from_str::<Given<HumanDuration>>("\"soon\"").is_err());
        assert_eq!(serde_json::to_string(&g).unwrap(), "\"1m\"");
    }
}
