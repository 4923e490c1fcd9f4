//! Sensor readings over HTTP: they move the twin, are recorded and replay exactly;
//! cumulative counters are differenced and their resets found; readings out of order, from
//! the future or long past, duplicated or malformed are handled and counted, never trusted
//! blindly.

mod common;

use std::time::Duration;

use common::*;
use storetwin_actors::store::world::StoreWorld;
use storetwin_engine::{Seed, SimTime};
use storetwin_server::journal;

fn readings(addr: std::net::SocketAddr, list: &str) -> Response {
    post(addr, "/v1/readings", None, &format!(r#"{{"readings": [{list}]}}"#))
}

fn drift(addr: std::net::SocketAddr, kpi: &str) -> serde_json::Value {
    let k = get(addr, "/v1/kpis", None).json();
    k["drift"].as_array().unwrap().iter().find(|d| d["kpi"] == kpi).cloned().unwrap_or_else(|| panic!("no {kpi}: {k}"))
}

#[test]
fn readings_move_the_twin_and_the_session_replays_with_them() {
    let mut o = options("ingest");
    o.paused = true;
    o.speed = 4000.0;
    o.until = Some(SimTime::from_secs(2 * 3600));
    let server = start(o.clone());
    let addr = server.addr;
    // A door counter's cumulative count: 40, then 55 (15 more), then 5 (reset: 5 more).
    let r = readings(addr, r#"{"type": "door_count", "device": "door-1", "in": 40}"#);
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.json()["injected"], 1);
    let r = readings(
        addr,
        r#"{"type": "door_count", "device": "door-1", "in": 55},
           {"type": "door_count", "device": "door-1", "in": 5},
           {"type": "shelf_weight", "device": "smart-produce-1", "sku": "Bananas 1 kg", "grams": 6000},
           {"type": "fault", "device": "wifi-2"},
           {"type": "heartbeat", "device": "wifi-2"},
           {"type": "heartbeat", "device": "wifi-2"},
           {"type": "pos_sale", "lane": "L3", "txn": "T-1", "total": 12.34, "items": 3},
           {"type": "pos_sale", "lane": "L3", "txn": "T-1", "total": 12.34, "items": 3},
           {"type": "esl_ack", "device": "esl-bakery-1", "sku": "Sourdough loaf", "price": 0.01}"#,
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let j = r.json();
    assert_eq!(
        (j["accepted"].as_u64(), j["resets"].as_u64(), j["duplicates"].as_u64(), j["unchanged"].as_u64()),
        (Some(9), Some(1), Some(1), Some(1)),
        "{j}"
    );
    assert_eq!(j["injected"], 7, "{j}");
    // The session takes them at its next batch, even paused.
    wait_for(Duration::from_secs(10), "the door counts in the twin", || drift(addr, "footfall")["sensed"] == 60.0);
    assert_eq!(drift(addr, "footfall")["readings"], 3);
    assert_eq!(drift(addr, "sales")["sensed"], 12.34);
    assert_eq!(drift(addr, "transactions")["sensed"], 1.0);
    assert_eq!(drift(addr, "esl_wrong_price")["sensed"], 1.0);
    let shelf = drift(addr, "shelf_units");
    assert_eq!(shelf["readings"], 1);
    assert!(shelf["sensed"].as_f64().unwrap() > 0.0, "{shelf}");
    assert_eq!(shelf["model"], shelf["sensed"], "the shelf's stock is set from its weight: {shelf}");
    // Now the day goes on, the readings in it.
    assert_eq!(post(addr, "/v1/control", None, r#"{"pause": false}"#).status, 202);
    wait_ended(addr, Duration::from_secs(60));
    let ended = server.session.join().unwrap().expect("the day's invariants hold with the corrections");
    let session = journal::read(&o.log).unwrap();
    let logged: Vec<_> = session.inputs.iter().map(|l| serde_json::to_value(l.input).unwrap()).collect();
    assert_eq!(logged.len(), 8, "{logged:?}");
    assert!(logged.iter().all(|l| l.get("reading").is_some()), "{logged:?}");
    let scenario = storetwin_scenarios::load(&weekday()).unwrap();
    let verdict = journal::replay(&session, StoreWorld::build(scenario.world, Seed(scenario.seed))).unwrap();
    assert!(verdict.identical(), "{verdict:?}");
    assert_eq!(session.end.unwrap().event_hash, ended.event_hash);
    let m = get(addr, "/metrics", None).body;
    // (The tests of this file share the process's metrics: at least these.)
    let door: f64 = m
        .lines()
        .find_map(|l| l.strip_prefix(r#"storetwin_ingest_readings_total{kind="door_count",via="http"} "#))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no door_count readings counted: {m}"));
    assert!(door >= 3.0, "{m}");
    assert!(m.contains(r#"storetwin_drift{kpi="footfall"}"#), "{m}");
    server.stop().unwrap();
}

#[test]
fn readings_out_of_order_from_the_future_or_long_past_are_handled() {
    let mut o = options("order");
    o.speed = 3000.0;
    o.until = Some(SimTime::from_secs(3 * 3600));
    let server = start(o);
    let addr = server.addr;
    wait_for(Duration::from_secs(30), "09:00", || server.session.now() >= SimTime::from_secs(3600));
    assert_eq!(post(addr, "/v1/control", None, r#"{"pause": true}"#).status, 202);
    std::thread::sleep(Duration::from_millis(200));
    let now = get(addr, "/v1/health", None).json()["clock"].as_str().unwrap().to_owned();
    let (h, m): (u32, u32) = (now[0..2].parse().unwrap(), now[3..5].parse().unwrap());
    let at = |minutes_back: u32| {
        let t = h * 60 + m - minutes_back;
        format!("{:02}:{:02}:00", t / 60, t % 60)
    };
    // Newer first, then an older reading of the same counter: stale, not applied.
    let r = readings(
        addr,
        &format!(
            r#"{{"type": "door_count", "device": "door-2", "in": 100, "ts": "{}"}},
           {{"type": "door_count", "device": "door-2", "in": 90, "ts": "{}"}}"#,
            at(1),
            at(3)
        ),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let j = r.json();
    assert_eq!((j["stale"].as_u64(), j["resets"].as_u64(), j["injected"].as_u64()), (Some(1), Some(0), Some(1)), "{j}");
    // From the future, and long past: refused, none of the batch taken, each named.
    let r = readings(
        addr,
        &format!(
            r#"{{"type": "heartbeat", "device": "door-1"}},
           {{"type": "door_count", "device": "door-2", "in": 120, "ts": "{}"}},
           {{"type": "door_count", "device": "door-2", "in": 130, "ts": "{}"}}"#,
            at(0)
                .replace(":00", ":59")
                .replacen(":59", ":00", 1)
                .replace(&now[0..5], &format!("{:02}:{:02}", h + 1, m)),
            at(30)
        ),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    let j = r.json();
    let rejected = j["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 2, "{j}");
    assert_eq!((rejected[0]["index"].as_u64(), rejected[0]["field"].as_str()), (Some(1), Some("ts")));
    assert!(rejected[0]["error"].as_str().unwrap().contains("from the future"), "{j}");
    assert!(rejected[1]["error"].as_str().unwrap().contains("min before the twin's clock"), "{j}");
    assert_eq!(j["field"], "readings[1].ts");
    // Malformed readings: the field and the expectation named.
    for (reading, field, says) in [
        (r#"{"type": "door_count", "device": "door-9", "in": 1}"#, "readings[0].device", "no device \"door-9\""),
        (r#"{"type": "door_count", "device": "wifi-2", "in": 1}"#, "readings[0].device", "expected a door_counter"),
        (r#"{"type": "door_count", "device": "door-1"}"#, "readings[0].in", "missing"),
        (
            r#"{"type": "shelf_weight", "device": "smart-produce-1", "sku": "Sourdough loaf", "grams": 10}"#,
            "readings[0].sku",
            "not one device",
        ),
        (
            r#"{"type": "pos_sale", "lane": "L3", "txn": "T-9", "total": -2, "items": 1}"#,
            "readings[0].total",
            "not a price",
        ),
        (r#"{"type": "thermometer", "device": "door-1"}"#, "readings[0].type", "unknown reading type"),
    ] {
        let r = readings(addr, reading);
        assert_eq!(r.status, 422, "{reading}: {}", r.body);
        let j = r.json();
        assert_eq!(j["field"], field, "{reading}: {j}");
        assert!(j["error"].as_str().unwrap().contains(says), "{reading}: {j}");
    }
    let r = readings(addr, r#"{"type": "heartbeat", "device": "door-1", "colour": "red"}"#);
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["field"], "colour");
    let m = get(addr, "/metrics", None).body;
    assert!(m.contains(r#"storetwin_ingest_rejected_total{reason="bad_time",via="http"} 2"#), "{m}");
    assert!(m.contains(r#"storetwin_ingest_stale_total{via="http"} 1"#), "{m}");
    server.stop().unwrap();
}
