//! Lengths of time as load tests write them, k6's (and Go's) way: a number and its unit,
//! `"100ms"`, `"30s"`, `"8m"`, `"1.5h"`, or several run together, `"1m30s"`.
//!
//! Units: `us` (or `µs`), `ms`, `s`, `m` (or `min`), `h`, and `d` (a day of 24 h, as k6's
//! extended durations write it, for a load scenario that runs for days: pre-orders). The text is read digit by digit
//! into whole nanoseconds (rounded to the nearest), so `"0.1s"` is exactly 100,000,000 ns.
//! A bare number has no unit and is refused here; thresholds give it a meaning of their own
//! (milliseconds, as k6).

use storetwin_engine::SimDuration;

/// The units a load-test duration may be written in, with their length in nanoseconds.
const UNITS: &[(&str, u128)] = &[
    ("min", 60_000_000_000),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("µs", 1_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
];

/// Why a text is not a duration; `at` is the byte offset in the text where reading
/// stopped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("a duration cannot be negative, found {0:?}")]
    Negative(String),
    #[error("expected {expected} at position {} of {text:?}", at + 1)]
    Expected { text: String, at: usize, expected: &'static str },
    #[error("duration {0:?} is too long")]
    TooLong(String),
}

impl DurationError {
    /// Byte offset in the text where the problem is.
    pub fn offset(&self) -> usize {
        match self {
            DurationError::Negative(_) | DurationError::TooLong(_) => 0,
            DurationError::Expected { at, .. } => *at,
        }
    }
}

/// Parses `"30s"`, `"8m"`, `"1m30s"`, `"250us"`, ... into nanoseconds.
pub fn parse_duration(text: &str) -> Result<SimDuration, DurationError> {
    let lead = text.len() - text.trim_start().len();
    let body = text.trim();
    if body.starts_with('-') {
        return Err(DurationError::Negative(text.to_owned()));
    }
    let expected = |at: usize, expected| DurationError::Expected { text: text.to_owned(), at, expected };
    let too_long = || DurationError::TooLong(text.to_owned());
    if body.is_empty() {
        return Err(expected(lead, "a number and a unit (us, ms, s, m, h, d) like \"30s\""));
    }
    let mut total: u128 = 0;
    let mut rest = body;
    while !rest.is_empty() {
        let at = lead + body.len() - rest.len();
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number = &rest[..digits];
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() || fraction.contains('.') || (number.contains('.') && fraction.is_empty()) {
            return Err(expected(at, "a number like 30 or 1.5"));
        }
        rest = rest[digits..].trim_start();
        let unit_at = lead + body.len() - rest.len();
        let word = rest.find(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace()).unwrap_or(rest.len());
        let Some(&(_, per_unit)) = UNITS.iter().find(|(u, _)| *u == &rest[..word]) else {
            return Err(expected(unit_at, "a unit: us, ms, s, m, h or d"));
        };
        rest = rest[word..].trim_start();
        let whole: u128 = whole.parse().map_err(|_| too_long())?;
        let mut nanos = whole.checked_mul(per_unit).ok_or_else(too_long)?;
        if !fraction.is_empty() {
            // At most 18 digits of the fraction count.
            let fraction = &fraction[..fraction.len().min(18)];
            let denominator = 10u128.pow(fraction.len() as u32);
            let numerator: u128 = fraction.parse().map_err(|_| too_long())?;
            nanos += (numerator * per_unit + denominator / 2) / denominator;
        }
        total = total.checked_add(nanos).ok_or_else(too_long)?;
    }
    u64::try_from(total).map(SimDuration::from_nanos).map_err(|_| too_long())
}

/// A duration the way k6 prints one: `0s`, `850ns`, `12.50µs`, `84.20ms`, `1.14s`,
/// `2m5.00s`, `1h2m3.00s` (two decimals on the smallest unit shown).
pub fn format_duration(nanos: f64) -> String {
    if !nanos.is_finite() {
        return format!("{nanos}");
    }
    let ns = nanos.max(0.0);
    if ns == 0.0 {
        "0s".to_owned()
    } else if ns < 1e3 {
        format!("{ns:.0}ns")
    } else if ns < 1e6 {
        format!("{:.2}µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2}ms", ns / 1e6)
    } else if ns < 60e9 {
        format!("{:.2}s", ns / 1e9)
    } else {
        let total_s = ns / 1e9;
        let hours = (total_s / 3600.0).floor();
        let minutes = ((total_s - hours * 3600.0) / 60.0).floor();
        let seconds = total_s - hours * 3600.0 - minutes * 60.0;
        if hours > 0.0 {
            format!("{hours:.0}h{minutes:.0}m{seconds:.2}s")
        } else {
            format!("{minutes:.0}m{seconds:.2}s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nanos(text: &str) -> Result<u64, DurationError> {
        parse_duration(text).map(SimDuration::as_nanos)
    }

    #[test]
    fn durations_are_exact_nanoseconds() {
        assert_eq!(nanos("30s"), Ok(30_000_000_000));
        assert_eq!(nanos("8m"), Ok(480_000_000_000));
        assert_eq!(nanos("8min"), Ok(480_000_000_000));
        assert_eq!(nanos("100ms"), Ok(100_000_000));
        assert_eq!(nanos("250us"), Ok(250_000));
        assert_eq!(nanos("250µs"), Ok(250_000));
        assert_eq!(nanos("1m30s"), Ok(90_000_000_000));
        assert_eq!(nanos("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(nanos("0.1s"), Ok(100_000_000));
        assert_eq!(nanos(" 2 h "), Ok(7_200_000_000_000));
        assert_eq!(nanos("0s"), Ok(0));
        assert_eq!(nanos("20d"), Ok(20 * 86_400_000_000_000));
        assert_eq!(nanos("1d12h"), Ok(129_600_000_000_000));
    }

    #[test]
    fn anything_else_is_refused_at_its_place() {
        assert_eq!(parse_duration("-5s"), Err(DurationError::Negative("-5s".into())));
        let at = |text: &str| parse_duration(text).map_err(|e| e.offset());
        assert_eq!(at("30"), Err(2), "a unit is expected after the number");
        assert_eq!(at("30 weeks"), Err(3));
        assert_eq!(at("8 minutes"), Err(2), "a whole unit, not one that starts like one");
        assert_eq!(at("s"), Err(0));
        assert_eq!(at("1.s"), Err(0));
        assert_eq!(at("1m30"), Err(4));
        assert_eq!(at(""), Err(0));
        assert!(matches!(parse_duration("99999999999999h"), Err(DurationError::TooLong(_))));
        let message = parse_duration("30x").expect_err("no unit x").to_string();
        assert_eq!(message, "expected a unit: us, ms, s, m, h or d at position 3 of \"30x\"");
    }

    #[test]
    fn durations_print_as_k6_prints_them() {
        assert_eq!(format_duration(0.0), "0s");
        assert_eq!(format_duration(850.0), "850ns");
        assert_eq!(format_duration(12_500.0), "12.50µs");
        assert_eq!(format_duration(84_200_000.0), "84.20ms");
        assert_eq!(format_duration(1_140_000_000.0), "1.14s");
        assert_eq!(format_duration(125e9), "2m5.00s");
        assert_eq!(format_duration(3723e9), "1h2m3.00s");
    }
}
