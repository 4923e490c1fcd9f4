//! Prometheus metrics, through the `metrics` facade; the exporter renders them at
//! `/metrics`. Every name is listed here (and in the README and the Grafana dashboard).

use std::sync::OnceLock;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use storetwin_actors::store::live::Frame;
use storetwin_actors::store::world::StoreWorld;

pub const SIM_TIME: &str = "storetwin_sim_time_seconds";
pub const LAG: &str = "storetwin_lag_seconds";
pub const SPEED: &str = "storetwin_speed";
pub const EVENTS: &str = "storetwin_events_total";
pub const OCCUPANCY: &str = "storetwin_occupancy";
pub const QUEUE_LENGTH: &str = "storetwin_queue_length";
pub const WAIT: &str = "storetwin_wait_seconds";
pub const FOOTFALL: &str = "storetwin_footfall_total";
pub const SALES: &str = "storetwin_sales_total";
pub const LANES_OPEN: &str = "storetwin_lanes_open";
pub const DEVICES_DOWN: &str = "storetwin_devices_down";
pub const DRIFT: &str = "storetwin_drift";
pub const READINGS: &str = "storetwin_ingest_readings_total";
pub const REJECTED: &str = "storetwin_ingest_rejected_total";
pub const STALE: &str = "storetwin_ingest_stale_total";
pub const MQTT_MESSAGES: &str = "storetwin_mqtt_messages_total";
pub const MQTT_SUBSCRIBED: &str = "storetwin_mqtt_subscribed";
pub const CLIENTS: &str = "storetwin_ws_clients";
pub const FRAMES_SENT: &str = "storetwin_ws_frames_sent_total";
pub const REQUESTS: &str = "storetwin_http_requests_total";
pub const INTERVENTIONS: &str = "storetwin_interventions_total";
pub const FORECASTS: &str = "storetwin_forecasts_total";
pub const FORECAST_SECONDS: &str = "storetwin_forecast_duration_seconds";

/// Bucket bounds of the shoppers' queue waits, seconds.
pub const WAIT_BUCKETS: [f64; 12] = [5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0, 1200.0];
/// Bucket bounds of a forecast's wall time, seconds.
pub const FORECAST_BUCKETS: [f64; 8] = [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0];

/// The process's recorder (installed on first use) and its handle.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(WAIT.into()), &WAIT_BUCKETS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(FORECAST_SECONDS.into()), &FORECAST_BUCKETS))
            .expect("the bucket lists are not empty");
        match builder.install_recorder() {
            Ok(handle) => {
                describe();
                handle
            }
            // Another recorder is installed (a test harness): render a private one.
            Err(_) => PrometheusBuilder::new().build_recorder().handle(),
        }
    })
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_gauge!(SIM_TIME, Unit::Seconds, "Sim time since the scenario's start");
    describe_gauge!(LAG, Unit::Seconds, "How far the simulation is behind its paced time");
    describe_gauge!(SPEED, "Sim seconds per wall second");
    describe_counter!(EVENTS, "Events the simulation delivered");
    describe_gauge!(OCCUPANCY, "Shoppers inside the store");
    describe_gauge!(QUEUE_LENGTH, "Shoppers waiting, per checkout queue");
    describe_histogram!(WAIT, Unit::Seconds, "Queue waits of shoppers whose service started");
    describe_counter!(FOOTFALL, "People who entered (the model)");
    describe_gauge!(SALES, "Sales so far, currency units (the model)");
    describe_gauge!(LANES_OPEN, "Open lanes");
    describe_gauge!(DEVICES_DOWN, "Devices down");
    describe_gauge!(DRIFT, "The twin minus what the sensors say, per KPI");
    describe_counter!(READINGS, "Sensor readings taken, by kind and transport");
    describe_counter!(REJECTED, "Sensor readings refused, by reason");
    describe_counter!(STALE, "Sensor readings older than the device's last one (ignored)");
    describe_counter!(MQTT_MESSAGES, "MQTT messages received on the readings' topics");
    describe_gauge!(MQTT_SUBSCRIBED, "1 while the server is subscribed to the readings' topics on its MQTT broker");
    describe_gauge!(CLIENTS, "Connected stream clients");
    describe_counter!(FRAMES_SENT, "Frames sent to stream clients");
    describe_counter!(REQUESTS, "HTTP requests, by route and status");
    describe_counter!(INTERVENTIONS, "Interventions made, by kind");
    describe_counter!(FORECASTS, "What-if forecasts answered");
    describe_histogram!(FORECAST_SECONDS, Unit::Seconds, "Wall time to answer a what-if forecast");
}

/// The session's gauges, updated at every published frame.
pub struct SessionGauges {
    names: Vec<String>,
    /// How many of each queue's waits (`QueueStats::waits_log`) are recorded already.
    seen: Vec<usize>,
}

impl SessionGauges {
    pub fn new(names: &[String]) -> SessionGauges {
        SessionGauges { names: names.to_vec(), seen: Vec::new() }
    }

    pub fn update(&mut self, world: &StoreWorld, frame: &Frame) {
        let s = &frame.snapshot;
        gauge!(SIM_TIME).set(s.at.as_secs_f64());
        gauge!(LAG).set(frame.status.lag.as_secs_f64());
        gauge!(SPEED).set(frame.status.speed);
        counter!(EVENTS).absolute(frame.status.events);
        gauge!(OCCUPANCY).set(s.shoppers.len() as f64);
        counter!(FOOTFALL).absolute(s.footfall);
        gauge!(SALES).set(s.sales.as_major());
        gauge!(LANES_OPEN).set(s.lanes.iter().filter(|l| l.open).count() as f64);
        gauge!(DEVICES_DOWN).set(s.devices_up.iter().filter(|up| !**up).count() as f64);
        for d in s.drift.iter().filter(|d| d.readings > 0) {
            gauge!(DRIFT, "kpi" => d.kpi).set(d.model - d.sensed);
        }
        for (q, name) in s.queues.iter().zip(&self.names) {
            gauge!(QUEUE_LENGTH, "queue" => name.clone()).set(f64::from(q.waiting));
        }
        // The waits of those whose service started since the last update, one by one.
        for (q, ((stats, _), name)) in world.kpi_queues().zip(&self.names).enumerate() {
            if self.seen.len() <= q {
                self.seen.resize(q + 1, 0);
            }
            let log = &stats.waits_log;
            let from = self.seen[q].min(log.len());
            if from < log.len() {
                let h = histogram!(WAIT, "queue" => name.clone());
                for ms in &log[from..] {
                    h.record(f64::from(*ms) / 1000.0);
                }
            }
            self.seen[q] = log.len();
        }
    }
}

/// A served chain's queue waits since its last checkpoint (`ChainCheckpoint::waits`, once a
/// second), into the waits histogram under each store's and queue's names: `labels` is
/// every store's name and its queues' names in the KPIs' order.
pub fn chain_waits(waits: &[Vec<Vec<u32>>], labels: &[(String, Vec<String>)]) {
    for (queues, (store, names)) in waits.iter().zip(labels) {
        for (new, queue) in queues.iter().zip(names) {
            if new.is_empty() {
                continue;
            }
            let h = histogram!(WAIT, "store" => store.clone(), "queue" => queue.clone());
            for ms in new {
                h.record(f64::from(*ms) / 1000.0);
            }
        }
    }
}

/// A served chain's gauges from one store's frame: the session's own (sim time, lag, speed,
/// events) from the first store's, and each store's figures under its name (`store`
/// label). Its waits come from the checkpoints ([`chain_waits`]).
pub fn chain_store(frame: &Frame, store: &str, first: bool, queues: &[String]) {
    let s = &frame.snapshot;
    if first {
        gauge!(SIM_TIME).set(s.at.as_secs_f64());
        gauge!(LAG).set(frame.status.lag.as_secs_f64());
        gauge!(SPEED).set(frame.status.speed);
        counter!(EVENTS).absolute(frame.status.events);
    }
    let store = store.to_string();
    gauge!(OCCUPANCY, "store" => store.clone()).set(s.shoppers.len() as f64);
    counter!(FOOTFALL, "store" => store.clone()).absolute(s.footfall);
    gauge!(SALES, "store" => store.clone()).set(s.sales.as_major());
    gauge!(LANES_OPEN, "store" => store.clone()).set(s.lanes.iter().filter(|l| l.open).count() as f64);
    gauge!(DEVICES_DOWN, "store" => store.clone()).set(s.devices_up.iter().filter(|up| !**up).count() as f64);
    for d in s.drift.iter().filter(|d| d.readings > 0) {
        gauge!(DRIFT, "store" => store.clone(), "kpi" => d.kpi).set(d.model - d.sensed);
    }
    for (q, name) in s.queues.iter().zip(queues) {
        gauge!(QUEUE_LENGTH, "store" => store.clone(), "queue" => name.clone()).set(f64::from(q.waiting));
    }
}

/// Every metric name the server exports.
pub const ALL: [&str; 21] = [
    SIM_TIME,
    LAG,
    SPEED,
    EVENTS,
    OCCUPANCY,
    QUEUE_LENGTH,
    WAIT,
    FOOTFALL,
    SALES,
    LANES_OPEN,
    DEVICES_DOWN,
    DRIFT,
    READINGS,
    REJECTED,
    STALE,
    CLIENTS,
    FRAMES_SENT,
    REQUESTS,
    INTERVENTIONS,
    FORECASTS,
    FORECAST_SECONDS,
];

#[cfg(test)]
mod tests {
    use storetwin_actors::store::live::{Frame, Status};
    use storetwin_actors::store::wire::queue_names;
    use storetwin_actors::store::world::StoreWorld;
    use storetwin_engine::{RunLimit, Seed, SimTime, Simulation};

    /// `storetwin_wait_seconds_count` per label set in a rendered page.
    fn counts(text: &str) -> Vec<(String, u64)> {
        text.lines()
            .filter_map(|l| l.strip_prefix("storetwin_wait_seconds_count"))
            .filter_map(|l| l.rsplit_once(' '))
            .map(|(labels, n)| (labels.to_owned(), n.parse().expect("a count")))
            .collect()
    }

    fn recorder() -> metrics_exporter_prometheus::PrometheusRecorder {
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(super::WAIT.into()),
                &super::WAIT_BUCKETS,
            )
            .expect("buckets")
            .build_recorder()
    }

    #[test]
    fn every_wait_is_recorded_once_in_the_waits_histogram() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/weekday.toml");
        let scenario = crate::load_store(std::path::Path::new(path)).expect("the weekday store loads");
        let names = queue_names(&scenario.world);
        let mut sim = Simulation::new(StoreWorld::build(scenario.world.clone(), Seed(7)), Seed(7));
        let recorder = recorder();
        let mut gauges = super::SessionGauges::new(&names);
        // Updated at 09:00, twice at 10:00 (nothing new the second time), and at 12:00.
        for hours in [1, 2, 2, 4] {
            sim.run(RunLimit::until(SimTime::from_secs(hours * 3600))).expect("runs");
            let frame = Frame {
                snapshot: sim.model().snapshot(sim.now()),
                status: Status::starting(60.0, false),
                chain: None,
                pair: None,
            };
            metrics::with_local_recorder(&recorder, || gauges.update(sim.model(), &frame));
        }
        let recorded = counts(&recorder.handle().render());
        let mut served = 0;
        for ((stats, _), name) in sim.model().kpi_queues().zip(&names) {
            let count = recorded.iter().find(|(l, _)| *l == format!("{{queue=\"{name}\"}}")).map_or(0, |(_, n)| *n);
            assert_eq!(count, stats.started, "{name}: each wait once");
            served += stats.started;
        }
        assert!(served > 100, "a morning's shoppers were served ({served})");
    }

    #[test]
    fn a_chains_waits_go_under_their_store_and_queue() {
        let recorder = recorder();
        let labels = vec![
            ("riverside".to_owned(), vec!["L1".to_owned(), "line front".to_owned()]),
            ("old-town".to_owned(), vec!["L1".to_owned()]),
        ];
        let waits = vec![vec![vec![1_000, 65_000], vec![]], vec![vec![3_000]]];
        metrics::with_local_recorder(&recorder, || super::chain_waits(&waits, &labels));
        let text = recorder.handle().render();
        let recorded = counts(&text);
        assert!(recorded.contains(&(r#"{store="riverside",queue="L1"}"#.to_owned(), 2)), "{text}");
        assert!(recorded.contains(&(r#"{store="old-town",queue="L1"}"#.to_owned(), 1)), "{text}");
        assert!(!text.contains("line front"), "no waits, no series: {text}");
        assert!(text.contains(r#"storetwin_wait_seconds_bucket{store="riverside",queue="L1",le="60"} 1"#), "{text}");
    }
    #[test]
    fn the_grafana_dashboard_reads_only_metrics_the_server_exports() {
        let text = include_str!("../grafana/storetwin-live.json");
        let dashboard: serde_json::Value = serde_json::from_str(text).expect("the dashboard is JSON");
        let mut used = 0;
        for panel in dashboard["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().unwrap() {
                let expr = target["expr"].as_str().unwrap();
                for (i, _) in expr.match_indices("storetwin_") {
                    let name: String = expr[i..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                    let base = name.strip_suffix("_bucket").unwrap_or(&name);
                    assert!(
                        super::ALL.contains(&base),
                        "the dashboard's {name} is not exported (panel {})",
                        panel["title"]
                    );
                    // A served chain labels each store's figures: those panels follow the
                    // dashboard's store picker.
                    if PER_STORE.contains(&base) {
                        assert!(
                            expr[i + name.len()..].starts_with(r#"{store=~"$store""#),
                            "panel {} reads {name} for every store, not the picked ones",
                            panel["title"]
                        );
                    }
                    used += 1;
                }
            }
        }
        assert!(used >= 14);
        let variables = dashboard["templating"]["list"].as_array().unwrap();
        assert!(variables.iter().any(|v| v["name"] == "store" && v["allValue"] == ".*"), "a store picker");
    }

    /// The metrics a served chain exports per store (`store` label; see `chain_store`).
    const PER_STORE: [&str; 8] = [
        super::WAIT,
        super::OCCUPANCY,
        super::FOOTFALL,
        super::SALES,
        super::LANES_OPEN,
        super::DEVICES_DOWN,
        super::DRIFT,
        super::QUEUE_LENGTH,
    ];
}
