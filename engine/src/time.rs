//! Simulated time: integer nanoseconds since the scenario starts.
//!
//! Event ordering never looks at a float. Floats appear only at the edges
//! (sampling a delay from a distribution, printing a report), through the
//! `*_secs_f64` conversions, which are exact functions of their input.

use std::fmt;

/// A point in simulated time, in nanoseconds since the scenario starts.
///
/// `u64` nanoseconds reach 584 years, far beyond any scenario.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct SimTime(u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct SimDuration(u64);

const NANOS_PER_SEC: u64 = 1_000_000_000;

impl SimTime {
    /// The scenario's start.
    pub const ZERO: SimTime = SimTime(0);
    /// The end of time: a run limited by `SimTime::MAX` runs until no event is left.
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub const fn from_nanos(nanos: u64) -> Self {
        SimTime(nanos)
    }

    pub const fn from_secs(secs: u64) -> Self {
        SimTime(secs.saturating_mul(NANOS_PER_SEC))
    }

    /// Seconds as a float, rounded to the nearest nanosecond and saturating at the ends.
    pub fn from_secs_f64(secs: f64) -> Self {
        SimTime(secs_f64_to_nanos(secs))
    }

    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// `self + d`, or `SimTime::MAX` if that lies beyond the end of time.
    pub const fn saturating_add(self, d: SimDuration) -> Self {
        SimTime(self.0.saturating_add(d.0))
    }

    pub const fn checked_add(self, d: SimDuration) -> Option<Self> {
        match self.0.checked_add(d.0) {
            Some(t) => Some(SimTime(t)),
            None => None,
        }
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    pub const fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_nanos(nanos: u64) -> Self {
        SimDuration(nanos)
    }

    pub const fn from_millis(millis: u64) -> Self {
        SimDuration(millis.saturating_mul(1_000_000))
    }

    pub const fn from_secs(secs: u64) -> Self {
        SimDuration(secs.saturating_mul(NANOS_PER_SEC))
    }

    /// Seconds as a float, rounded to the nearest nanosecond; negative and NaN give zero,
    /// and values beyond `u64` nanoseconds saturate.
    pub fn from_secs_f64(secs: f64) -> Self {
        SimDuration(secs_f64_to_nanos(secs))
    }

    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
}

/// Rounds half up to whole nanoseconds; negative and NaN give 0 (`f64::max` ignores NaN),
/// and the result saturates at `i64::MAX` ns (292 years). Going through `i64` keeps this
/// to one hardware conversion on the hot path (sampling a delay), where `round()` would
/// call libm and a direct `as u64` needs a longer saturating sequence.
fn secs_f64_to_nanos(secs: f64) -> u64 {
    (secs * NANOS_PER_SEC as f64 + 0.5).max(0.0) as i64 as u64
}

impl fmt::Display for SimTime {
    /// `H:MM:SS.mmm` since the scenario start.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.0 / 1_000_000;
        let (h, rest) = (millis / 3_600_000, millis % 3_600_000);
        let (m, rest) = (rest / 60_000, rest % 60_000);
        write!(f, "{h}:{m:02}:{:02}.{:03}", rest / 1000, rest % 1000)
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3}s", self.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_conversions_round_and_saturate() {
        assert_eq!(SimDuration::from_secs_f64(1.5).as_nanos(), 1_500_000_000);
        assert_eq!(SimDuration::from_secs_f64(-3.0), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(f64::NAN), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(1e30).as_nanos(), i64::MAX as u64);
        assert_eq!(SimTime::MAX.saturating_add(SimDuration::from_secs(1)), SimTime::MAX);
        assert_eq!(SimTime::from_secs(3_723).to_string(), "1:02:03.000");
    }
}
