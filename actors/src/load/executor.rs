//! k6's executors as arrival processes in simulated time.
//!
//! A load scenario ([`LoadScenario`]) says how shoppers start [`Journey`]s. Open models
//! (`ramping-arrival-rate`, `constant-arrival-rate`) start journeys at a rate, whatever
//! the system does: arrivals form a Poisson process whose rate follows the executor's
//! piecewise-linear profile (k6's stages: from the previous target to the stage's target,
//! linearly over the stage). [`OpenArrivals::next_arrival`] draws the next arrival by exact
//! inversion of the cumulative rate, so it is a pure function of the time and one uniform
//! draw (the caller's stream supplies it): deterministic, and never an arrival where the
//! rate is zero. An arrival while [`LoadScenario::max_shoppers`] journeys are in flight is
//! dropped and counted ([`Admission`]), as k6's `dropped_iterations`.
//!
//! Closed models (`ramping-shoppers`, `constant-shoppers`, k6's `ramping-vus` and
//! `constant-vus`) keep a target number of shoppers active, each starting a new journey
//! when its previous one ends; [`ClosedShoppers::target_at`] is that target and
//! [`ClosedShoppers::next_change`] when it next changes. A ramp from `a` to `b` shoppers
//! over `D` changes the target by one at `from + ⌊i·D/|b − a|⌋` for `i = 1..=|b − a|`, as
//! k6 does.
//!
//! Times are since the run starts; a scenario is active from its `start_time` for the
//! length of its stages (or its `duration`), and starts nothing outside that window.

use std::collections::BTreeMap;

use storetwin_engine::{SimDuration, SimTime};

/// What a shopper of a load scenario does (k6's `exec`). The flash-sale actors give each
/// its meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Journey {
    /// Grab a flash-sale unit online (app, mini-program, web).
    GrabOnline,
    /// Grab a flash-sale unit in a store.
    GrabInStore,
    /// Collect a reserved unit at a store.
    CollectReservation,
    /// An ordinary shopping trip, the background load.
    OrdinaryShopping,
    /// Pre-order one unit of a flash sale from its tiers (online, in the app): the cheapest
    /// tier open and not full; with none, buy one now (a grab online).
    PreOrder,
}

impl Journey {
    /// Every journey, in the order of [`Journey::NAMES`].
    pub const ALL: [Journey; 5] = [
        Journey::GrabOnline,
        Journey::GrabInStore,
        Journey::CollectReservation,
        Journey::OrdinaryShopping,
        Journey::PreOrder,
    ];
    /// The names a scenario file writes.
    pub const NAMES: [&'static str; 5] =
        ["grab_online", "grab_in_store", "collect_reservation", "ordinary_shopping", "pre_order"];

    pub fn name(self) -> &'static str {
        Journey::NAMES[self as usize]
    }
}

/// A stage of an arrival-rate ramp: over `duration`, the rate goes linearly from the
/// previous target to `target` (arrivals per time unit).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateStage {
    pub duration: SimDuration,
    pub target: f64,
}

/// A stage of a shopper ramp: over `duration`, the target number of active shoppers goes
/// from the previous target to `target`, one shopper at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShopperStage {
    pub duration: SimDuration,
    pub target: u32,
}

/// How a load scenario starts journeys (k6's executors).
#[derive(Clone, Debug, PartialEq)]
pub enum Executor {
    /// Open model: `start_rate` arrivals per `time_unit` at the start, then the stages.
    RampingArrivalRate { start_rate: f64, time_unit: SimDuration, stages: Vec<RateStage> },
    /// Open model: `rate` arrivals per `time_unit` for `duration`.
    ConstantArrivalRate { rate: f64, time_unit: SimDuration, duration: SimDuration },
    /// Closed model: `start_shoppers` active at the start, then the stages.
    RampingShoppers { start_shoppers: u32, stages: Vec<ShopperStage> },
    /// Closed model: `shoppers` active for `duration`.
    ConstantShoppers { shoppers: u32, duration: SimDuration },
}

impl Executor {
    /// The names a scenario file writes, in the order of the variants.
    pub const NAMES: [&'static str; 4] =
        ["ramping-arrival-rate", "constant-arrival-rate", "ramping-shoppers", "constant-shoppers"];

    pub fn name(&self) -> &'static str {
        let i = match self {
            Executor::RampingArrivalRate { .. } => 0,
            Executor::ConstantArrivalRate { .. } => 1,
            Executor::RampingShoppers { .. } => 2,
            Executor::ConstantShoppers { .. } => 3,
        };
        Executor::NAMES[i]
    }

    /// Open model (arrivals at a rate) or closed (a number of active shoppers).
    pub fn is_open(&self) -> bool {
        matches!(self, Executor::RampingArrivalRate { .. } | Executor::ConstantArrivalRate { .. })
    }

    /// How long the scenario starts journeys: the sum of its stages, or its duration.
    pub fn duration(&self) -> SimDuration {
        let sum = |it: &mut dyn Iterator<Item = SimDuration>| {
            SimDuration::from_nanos(it.map(SimDuration::as_nanos).fold(0u64, u64::saturating_add))
        };
        match self {
            Executor::RampingArrivalRate { stages, .. } => sum(&mut stages.iter().map(|s| s.duration)),
            Executor::RampingShoppers { stages, .. } => sum(&mut stages.iter().map(|s| s.duration)),
            Executor::ConstantArrivalRate { duration, .. } | Executor::ConstantShoppers { duration, .. } => *duration,
        }
    }
}

/// One load scenario (k6's `options.scenarios.NAME`), its name being its key in
/// [`crate::load::spec::LoadSpec::scenarios`].
#[derive(Clone, Debug, PartialEq)]
pub struct LoadScenario {
    pub executor: Executor,
    /// When the scenario starts, since the run starts (k6's `startTime`).
    pub start_time: SimDuration,
    /// Open models: at most this many journeys in flight; an arrival beyond is dropped
    /// and counted (k6's `maxVUs`). `None`: no limit.
    pub max_shoppers: Option<u32>,
    pub journey: Journey,
    /// Tags on every metric the scenario's shoppers record (k6's `tags`).
    pub tags: BTreeMap<String, String>,
}

impl LoadScenario {
    /// When it starts starting journeys.
    pub fn start(&self) -> SimTime {
        SimTime::ZERO.saturating_add(self.start_time)
    }

    /// When it stops starting journeys (journeys in flight finish after it).
    pub fn end(&self) -> SimTime {
        self.start().saturating_add(self.executor.duration())
    }

    /// The arrival process or the shopper target of this scenario, ready to drive.
    pub fn schedule(&self) -> Schedule {
        let start = self.start();
        match &self.executor {
            Executor::RampingArrivalRate { start_rate, time_unit, stages } => {
                let per_s = per_second(*time_unit);
                let stages: Vec<(SimDuration, f64)> = stages.iter().map(|s| (s.duration, s.target * per_s)).collect();
                Schedule::Open(OpenArrivals::new(start, start_rate * per_s, &stages))
            }
            Executor::ConstantArrivalRate { rate, time_unit, duration } => {
                let r = rate * per_second(*time_unit);
                Schedule::Open(OpenArrivals::new(start, r, &[(*duration, r)]))
            }
            Executor::RampingShoppers { start_shoppers, stages } => {
                let stages: Vec<(SimDuration, u32)> = stages.iter().map(|s| (s.duration, s.target)).collect();
                Schedule::Closed(ClosedShoppers::new(start, *start_shoppers, &stages))
            }
            Executor::ConstantShoppers { shoppers, duration } => {
                Schedule::Closed(ClosedShoppers::new(start, *shoppers, &[(*duration, *shoppers)]))
            }
        }
    }
}

/// Arrivals per time unit as a factor to arrivals per second (0 for an empty unit, which
/// the scenario checks refuse).
fn per_second(time_unit: SimDuration) -> f64 {
    let s = time_unit.as_secs_f64();
    if s > 0.0 { 1.0 / s } else { 0.0 }
}

/// A scenario ready to drive: arrivals (open model) or a shopper target (closed).
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    Open(OpenArrivals),
    Closed(ClosedShoppers),
}

/// A stretch of a rate profile: the rate goes linearly from `rate_from` to `rate_to`
/// arrivals per second over `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct RateSegment {
    from: SimTime,
    to: SimTime,
    rate_from: f64,
    rate_to: f64,
}

impl RateSegment {
    fn length_s(&self) -> f64 {
        secs_between(self.from, self.to)
    }

    /// Expected arrivals from `from` to `s` seconds later.
    fn integral(&self, s: f64) -> f64 {
        let l = self.length_s();
        if l <= 0.0 {
            return 0.0;
        }
        let s = s.clamp(0.0, l);
        self.rate_from * s + (self.rate_to - self.rate_from) * s * s / (2.0 * l)
    }

    /// The `s` in `[0, length]` at which [`RateSegment::integral`] reaches `c`: the root
    /// of `k s² + a s − c = 0` with `k = (b − a) / 2L`, in the form that does not cancel.
    fn solve(&self, c: f64) -> f64 {
        let l = self.length_s();
        let a = self.rate_from;
        let k = (self.rate_to - a) / (2.0 * l);
        let disc = (a * a + 4.0 * k * c).max(0.0);
        let denominator = a + disc.sqrt();
        if denominator <= 0.0 {
            return l;
        }
        (2.0 * c / denominator).clamp(0.0, l)
    }
}

fn secs_between(from: SimTime, to: SimTime) -> f64 {
    to.saturating_since(from).as_secs_f64()
}

/// An open model's arrivals: a Poisson process with a piecewise-linear rate.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenArrivals {
    segments: Vec<RateSegment>,
    /// Expected arrivals before each segment.
    before: Vec<f64>,
}

impl OpenArrivals {
    /// A profile starting at `start` with `start_rate` arrivals per second, then each
    /// stage `(duration, target per second)` ramping linearly from the previous target.
    /// Rates below zero count as zero.
    pub fn new(start: SimTime, start_rate: f64, stages: &[(SimDuration, f64)]) -> OpenArrivals {
        let clean = |r: f64| if r.is_finite() { r.max(0.0) } else { 0.0 };
        let mut segments = Vec::with_capacity(stages.len());
        let (mut at, mut level) = (start, clean(start_rate));
        for &(duration, target) in stages {
            let target = clean(target);
            let to = at.saturating_add(duration);
            if to > at {
                segments.push(RateSegment { from: at, to, rate_from: level, rate_to: target });
            }
            at = to;
            level = target;
        }
        let mut before = Vec::with_capacity(segments.len());
        let mut total = 0.0;
        for s in &segments {
            before.push(total);
            total += s.integral(s.length_s());
        }
        OpenArrivals { segments, before }
    }

    /// When the last segment ends (no arrival at or after it).
    pub fn end(&self) -> SimTime {
        self.segments.last().map_or(SimTime::ZERO, |s| s.to)
    }

    /// The index of the segment holding `t`, if any.
    fn segment_at(&self, t: SimTime) -> Option<usize> {
        let i = self.segments.partition_point(|s| s.to <= t);
        self.segments.get(i).filter(|s| s.from <= t).map(|_| i)
    }

    /// The rate at `t`, in arrivals per second.
    pub fn rate_at(&self, t: SimTime) -> f64 {
        match self.segment_at(t) {
            Some(i) => {
                let s = &self.segments[i];
                let x = secs_between(s.from, t) / s.length_s();
                s.rate_from + (s.rate_to - s.rate_from) * x
            }
            None => 0.0,
        }
    }

    /// The expected number of arrivals from the start to `t` (the cumulative rate).
    pub fn cumulative(&self, t: SimTime) -> f64 {
        let i = self.segments.partition_point(|s| s.to <= t);
        match self.segments.get(i) {
            Some(s) if s.from <= t => self.before[i] + s.integral(secs_between(s.from, t)),
            // Between segments cannot happen (they are contiguous); past the end: all.
            _ => self.before.get(i).copied().unwrap_or_else(|| self.total()),
        }
    }

    /// The expected number of arrivals over the whole profile.
    pub fn total(&self) -> f64 {
        match (self.before.last(), self.segments.last()) {
            (Some(b), Some(s)) => b + s.integral(s.length_s()),
            _ => 0.0,
        }
    }

    /// The expected number of arrivals in `[from, to)`.
    pub fn expected_arrivals(&self, from: SimTime, to: SimTime) -> f64 {
        if to <= from {
            return 0.0;
        }
        (self.cumulative(to) - self.cumulative(from)).max(0.0)
    }

    /// The first arrival after `now`, given a uniform draw `u` in `[0, 1)`: the time `t`
    /// at which the expected arrivals since `now` reach `−ln(1 − u)` (an exponential
    /// draw), found exactly on the piecewise-quadratic cumulative rate. `None` when the
    /// profile ends first (or `u` is not in `[0, 1)`). Never in a stretch of zero rate.
    pub fn next_arrival(&self, now: SimTime, u: f64) -> Option<SimTime> {
        if !(0.0..1.0).contains(&u) {
            return None;
        }
        self.after_expected(now, -(1.0 - u).ln())
    }

    /// The time at which the expected arrivals since `now` reach `need` (an exponential
    /// draw, possibly scaled: a share `s` of this process reaches its draw `e` where the
    /// whole process reaches `e / s`). `None` when the profile ends first.
    pub fn after_expected(&self, now: SimTime, need: f64) -> Option<SimTime> {
        if !need.is_finite() || need < 0.0 {
            return None;
        }
        let mut need = need;
        let first = self.segments.partition_point(|s| s.to <= now);
        for s in &self.segments[first..] {
            let from = s.from.max(now);
            let used = s.integral(secs_between(s.from, from));
            let remaining = s.integral(s.length_s()) - used;
            if remaining > 0.0 && need <= remaining {
                let offset = s.solve(used + need);
                let t = SimTime::from_nanos(s.from.as_nanos().saturating_add((offset * 1e9).round() as u64));
                let last = SimTime::from_nanos(s.to.as_nanos() - 1);
                return Some(t.min(last).max(from));
            }
            need -= remaining.max(0.0);
        }
        None
    }
}

/// A stretch of a closed model's target: from `count_from` to `count_to` active shoppers
/// over `[from, to)`, one at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ShopperSegment {
    from: SimTime,
    to: SimTime,
    count_from: u32,
    count_to: u32,
}

impl ShopperSegment {
    fn steps(&self) -> u64 {
        u64::from(self.count_from.abs_diff(self.count_to))
    }

    fn length(&self) -> u128 {
        u128::from(self.to.as_nanos() - self.from.as_nanos())
    }

    /// Steps taken by `t` (in the segment): `#{i ≥ 1 : ⌊i·D/n⌋ ≤ x} = ⌊((x + 1)·n − 1)/D⌋`.
    fn steps_by(&self, t: SimTime) -> u64 {
        let (n, d) = (u128::from(self.steps()), self.length());
        if n == 0 {
            return 0;
        }
        let x = u128::from(t.as_nanos() - self.from.as_nanos());
        (((x + 1) * n - 1) / d).min(n) as u64
    }

    fn count_at(&self, t: SimTime) -> u32 {
        let k = self.steps_by(t) as u32;
        if self.count_to >= self.count_from { self.count_from + k } else { self.count_from - k }
    }

    /// When step `i` (1-based) happens.
    fn step_time(&self, i: u64) -> SimTime {
        let offset = u128::from(i) * self.length() / u128::from(self.steps());
        SimTime::from_nanos(self.from.as_nanos() + offset as u64)
    }
}

/// A closed model's target number of active shoppers over time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosedShoppers {
    segments: Vec<ShopperSegment>,
}

impl ClosedShoppers {
    /// `start_count` shoppers at `start`, then each stage `(duration, target)` ramping one
    /// shopper at a time from the previous target; none before `start` or after the
    /// stages.
    pub fn new(start: SimTime, start_count: u32, stages: &[(SimDuration, u32)]) -> ClosedShoppers {
        let mut segments = Vec::with_capacity(stages.len());
        let (mut at, mut level) = (start, start_count);
        for &(duration, target) in stages {
            let to = at.saturating_add(duration);
            if to > at {
                segments.push(ShopperSegment { from: at, to, count_from: level, count_to: target });
            }
            at = to;
            level = target;
        }
        ClosedShoppers { segments }
    }

    /// When the last stage ends (the target is 0 from then on).
    pub fn end(&self) -> SimTime {
        self.segments.last().map_or(SimTime::ZERO, |s| s.to)
    }

    /// How many shoppers should be active at `t`.
    pub fn target_at(&self, t: SimTime) -> u32 {
        let i = self.segments.partition_point(|s| s.to <= t);
        match self.segments.get(i) {
            Some(s) if s.from <= t => s.count_at(t),
            _ => 0,
        }
    }

    /// The most shoppers the target ever asks for.
    pub fn peak(&self) -> u32 {
        self.segments.iter().map(|s| s.count_from.max(s.count_to)).max().unwrap_or(0)
    }

    /// The first time after `t` at which [`ClosedShoppers::target_at`] differs from its
    /// value at `t`; `None` if it never changes again.
    pub fn next_change(&self, t: SimTime) -> Option<SimTime> {
        let now = self.target_at(t);
        let mut cursor = t;
        loop {
            let next = self.next_candidate(cursor)?;
            if self.target_at(next) != now {
                return Some(next);
            }
            cursor = next;
        }
    }

    /// The next time after `t` at which the target may change: a step or a segment's end.
    fn next_candidate(&self, t: SimTime) -> Option<SimTime> {
        let first = self.segments.first()?;
        if t < first.from {
            return Some(first.from);
        }
        let i = self.segments.partition_point(|s| s.to <= t);
        let s = self.segments.get(i)?;
        let taken = s.steps_by(t);
        if taken < s.steps() {
            let next = s.step_time(taken + 1);
            if next < s.to {
                return Some(next);
            }
        }
        Some(s.to)
    }
}

/// Who is in flight in an open model, and who was dropped: the `max_shoppers` rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Admission {
    max: Option<u32>,
    in_flight: u32,
    peak: u32,
    started: u64,
    dropped: u64,
}

impl Admission {
    /// At most `max` journeys in flight (`None`: no limit).
    pub fn new(max: Option<u32>) -> Admission {
        Admission { max, ..Admission::default() }
    }

    /// An arrival: `true` if its journey starts, `false` if it is dropped (counted).
    pub fn try_start(&mut self) -> bool {
        if self.max.is_some_and(|m| self.in_flight >= m) {
            self.dropped += 1;
            return false;
        }
        self.in_flight += 1;
        self.peak = self.peak.max(self.in_flight);
        self.started += 1;
        true
    }

    /// A journey that started has ended.
    pub fn finish(&mut self) {
        debug_assert!(self.in_flight > 0, "a journey finished that never started");
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// The most journeys in flight at once.
    pub fn peak(&self) -> u32 {
        self.peak
    }

    pub fn started(&self) -> u64 {
        self.started
    }

    /// Arrivals dropped because `max` journeys were in flight (k6's `dropped_iterations`).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    use rand::RngExt;
    use storetwin_engine::Seed;

    use super::*;

    const S: u64 = 1_000_000_000;

    fn secs(s: u64) -> SimDuration {
        SimDuration::from_secs(s)
    }

    fn at(s: u64) -> SimTime {
        SimTime::from_secs(s)
    }

    fn open(executor: Executor, start: u64) -> OpenArrivals {
        let scenario = LoadScenario {
            executor,
            start_time: secs(start),
            max_shoppers: None,
            journey: Journey::GrabOnline,
            tags: BTreeMap::new(),
        };
        match scenario.schedule() {
            Schedule::Open(o) => o,
            Schedule::Closed(_) => panic!("an arrival-rate executor is an open model"),
        }
    }

    fn closed(executor: Executor, start: u64) -> ClosedShoppers {
        let scenario = LoadScenario {
            executor,
            start_time: secs(start),
            max_shoppers: None,
            journey: Journey::OrdinaryShopping,
            tags: BTreeMap::new(),
        };
        match scenario.schedule() {
            Schedule::Closed(c) => c,
            Schedule::Open(_) => panic!("a shoppers executor is a closed model"),
        }
    }

    /// Every arrival of `profile` from time 0, with uniform draws from a fixed seed.
    fn arrivals(profile: &OpenArrivals, seed: u64) -> Vec<SimTime> {
        let mut rng = Seed(seed).stream(9, 0);
        let mut out = Vec::new();
        let mut now = SimTime::ZERO;
        while let Some(t) = profile.next_arrival(now, rng.random::<f64>()) {
            assert!(t >= now, "time went backwards: {t} after {now}");
            out.push(t);
            now = t;
        }
        out
    }

    fn surge() -> Executor {
        // Per minute, so that the time unit matters: 0 -> 12,000/min (200/s) over 30 s,
        // down to 3,000/min (50/s) over 2 min, to 0 over 20 s.
        Executor::RampingArrivalRate {
            start_rate: 0.0,
            time_unit: secs(60),
            stages: vec![
                RateStage { duration: secs(30), target: 12_000.0 },
                RateStage { duration: secs(120), target: 3_000.0 },
                RateStage { duration: secs(20), target: 0.0 },
            ],
        }
    }

    #[test]
    fn the_cumulative_rate_is_the_integral_of_the_profile() {
        let p = open(surge(), 10);
        // Triangles and a trapezoid: 0.5·30·200, 0.5·120·(200 + 50), 0.5·20·50.
        let stages = [(10, 40, 3_000.0), (40, 160, 15_000.0), (160, 180, 500.0)];
        for (from, to, area) in stages {
            let e = p.expected_arrivals(at(from), at(to));
            assert!((e - area).abs() < 1e-6, "{from}..{to}: {e} vs {area}");
        }
        assert!((p.total() - 18_500.0).abs() < 1e-6);
        assert_eq!(p.rate_at(at(9)), 0.0, "nothing before the start");
        assert!((p.rate_at(at(25)) - 100.0).abs() < 1e-9, "half way up the first ramp");
        assert!((p.rate_at(at(100)) - 125.0).abs() < 1e-9, "half way down the second");
        assert_eq!(p.rate_at(at(180)), 0.0, "nothing at the end");
        assert_eq!(p.end(), at(180));
    }

    #[test]
    fn arrivals_per_stage_match_the_integral() {
        let p = open(surge(), 10);
        let stages = [(10, 40), (40, 160), (160, 180)];
        for seed in [1, 2, 3] {
            let all = arrivals(&p, seed);
            for (from, to) in stages {
                let n = all.iter().filter(|t| **t >= at(from) && **t < at(to)).count() as f64;
                let mean = p.expected_arrivals(at(from), at(to));
                // A Poisson count: within 4 standard deviations.
                assert!((n - mean).abs() < 4.0 * mean.sqrt(), "seed {seed}, {from}..{to} s: {n} vs {mean}");
            }
            assert!(all.iter().all(|t| *t >= at(10) && *t < at(180)), "seed {seed}: outside the window");
            // Finer: within each 10 s of the first ramp (a rate that grows with time).
            for k in 0..3 {
                let (from, to) = (at(10 + 10 * k), at(20 + 10 * k));
                let n = all.iter().filter(|t| **t >= from && **t < to).count() as f64;
                let mean = p.expected_arrivals(from, to);
                assert!((n - mean).abs() < 4.0 * mean.sqrt(), "seed {seed}, 10 s block {k}: {n} vs {mean}");
            }
        }
    }

    #[test]
    fn the_inversion_is_exact() {
        let p = open(surge(), 10);
        for (now, u) in [(0, 0.5), (12, 0.01), (39, 0.999), (100, 0.3), (175, 0.9)] {
            let now = at(now);
            let Some(t) = p.next_arrival(now, u) else { continue };
            let got = p.expected_arrivals(now, t);
            let want = -(1.0f64 - u).ln();
            // One nanosecond of rounding at 200/s is 2e-7 arrivals.
            assert!((got - want).abs() < 1e-6, "from {now} with u = {u}: {got} vs {want}");
        }
        // Beyond what is left, nothing; an invalid draw, nothing.
        assert_eq!(p.next_arrival(at(179), 0.999_999), None);
        assert_eq!(p.next_arrival(at(180), 0.1), None);
        assert_eq!(p.next_arrival(at(20), 1.0), None);
        assert_eq!(p.next_arrival(at(20), f64::NAN), None);
    }

    #[test]
    fn a_stretch_of_zero_rate_has_no_arrivals() {
        // 100/s for 10 s, then 0 for 20 s (jumps by stages of no duration), then 100/s.
        let executor = Executor::RampingArrivalRate {
            start_rate: 100.0,
            time_unit: secs(1),
            stages: vec![
                RateStage { duration: secs(10), target: 100.0 },
                RateStage { duration: SimDuration::ZERO, target: 0.0 },
                RateStage { duration: secs(20), target: 0.0 },
                RateStage { duration: SimDuration::ZERO, target: 100.0 },
                RateStage { duration: secs(10), target: 100.0 },
            ],
        };
        let p = open(executor, 5);
        let all = arrivals(&p, 4);
        assert!(all.iter().all(|t| *t < at(15) || *t >= at(35)), "an arrival while the rate is 0");
        assert!(all.iter().all(|t| *t >= at(5)), "an arrival before the start");
        assert!(all.len() > 1_700 && all.len() < 2_300, "{} arrivals, expected about 2,000", all.len());
        // From inside the gap, even the smallest draw lands after it.
        for u in [0.0, 1e-12, 0.5] {
            let t = p.next_arrival(at(20), u).expect("arrivals after the gap");
            assert!(t >= at(35), "u = {u}: {t}");
        }
        // A constant rate of zero gives nothing at all.
        let zero = open(Executor::ConstantArrivalRate { rate: 0.0, time_unit: secs(1), duration: secs(60) }, 0);
        assert_eq!(zero.next_arrival(SimTime::ZERO, 0.0), None);
    }

    #[test]
    fn a_constant_rate_gives_its_rate_for_its_duration() {
        let p = open(Executor::ConstantArrivalRate { rate: 30.0, time_unit: secs(60), duration: secs(600) }, 60);
        assert!((p.total() - 300.0).abs() < 1e-9);
        let all = arrivals(&p, 11);
        assert!((all.len() as f64 - 300.0).abs() < 4.0 * 300f64.sqrt(), "{}", all.len());
        assert!(all.iter().all(|t| *t >= at(60) && *t < at(660)));
    }

    #[test]
    fn arrivals_beyond_max_shoppers_are_dropped_as_erlang_b_says() {
        let mut a = Admission::new(Some(2));
        assert!(a.try_start() && a.try_start());
        assert!(!a.try_start(), "a third while two are in flight");
        a.finish();
        assert!(a.try_start());
        assert_eq!((a.started(), a.dropped(), a.in_flight(), a.peak()), (3, 1, 2, 2));
        assert!(Admission::new(None).try_start());

        // 10 arrivals/s, each journey 1 s, at most 5 in flight: a loss system with 10
        // Erlangs offered to 5 servers drops B(5, 10) = 0.564 of arrivals (Erlang B, which
        // holds for any journey-length distribution).
        let p = open(Executor::ConstantArrivalRate { rate: 10.0, time_unit: secs(1), duration: secs(3000) }, 0);
        let mut rng = Seed(5).stream(9, 1);
        let mut admission = Admission::new(Some(5));
        let mut ends: BinaryHeap<Reverse<SimTime>> = BinaryHeap::new();
        let mut now = SimTime::ZERO;
        while let Some(t) = p.next_arrival(now, rng.random::<f64>()) {
            while ends.peek().is_some_and(|Reverse(e)| *e <= t) {
                ends.pop();
                admission.finish();
            }
            if admission.try_start() {
                ends.push(Reverse(t.saturating_add(secs(1))));
            }
            assert!(admission.in_flight() <= 5);
            now = t;
        }
        let share = admission.dropped() as f64 / (admission.dropped() + admission.started()) as f64;
        let mut b = 1.0;
        for n in 1..=5 {
            b = 10.0 * b / (f64::from(n) + 10.0 * b);
        }
        assert!((share - b).abs() < 0.02, "dropped {share:.3}, Erlang B {b:.3}");
        assert_eq!(admission.peak(), 5);
    }

    #[test]
    fn a_shopper_ramp_steps_one_at_a_time_as_k6() {
        // 0 -> 5 over 10 s, 5 for 10 s, 5 -> 0 over 5 s; starting at 100 s.
        let executor = Executor::RampingShoppers {
            start_shoppers: 0,
            stages: vec![
                ShopperStage { duration: secs(10), target: 5 },
                ShopperStage { duration: secs(10), target: 5 },
                ShopperStage { duration: secs(5), target: 0 },
            ],
        };
        let c = closed(executor, 100);
        assert_eq!(c.target_at(at(99)), 0);
        assert_eq!(c.target_at(SimTime::from_nanos(102 * S - 1)), 0);
        assert_eq!(c.target_at(at(102)), 1, "the first step at 10 s / 5");
        assert_eq!(c.target_at(at(110)), 5);
        assert_eq!(c.target_at(at(121)), 4, "down one per second");
        assert_eq!(c.target_at(at(125)), 0, "over at the end");
        assert_eq!(c.peak(), 5);
        // The changes, walked: 2, 4, 6, 8, 10 s up; 21, 22, 23, 24 s down and the end.
        let mut changes = Vec::new();
        let mut t = SimTime::ZERO;
        while let Some(next) = c.next_change(t) {
            assert!(next > t);
            changes.push((next.as_nanos() / S - 100, c.target_at(next)));
            t = next;
        }
        assert_eq!(changes, [(2, 1), (4, 2), (6, 3), (8, 4), (10, 5), (21, 4), (22, 3), (23, 2), (24, 1), (25, 0)]);
    }

    #[test]
    fn the_shopper_target_equals_k6s_steps_everywhere() {
        // Against the definition: step i of a ramp of n over D at ⌊i·D/n⌋, counted.
        let stages = [(7 * S + 3, 13u32), (S / 3, 2), (11 * S, 11), (0, 40), (5 * S, 40)];
        let c = ClosedShoppers::new(
            at(1),
            4,
            &stages.iter().map(|&(d, n)| (SimDuration::from_nanos(d), n)).collect::<Vec<_>>(),
        );
        let brute = |t: u64| -> u32 {
            let mut from = S;
            let mut level = 4u32;
            for &(d, target) in &stages {
                if t >= from && t < from + d {
                    let n = u64::from(level.abs_diff(target));
                    let k = (1..=n).filter(|i| from + i * d / n <= t).count() as u32;
                    return if target >= level { level + k } else { level - k };
                }
                from += d;
                level = target;
            }
            0
        };
        for t in (0..26 * S).step_by(S as usize / 97) {
            assert_eq!(c.target_at(SimTime::from_nanos(t)), brute(t), "at {t} ns");
        }
    }

    #[test]
    fn constant_shoppers_hold_their_number_for_their_duration() {
        let c = closed(Executor::ConstantShoppers { shoppers: 3, duration: secs(10) }, 5);
        assert_eq!((c.target_at(at(4)), c.target_at(at(5)), c.target_at(at(14)), c.target_at(at(15))), (0, 3, 3, 0));
        assert_eq!(c.next_change(SimTime::ZERO), Some(at(5)));
        assert_eq!(c.next_change(at(5)), Some(at(15)));
        assert_eq!(c.next_change(at(15)), None);
    }

    #[test]
    fn names_are_the_file_names() {
        assert_eq!(Journey::ALL.map(Journey::name), Journey::NAMES);
        let e = Executor::ConstantShoppers { shoppers: 1, duration: secs(1) };
        assert_eq!(e.name(), "constant-shoppers");
        assert!(!e.is_open() && surge().is_open());
        assert_eq!(surge().duration(), secs(170));
    }
}
