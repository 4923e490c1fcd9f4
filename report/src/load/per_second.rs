//! A load test second by second: the series the flash-sale actors kept over time, summed
//! over the stores and load scenarios, with the executors' target rate beside them. Both
//! `timeseries.csv` ([`super::write_timeseries`]) and the load test's `report.html` read
//! them from here, so the file and the page cannot disagree.
//!
//! Levels are sums of flows from the run's start: units taken (sold + reserved) are the
//! reservations made less those that expired; reservations outstanding are those made less
//! those that expired or were paid; units sold are the reservations paid so far.

use storetwin_actors::chain::flash::desk::metric;
use storetwin_actors::load::metrics::{Bucket, Percentile, Timeline};
use storetwin_actors::load::{LoadSpec, Registry, Schedule, Tags};
use storetwin_engine::SimTime;

/// The latency statistics of the grabs answered in one second, in simulated nanoseconds
/// (2 significant digits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Latency {
    pub p50: u64,
    pub p95: u64,
    pub p99: u64,
    pub max: u64,
}

/// Every per-second series of a load test, one value per second from the run's start
/// (second `i` is `[i s, i + 1 s)`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PerSecond {
    /// Shoppers who started a journey, and arrivals dropped at `max_shoppers`.
    pub shoppers: Vec<u64>,
    pub dropped: Vec<u64>,
    /// The load scenarios' target arrival rate at the middle of the second, summed (for a
    /// linear ramp, the expected arrivals in the second).
    pub target: Vec<f64>,
    /// Grabs answered (or given up), and their latency percentiles.
    pub answered: Vec<u64>,
    pub latency: Vec<Option<Latency>>,
    /// Reservations made (a unit packed), expired unpaid, and paid.
    pub made: Vec<u64>,
    pub expired: Vec<u64>,
    pub paid: Vec<u64>,
    pub retries: Vec<u64>,
    pub timeouts: Vec<u64>,
    /// The stock holder's p99 queue wait, in nanoseconds.
    pub queue_wait_p99: Vec<Option<u64>>,
}

/// Units taken (sold + reserved) at the end of each second, from `registry`'s reservations
/// made and expired alone: [`PerSecond::taken`] without reading the other series (the
/// latencies' histograms cost the most to merge).
pub fn units_taken(registry: &Registry) -> Vec<i64> {
    let all = Tags::new();
    let made = registry.timeline(metric::RESERVATIONS_MADE, &all);
    let expired = registry.timeline(metric::RESERVATION_EXPIRED, &all);
    let n = [&made, &expired].iter().filter_map(|t| t.as_ref().map(Timeline::len)).max().unwrap_or(0);
    let made = counts(made.as_ref(), n);
    let expired = (0..n).map(|i| match expired.as_ref().and_then(|t| t.get(i)) {
        Some(Bucket::Rate { passes, .. }) => passes,
        _ => 0,
    });
    running(made.iter().zip(expired).map(|(m, e)| *m as i64 - e as i64))
}

/// A counter's sum (or a trend's count) in each of `n` seconds.
fn counts(timeline: Option<&Timeline>, n: usize) -> Vec<u64> {
    (0..n).map(|i| timeline.and_then(|t| t.get(i)).map_or(0, Bucket::count)).collect()
}

impl PerSecond {
    /// The series of `registry` (the holder's and every store's, merged), and the target
    /// rate of `load`'s open-model scenarios.
    pub fn new(registry: &Registry, load: &LoadSpec) -> PerSecond {
        let all = Tags::new();
        let timeline = |name: &str| registry.timeline(name, &all);
        let shoppers = timeline(metric::SHOPPERS);
        let dropped = timeline(metric::SHOPPERS_DROPPED);
        let latency = timeline(metric::GRAB_LATENCY_BY_SECOND);
        let expired = timeline(metric::RESERVATION_EXPIRED);
        let made = timeline(metric::RESERVATIONS_MADE);
        let retries = timeline(metric::GRAB_RETRIES);
        let timeouts = timeline(metric::GRAB_TIMEOUTS);
        let wait = timeline(metric::STOCK_QUEUE_WAIT);
        let n = [&shoppers, &dropped, &latency, &expired, &made, &retries, &timeouts, &wait]
            .iter()
            .filter_map(|t| t.as_ref().map(Timeline::len))
            .max()
            .unwrap_or(0);
        let arrivals: Vec<_> = load
            .scenarios
            .values()
            .filter_map(|s| match s.schedule() {
                Schedule::Open(a) => Some(a),
                Schedule::Closed(_) => None,
            })
            .collect();
        let target = (0..n)
            .map(|i| {
                let mid = SimTime::from_nanos(i as u64 * 1_000_000_000 + 500_000_000);
                arrivals.iter().map(|a| a.rate_at(mid)).sum()
            })
            .collect();
        let rate = |i: usize| match expired.as_ref().and_then(|t| t.get(i)) {
            Some(Bucket::Rate { passes, total }) => (passes, total - passes),
            _ => (0, 0),
        };
        let p = |b: Bucket<'_>, q: u32| b.percentile(Percentile::whole(q));
        PerSecond {
            shoppers: counts(shoppers.as_ref(), n),
            dropped: counts(dropped.as_ref(), n),
            target,
            answered: counts(latency.as_ref(), n),
            latency: (0..n)
                .map(|i| match latency.as_ref().and_then(|t| t.get(i)) {
                    Some(b @ Bucket::Trend(t)) => {
                        Some(Latency { p50: p(b, 50)?, p95: p(b, 95)?, p99: p(b, 99)?, max: t.max() })
                    }
                    _ => None,
                })
                .collect(),
            made: counts(made.as_ref(), n),
            expired: (0..n).map(|i| rate(i).0).collect(),
            paid: (0..n).map(|i| rate(i).1).collect(),
            retries: counts(retries.as_ref(), n),
            timeouts: counts(timeouts.as_ref(), n),
            queue_wait_p99: (0..n).map(|i| wait.as_ref().and_then(|t| t.get(i)).and_then(|b| p(b, 99))).collect(),
        }
    }

    /// How many seconds.
    pub fn len(&self) -> usize {
        self.shoppers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shoppers.is_empty()
    }

    /// Units taken (sold + reserved) at the end of each second.
    pub fn taken(&self) -> Vec<i64> {
        running(self.made.iter().zip(&self.expired).map(|(m, e)| *m as i64 - *e as i64))
    }

    /// Units sold (reservations paid) by the end of each second.
    pub fn sold(&self) -> Vec<i64> {
        running(self.paid.iter().map(|p| *p as i64))
    }

    /// Reservations held, neither paid nor expired, at the end of each second.
    pub fn outstanding(&self) -> Vec<i64> {
        let flow = self.made.iter().zip(&self.expired).zip(&self.paid);
        running(flow.map(|((m, e), p)| *m as i64 - *e as i64 - *p as i64))
    }

    /// Whether anything happened in second `i` (a second without is left out of the CSV).
    pub fn active(&self, i: usize) -> bool {
        [&self.shoppers, &self.dropped, &self.answered, &self.made, &self.expired, &self.paid, &self.retries]
            .iter()
            .any(|v| v[i] > 0)
            || self.timeouts[i] > 0
            || self.queue_wait_p99[i].is_some()
    }
}

/// The running sum of `flows`.
fn running(flows: impl Iterator<Item = i64>) -> Vec<i64> {
    flows
        .scan(0i64, |sum, f| {
            *sum += f;
            Some(*sum)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use storetwin_actors::load::executor::{Executor, Journey, LoadScenario, RateStage};
    use storetwin_actors::load::{MetricKind, Registry};
    use storetwin_engine::SimDuration;

    use super::*;

    fn tags(store: &str) -> Tags {
        Tags::from([("store".to_string(), store.to_string())])
    }

    /// Two stores' registries as a run leaves them, merged.
    fn registry() -> Registry {
        let mut merged = Registry::new(SimDuration::from_secs(6));
        for (store, shift) in [("a", 0u64), ("b", 1)] {
            let mut r = Registry::new(SimDuration::from_secs(6));
            let made = r.register(metric::RESERVATIONS_MADE, MetricKind::Counter, &tags(store)).unwrap();
            let expired = r.register(metric::RESERVATION_EXPIRED, MetricKind::Rate, &tags(store)).unwrap();
            let shoppers = r.register(metric::SHOPPERS, MetricKind::Counter, &tags(store)).unwrap();
            let latency = r.register(metric::GRAB_LATENCY_BY_SECOND, MetricKind::Trend, &tags(store)).unwrap();
            for id in [made, expired, shoppers, latency] {
                r.track_over_time(id);
            }
            let at = |s: u64| SimTime::from_secs(s + shift);
            r.add_counter(shoppers, at(1), 5);
            r.add_counter(made, at(1), 3);
            r.record_rate(expired, at(3), true);
            r.record_rate(expired, at(4), false);
            r.record_rate(expired, at(4), false);
            for ms in 1..=100 {
                r.record_trend(latency, at(1), SimDuration::from_millis(ms * (shift + 1)));
            }
            merged.merge(&r).unwrap();
        }
        merged
    }

    /// [`registry`]'s seconds, with a ramp from 0 to 10/s over 4 s starting at 1 s.
    fn per_second() -> PerSecond {
        let mut load = LoadSpec::default();
        load.scenarios.insert(
            "surge".into(),
            LoadScenario {
                executor: Executor::RampingArrivalRate {
                    start_rate: 0.0,
                    time_unit: SimDuration::from_secs(1),
                    stages: vec![RateStage { duration: SimDuration::from_secs(4), target: 10.0 }],
                },
                start_time: SimDuration::from_secs(1),
                max_shoppers: None,
                journey: Journey::GrabOnline,
                tags: BTreeMap::new(),
            },
        );
        PerSecond::new(&registry(), &load)
    }

    #[test]
    fn flows_add_up_over_the_stores_and_levels_follow_them() {
        let s = per_second();
        assert_eq!(s.len(), 6);
        assert_eq!(s.shoppers, [0, 5, 5, 0, 0, 0]);
        assert_eq!(s.made, [0, 3, 3, 0, 0, 0]);
        assert_eq!(s.expired, [0, 0, 0, 1, 1, 0]);
        assert_eq!(s.paid, [0, 0, 0, 0, 2, 2]);
        assert_eq!(s.taken(), [0, 3, 6, 5, 4, 4], "made less expired");
        assert_eq!(units_taken(&registry()), s.taken(), "the same from the registry alone");
        assert_eq!(s.sold(), [0, 0, 0, 0, 2, 4]);
        assert_eq!(s.outstanding(), [0, 3, 6, 5, 2, 0], "made less expired and paid");
        assert_eq!(s.answered, [0, 100, 100, 0, 0, 0]);
        // Store a's latencies are 1..100 ms in second 1, store b's 2..200 ms in second 2.
        let l1 = s.latency[1].expect("grabs in second 1");
        let l2 = s.latency[2].expect("grabs in second 2");
        assert!((l1.p95 as f64 - 95e6).abs() < 1e6 && (l2.p95 as f64 - 190e6).abs() < 2e6, "{l1:?} {l2:?}");
        assert!((l2.max as f64 - 200e6).abs() < 2e6 && l2.p50 < l2.p99, "{l2:?}");
        assert_eq!(s.latency[0], None);
        assert!(!s.active(0) && s.active(5));
    }

    #[test]
    fn the_target_is_the_executors_rate_mid_second() {
        let s = per_second();
        // 0 before the start at 1 s, then 2.5/s more each second, 0 after the end at 5 s.
        let want = [0.0, 1.25, 3.75, 6.25, 8.75, 0.0];
        for (got, want) in s.target.iter().zip(want) {
            assert!((got - want).abs() < 1e-9, "{:?}", s.target);
        }
    }
}
