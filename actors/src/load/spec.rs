//! What a load test is built from: [`LoadSpec`], the checked `[load]` section of a chain
//! file (the `scenarios` crate reads and checks it; nothing here knows about TOML).

use std::collections::BTreeMap;

use storetwin_engine::{SimDuration, SimTime};

use super::executor::LoadScenario;
use super::metrics::{Percentile, Registry, TrendStat};
use super::threshold::{self, ThresholdResult, Thresholds};

/// k6's default `summaryTrendStats`: avg, min, med, max, p(90), p(95).
pub const DEFAULT_SUMMARY_TREND_STATS: [TrendStat; 6] = [
    TrendStat::Avg,
    TrendStat::Min,
    TrendStat::Med,
    TrendStat::Max,
    TrendStat::P(Percentile::whole(90)),
    TrendStat::P(Percentile::whole(95)),
];

/// A load test of a chain: who arrives when, and what must hold.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadSpec {
    /// Replaces the chain's `[run]` seed for the load test, if given.
    pub seed: Option<u64>,
    /// The statistics each trend shows in the end-of-test summary, in this order.
    pub summary_trend_stats: Vec<TrendStat>,
    /// The load scenarios by name (k6's `options.scenarios`), in name order.
    pub scenarios: BTreeMap<String, LoadScenario>,
    /// Thresholds by metric key (with its tag filter), each key's in file order.
    pub thresholds: Thresholds,
}

impl Default for LoadSpec {
    fn default() -> LoadSpec {
        LoadSpec {
            seed: None,
            summary_trend_stats: DEFAULT_SUMMARY_TREND_STATS.to_vec(),
            scenarios: BTreeMap::new(),
            thresholds: Thresholds::new(),
        }
    }
}

impl LoadSpec {
    /// When the last scenario stops starting journeys.
    pub fn end(&self) -> SimTime {
        self.scenarios.values().map(LoadScenario::end).max().unwrap_or(SimTime::ZERO)
    }

    /// Every threshold against `registry`, `elapsed` into the run.
    pub fn evaluate(&self, registry: &Registry, elapsed: SimDuration) -> Vec<ThresholdResult> {
        threshold::evaluate(&self.thresholds, registry, elapsed)
    }

    /// The metrics an `abort_on_fail` threshold watches (none: nothing to check during
    /// the run).
    pub fn abort_metrics(&self) -> std::collections::BTreeSet<String> {
        self.thresholds
            .iter()
            .filter(|(_, list)| list.iter().any(|t| t.abort_on_fail))
            .map(|(key, _)| key.name.clone())
            .collect()
    }

    /// The failing `abort_on_fail` thresholds whose delay has passed: stop if not empty.
    pub fn aborting(&self, registry: &Registry, elapsed: SimDuration) -> Vec<ThresholdResult> {
        threshold::aborting(&self.thresholds, registry, elapsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::executor::{Executor, Journey, RateStage};

    #[test]
    fn the_spec_ends_with_its_last_scenario() {
        let mut spec = LoadSpec::default();
        assert_eq!(
            spec.summary_trend_stats.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["avg", "min", "med", "max", "p(90)", "p(95)"]
        );
        assert_eq!(spec.end(), SimTime::ZERO);
        let scenario = |start: u64, secs: u64| LoadScenario {
            executor: Executor::RampingArrivalRate {
                start_rate: 0.0,
                time_unit: SimDuration::from_secs(1),
                stages: vec![RateStage { duration: SimDuration::from_secs(secs), target: 10.0 }],
            },
            start_time: SimDuration::from_secs(start),
            max_shoppers: None,
            journey: Journey::GrabOnline,
            tags: BTreeMap::new(),
        };
        spec.scenarios.insert("surge".into(), scenario(0, 600));
        spec.scenarios.insert("pickup".into(), scenario(300, 600));
        assert_eq!(spec.end(), SimTime::from_secs(900));
    }
}
