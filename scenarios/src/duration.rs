//! Fixed lengths of time as chain files write them: a number and its unit, `"20ms"`,
//! `"90s"`, `"15min"`, `"1.5h"`, `"3d"` (a space before the unit is allowed).
//!
//! Random seconds stay numbers or distributions under keys ending in `_s`, as in store
//! scenarios (`pick_base_s = { dist = "lognormal", mean = 60, sd = 20 }`); a duration is a
//! setting with no randomness (a target, a hold, a sync interval, the least latency), and
//! its unit is part of the value. It is read from the text, digit by digit, into whole
//! nanoseconds (like prices), so `"20ms"` is exactly 20,000,000 ns.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserialize, Deserializer, Visitor};
use storetwin_engine::SimDuration;

use crate::deserializer::RAW_TEXT;

/// A length of time in a chain file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(pub SimDuration);

/// The units a duration may be written in, with their length in nanoseconds.
const UNITS: &[(&str, u128)] = &[
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("min", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];

/// Why a text is not a duration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("a duration is a number and a unit (ms, s, min, h or d) like \"15min\", found {0:?}")]
    NotADuration(String),
    #[error("a duration cannot be negative, found {0:?}")]
    Negative(String),
    #[error("duration {0:?} is too long")]
    TooLong(String),
}

/// Parses `"20ms"`, `"1.5 h"`, ... into nanoseconds (rounded to the nearest).
pub fn parse_duration(text: &str) -> Result<SimDuration, DurationError> {
    let trimmed = text.trim();
    if trimmed.starts_with('-') {
        return Err(DurationError::Negative(text.to_owned()));
    }
    let not = || DurationError::NotADuration(text.to_owned());
    let split = trimmed.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(not)?;
    let (number, unit) = (&trimmed[..split], trimmed[split..].trim_start());
    let &(_, per_unit) = UNITS.iter().find(|(u, _)| *u == unit).ok_or_else(not)?;
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || (number.contains('.') && fraction.is_empty()) {
        return Err(not());
    }
    let too_long = || DurationError::TooLong(text.to_owned());
    let whole: u128 = whole.parse().map_err(|_| too_long())?;
    let mut nanos = whole.checked_mul(per_unit).ok_or_else(too_long)?;
    // The fraction's digits, each worth a tenth of the one before (at most 18 count).
    let mut scale = per_unit;
    let mut remainder: u128 = 0;
    for b in fraction.bytes().take(18) {
        remainder = remainder * 10 + u128::from(b - b'0');
        scale *= 10;
    }
    if !fraction.is_empty() {
        let denominator = scale / per_unit;
        nanos += (remainder * per_unit + denominator / 2) / denominator;
    }
    u64::try_from(nanos).map(SimDuration::from_nanos).map_err(|_| too_long())
}

/// A length of time as a chain file writes it, in the largest unit it is a whole number
/// of: `"20d"`, `"36h"`, `"90min"`, `"2s"`, `"20ms"` (else seconds with decimals).
pub fn format_duration(d: SimDuration) -> String {
    let ns = u128::from(d.as_nanos());
    if ns == 0 {
        return "0s".to_owned();
    }
    for &(unit, per) in UNITS.iter().rev() {
        if ns % per == 0 {
            return format!("{}{unit}", ns / per);
        }
    }
    format!("{}s", d.as_secs_f64())
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        deserializer.deserialize_newtype_struct(RAW_TEXT, DurationVisitor)
    }
}

struct DurationVisitor;

impl<'de> Visitor<'de> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration with its unit like \"15min\" or \"20ms\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        if v.trim().parse::<f64>().is_ok() {
            return Err(E::custom(format!(
                "a duration needs its unit (ms, s, min, h or d): \"{}s\" for seconds, found {v}",
                v.trim()
            )));
        }
        parse_duration(v).map(Duration).map_err(E::custom)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<Duration, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A length of time: a number and its unit, ms, s, min, h or d (\"20ms\", \"15min\", \"72h\").",
            "type": "string",
            "pattern": "^\\s*[0-9]+(\\.[0-9]+)?\\s*(ms|s|min|h|d)\\s*$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_in_their_largest_whole_unit() {
        for text in ["20d", "36h", "90min", "2s", "20ms", "0s"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
        assert_eq!(format_duration(SimDuration::from_nanos(1_500)), "0.0000015s");
    }

    #[test]
    fn durations_are_exact_nanoseconds() {
        let nanos = |t: &str| parse_duration(t).map(SimDuration::as_nanos);
        assert_eq!(nanos("20ms"), Ok(20_000_000));
        assert_eq!(nanos("15min"), Ok(900_000_000_000));
        assert_eq!(nanos("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(nanos("0.1s"), Ok(100_000_000));
        assert_eq!(nanos("72 h"), Ok(72 * 3_600_000_000_000));
        assert_eq!(nanos("0.0000000005s"), Ok(1), "rounded to the nearest nanosecond");
        assert_eq!(nanos("3d"), Ok(3 * 86_400_000_000_000));
    }

    #[test]
    fn anything_else_is_refused() {
        assert_eq!(parse_duration("-20ms"), Err(DurationError::Negative("-20ms".into())));
        for bad in ["", "20", "ms", "20 weeks", "1.s", ".5s", "2m", "1e3s", "20ms extra", "2..0s"] {
            assert!(matches!(parse_duration(bad), Err(DurationError::NotADuration(_))), "{bad:?} was accepted");
        }
        assert!(matches!(parse_duration("999999999999d"), Err(DurationError::TooLong(_))));
    }
}
