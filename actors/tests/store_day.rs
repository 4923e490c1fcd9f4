//! A store day end to end on the kernel: invariants, determinism, and agreement with
//! queueing theory.

mod support;

use storetwin_actors::store::day::run_day;
use storetwin_engine::{Seed, run_replications};

#[test]
fn small_store_day_keeps_every_invariant_and_sees_every_device() {
    let spec = support::small_store();
    let run = run_day(&spec, Seed(1)).expect("the day runs and its invariants hold");
    let k = &run.kpis;
    assert!(k.footfall.truth > 200.0, "footfall {}", k.footfall.truth);
    assert!(k.buyers > 100 && k.sales > 100.0, "buyers {} sales {}", k.buyers, k.sales);
    assert_eq!(k.payments, k.sales - k.discounts, "money conservation");
    // The door counter misses ~3% and double-counts ~1%: within 5% of the truth.
    assert!(k.footfall.error_pct.abs() < 5.0, "door counter error {}", k.footfall.error_pct);
    assert!(k.footfall.sensed != k.footfall.truth, "a lossy sensor is not the truth");
    // Probes detect a share of phones, so they see fewer visitors than came.
    assert!(k.wifi_visitors.sensed > 0.0 && k.wifi_visitors.sensed < k.wifi_visitors.truth);
    assert!(k.members_identified.sensed > 0.0 && k.members_identified.sensed <= k.members_identified.truth);
    assert!(k.face_recognised > 0 && k.portal_logins > 0);
    assert!(k.members_identified.sensed <= (k.face_recognised + k.portal_logins) as f64, "each member once");
    assert!(k.beacon_pushes > 0);
    assert_eq!(k.price_changes, 1);
    assert!(k.low_stock_alerts > 0 && k.restocked_units > 0, "smart shelf triggers restocking");
    assert!(k.queues.iter().all(|q| q.joined > 0), "every queue is used: {:?}", k.queues);
    // L1's POS goes down for 20 minutes: its queue moves to L2 rather than wait.
    assert!(k.queues[0].jockeyed > 0, "shoppers leave a stalled lane for a shorter queue: {:?}", k.queues[0]);
    assert!(k.lanes.iter().all(|l| l.utilisation > 0.0 && l.utilisation <= 1.0));
    assert!(k.heat_map.dwell_s.iter().sum::<f64>() > 0.0);
    assert!(!run.samples.is_empty() && run.samples.windows(2).all(|w| w[0].at < w[1].at));
    assert_eq!(run.samples.len(), 4 * 60 + 1, "one sample a minute, both ends included");
}

#[test]
fn same_seed_same_hash_and_kpis_different_seed_differs() {
    let spec = support::small_store();
    let a = run_day(&spec, Seed(7)).expect("runs");
    let b = run_day(&spec, Seed(7)).expect("runs");
    assert_eq!(a.event_hash, b.event_hash);
    assert_eq!(a.kpis, b.kpis);
    let c = run_day(&spec, Seed(8)).expect("runs");
    assert_ne!(a.event_hash, c.event_hash);
}

#[test]
fn replications_match_on_one_and_two_threads() {
    let spec = support::small_store();
    let run = |_, seed| run_day(&spec, seed).map(|r| (r.event_hash, r.kpis)).expect("runs");
    assert_eq!(run_replications(4, 1, Seed(3), run), run_replications(4, 2, Seed(3), run));
}

#[test]
fn littles_law_holds_for_every_queue() {
    let spec = support::small_store();
    for seed in 1..4 {
        let run = run_day(&spec, Seed(seed)).expect("runs");
        for q in &run.kpis.queues {
            let lw = q.arrival_rate_per_s * q.mean_time_in_queue_s;
            assert!(q.joined > 0, "{q:?}");
            let err = (q.mean_length - lw).abs();
            assert!(err <= 0.02 * lw, "seed {seed} queue {}: L = {}, lambda W = {lw}", q.name, q.mean_length);
        }
    }
}

/// Erlang C: the probability an arrival waits in M/M/c with offered load `a` = λ/μ.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..c {
        term *= a / f64::from(k);
        sum += term;
    }
    let last = term * a / f64::from(c) * (f64::from(c) / (f64::from(c) - a));
    last / (sum + last)
}

#[test]
fn shared_line_agrees_with_erlang_c() {
    let (c, per_hour, service_s) = (3u32, 126.0, 60.0); // rho = 0.7
    let spec = support::mmc(c as usize, per_hour, service_s, 12);
    let lambda = per_hour / 3600.0;
    let mu = 1.0 / service_s;
    let wq = erlang_c(c, lambda / mu) / (f64::from(c) * mu - lambda);
    let reps = 40;
    let waits = run_replications(reps, 2, Seed(2024), |_, seed| {
        let run = run_day(&spec, seed).expect("runs");
        let q = &run.kpis.queues[0];
        assert_eq!(q.kind, "line");
        assert_eq!((q.balked, q.reneged), (0, 0));
        q.wait_s.mean
    });
    let n = f64::from(reps);
    let mean = waits.iter().sum::<f64>() / n;
    let sd = (waits.iter().map(|w| (w - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let half = 2.023 * sd / n.sqrt(); // t(0.975, 39)
    eprintln!("M/M/{c}: mean wait {mean:.2}s ± {half:.2}s over {reps} replications; Erlang C {wq:.2}s");
    assert!(
        (mean - wq).abs() <= half,
        "mean wait {mean:.2}s ± {half:.2}s (95% CI) does not contain Erlang C's {wq:.2}s"
    );
    assert!(half < 0.15 * wq, "CI too wide to mean anything: ±{half:.2}s around {mean:.2}s");
}

#[test]
fn a_price_cut_shown_on_the_label_sells_more_through_impulse_buys() {
    use storetwin_actors::Cents;
    use storetwin_actors::store::spec::DisruptionKind;
    let mut base = support::small_store();
    // Enough bread that sales are not capped by stock.
    base.store.catalogue[2].shelf = 2_000;
    base.store.catalogue[2].shelf_capacity = 2_000;
    let mut promo = base.clone();
    // Bread (SKU 2, bakery, labelled by an ESL with 120 s latency) from 2.49 to 1.49 at 1 h.
    promo.store.disruptions[0].what =
        DisruptionKind::PriceChange { sku: storetwin_actors::store::spec::SkuId(2), price: Cents(149) };
    let (mut more, mut impulses) = (0i64, 0u64);
    for seed in 1..4 {
        let a = run_day(&base, Seed(seed)).expect("runs");
        let b = run_day(&promo, Seed(seed)).expect("runs");
        assert_eq!(a.kpis.impulse_adds, 0, "a price rise tempts nobody");
        impulses += b.kpis.impulse_adds;
        more += b.kpis.items_sold as i64 - a.kpis.items_sold as i64;
    }
    assert!(impulses > 20, "shoppers passing the cut add bread: {impulses}");
    assert!(more > 0, "the promotion sells more items: {more}");
}

#[test]
fn a_degraded_door_counter_misses_more_and_recovers() {
    use storetwin_actors::store::spec::{DeviceId, Disruption, DisruptionKind};
    use storetwin_engine::SimTime;
    let base = support::small_store();
    let mut degraded = base.clone();
    degraded.store.disruptions.push(Disruption {
        at: SimTime::ZERO,
        until: None,
        what: DisruptionKind::DeviceDegraded { device: DeviceId(0), accuracy: 0.5 },
    });
    let a = run_day(&base, Seed(5)).expect("runs").kpis;
    let b = run_day(&degraded, Seed(5)).expect("runs").kpis;
    assert_eq!(a.footfall.truth, b.footfall.truth, "the same shoppers come");
    // Misses go from 3% to 1 - 0.97 * 0.5 = 51.5%.
    assert!(a.footfall.error_pct > -6.0, "{}", a.footfall.error_pct);
    assert!((-60.0..-40.0).contains(&b.footfall.error_pct), "degraded counter error {}", b.footfall.error_pct);
}

#[test]
fn a_shopper_turned_away_by_a_full_shared_line_counts_in_the_lines_balked() {
    // Three lanes fed by one line of at most 3 people, at four times the load they can
    // serve; nobody is too impatient to queue, so every balk is the line being full.
    let mut spec = support::mmc(3, 360.0, 120.0, 2);
    spec.store.lines[0].capacity = Some(3);
    let k = run_day(&spec, Seed(11)).expect("runs").kpis;
    let line = &k.queues[0];
    assert_eq!(line.kind, "line");
    assert!(k.balked > 100, "the line is full most of the time: {} balked", k.balked);
    assert_eq!(line.balked, k.balked, "every balk was at the full line: {line:?}");
    assert!(line.max_length <= 3, "{line:?}");
}

#[test]
fn every_queue_counts_as_served_whom_its_lanes_served_over_a_whole_day() {
    let spec = support::weekday_like();
    let mut ended_mid_service = 0;
    for seed in 1..4 {
        let run = run_day(&spec, Seed(seed)).expect("runs");
        let k = &run.kpis;
        ended_mid_service += run.last.lanes.iter().filter(|l| l.serving).count();
        let lane = |name: &str| k.lanes.iter().find(|l| l.name == name).expect("a lane of the store");
        for (q, name) in k.queues.iter().zip(["L1", "L2"]) {
            assert_eq!((q.kind, q.name.as_str()), ("lane", name));
            assert_eq!(q.served, lane(name).served, "seed {seed}: queue {name} and its lane: {q:?}");
        }
        let line = &k.queues[2];
        assert_eq!(line.kind, "line");
        assert_eq!(line.served, lane("S1").served + lane("S2").served, "seed {seed}: {line:?}");
        // Everyone who joined a queue was served, left it, or was still there (waiting,
        // or in service at one of its lanes) when the day ended.
        let lanes = &run.last.lanes;
        let own = |i: usize| u64::from(lanes[i].waiting) + u64::from(lanes[i].serving);
        let queues = [own(0), own(1), u64::from(run.last.queues[2].waiting) + own(2) + own(3)];
        for (q, at_close) in k.queues.iter().zip(queues) {
            assert_eq!(q.joined, q.served + q.reneged + q.jockeyed + at_close, "seed {seed}: {q:?}");
        }
    }
    assert!(ended_mid_service > 0, "some day must end mid-service, or served counts cannot differ");
}
