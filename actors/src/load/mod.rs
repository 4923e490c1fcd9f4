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

/// k6's `gracefulStop`: shoppers still in flight get this long after the last scenario
/// (and the last pre-order ships).
pub const GRACEFUL_STOP: storetwin_engine::SimDuration = storetwin_engine::SimDuration::from_secs(30);

/// The chain `chain` as a load test `load` runs it: its stores' days with the load
/// scenarios' flash-sale shoppers (`demand`, from [`demand`]), to the load's end.
pub fn load_spec(
    chain: &crate::chain::spec::ChainSpec,
    load: &LoadSpec,
    demand: Vec<crate::chain::flash::Demand>,
) -> crate::chain::spec::ChainSpec {
    let mut spec = chain.clone();
    spec.demand = demand;
    let tiers_end = spec.flash.as_ref().and_then(|f| f.preorder.iter().map(|t| t.ships).max());
    let end = load.end().max(tiers_end.unwrap_or(storetwin_engine::SimTime::ZERO)).saturating_add(GRACEFUL_STOP);
    spec.end_at(end.saturating_since(storetwin_engine::SimTime::ZERO));
    spec
}

/// The demand of each load scenario, or why the file is not a load test this can run.
pub fn demand(load: &LoadSpec) -> Result<Vec<crate::chain::flash::Demand>, String> {
    use crate::chain::flash::{Demand, Source};
    use std::sync::Arc;
    let mut out = Vec::new();
    for (name, scenario) in &load.scenarios {
        if scenario.journey == Journey::OrdinaryShopping {
            // Ordinary shoppers are the stores' own shoppers, drawn before the run; a
            // closed loop of them, or a cap on them in flight, would need them to be
            // started during the run.
            if !scenario.executor.is_open() {
                return Err(format!(
                    "load scenario {name}: journey \"ordinary_shopping\" with executor \"{}\" (a closed model) is not \
                     built yet; use ramping-arrival-rate or constant-arrival-rate",
                    scenario.executor.name()
                ));
            }
            if scenario.max_shoppers.is_some() {
                return Err(format!(
                    "load scenario {name}: max_shoppers does not apply to journey \"ordinary_shopping\" (the stores' \
                     entrances and their density limit hold ordinary shoppers back); remove it"
                ));
            }
        }
        let arrivals = match scenario.schedule() {
            Schedule::Open(arrivals) => Source::Open(Arc::new(arrivals)),
            Schedule::Closed(shoppers) => Source::Closed(Arc::new(shoppers)),
        };
        out.push(Demand {
            name: name.clone(),
            journey: scenario.journey,
            arrivals,
            max_shoppers: scenario.max_shoppers.unwrap_or(u32::MAX),
            tags: scenario.tags.clone(),
        });
    }
    if out.is_empty() {
        return Err("[load] has no scenarios: add one under [load.scenarios.NAME]".into());
    }
    Ok(out)
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
