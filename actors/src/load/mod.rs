//! Load tests of a chain, k6's way (`storetwin load`): the machinery that does not depend
//! on what is being loaded.
//!
//! - [`executor`]: k6's executors as arrival processes in simulated time (open models by
//!   rate, closed models by a number of active shoppers), and the `max_shoppers` rule;
//! - [`metrics`]: the registry of trends, rates, counters and gauges keyed by name and
//!   tags, aggregated over tag filters, with per-second buckets for charts;
//! - [`threshold`]: k6 thresholds (`"p(95)<100ms"` on `grab_latency{store:S042}`), their
//!   evaluation at the end and the `abort_on_fail` check during the run;
//! - [`spec`]: [`LoadSpec`], the checked `[load]` section of a chain file;
//! - [`duration`]: lengths of time as k6 writes them (`"30s"`, `"8m"`, `"1m30s"`).
//!
//! The exit codes of a load test are k6's where k6 has one, so CI scripts carry over.

pub mod duration;
pub mod executor;
pub mod metrics;
pub mod spec;
pub mod threshold;

pub use executor::{Admission, ClosedShoppers, Executor, Journey, LoadScenario, OpenArrivals, Schedule};
pub use metrics::{Metric, MetricId, MetricKind, Registry, Tags, TrendStat};
pub use spec::LoadSpec;
pub use threshold::{MetricKey, Threshold, ThresholdResult};

/// Every threshold passed and every invariant held.
pub const EXIT_PASS: u8 = 0;
/// Some threshold was crossed (k6's `ThresholdsHaveFailed`).
pub const EXIT_THRESHOLDS_CROSSED: u8 = 99;
/// The scenario file is invalid (k6's `InvalidConfig`).
pub const EXIT_INVALID_SCENARIO: u8 = 104;
/// An invariant broke (an oversell, stock or money not conserved): the run stopped. Not a
/// k6 code; it wins over a crossed threshold.
pub const EXIT_INVARIANT_BROKEN: u8 = 111;

/// The exit code of a load test that ran: a broken invariant first, then thresholds.
pub fn exit_code(invariants_held: bool, thresholds: &[ThresholdResult]) -> u8 {
    if !invariants_held {
        EXIT_INVARIANT_BROKEN
    } else if thresholds.iter().any(|t| !t.passed) {
        EXIT_THRESHOLDS_CROSSED
    } else {
        EXIT_PASS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::threshold::{Aggregation, Observed};

    #[test]
    fn an_invariant_outranks_a_threshold() {
        let result = |passed| ThresholdResult {
            metric: "grab_latency".into(),
            kind: None,
            threshold: "p(95)<100ms".into(),
            aggregation: Aggregation::Max,
            observed: Observed::Time(1.0),
            passed,
            abort_on_fail: false,
        };
        assert_eq!(exit_code(true, &[result(true)]), EXIT_PASS);
        assert_eq!(exit_code(true, &[]), EXIT_PASS);
        assert_eq!(exit_code(true, &[result(true), result(false)]), EXIT_THRESHOLDS_CROSSED);
        assert_eq!(exit_code(false, &[result(false)]), EXIT_INVARIANT_BROKEN);
        assert_eq!((EXIT_THRESHOLDS_CROSSED, EXIT_INVALID_SCENARIO, EXIT_INVARIANT_BROKEN), (99, 104, 111));
    }
}
