//! The live server end to end over its real socket: who may do what, what a session
//! records and replays, what-if forecasts, the stream, and bad input.

mod common;

use std::time::Duration;

use common::*;
use storetwin_actors::store::world::StoreWorld;
use storetwin_engine::{Seed, SimTime};
use storetwin_server::journal;

const OPEN_LANE: &str = r#"{"interventions": [{"action": "open_lane", "lane": "L7"}]}"#;
const SMALL_FORECAST: &str =
    r#"{"interventions": [{"action": "open_lane", "lane": "L8"}], "horizon": "2min", "replications": 2}"#;

/// Opens the stream with `protocols` (the browser's way to pass a token); the HTTP status
/// of the handshake, and the first frame if it was accepted.
fn stream(addr: std::net::SocketAddr, protocols: &str) -> (u16, Option<serde_json::Value>) {
    use tungstenite::client::IntoClientRequest as _;
    let mut request = format!("ws://{addr}/v1/stream?hz=20").into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", protocols.parse().unwrap());
    match tungstenite::connect(request) {
        Ok((mut ws, response)) => {
            assert_eq!(response.headers().get("Sec-WebSocket-Protocol").unwrap(), "storetwin.v1");
            let frame = loop {
                match ws.read().expect("a frame") {
                    tungstenite::Message::Text(t) => break serde_json::from_str(&t).expect("a JSON frame"),
                    _ => continue,
                }
            };
            let _ = ws.close(None);
            (101, Some(frame))
        }
        Err(tungstenite::Error::Http(response)) => (response.status().as_u16(), None),
        Err(e) => panic!("stream: {e}"),
    }
}

#[test]
fn auth_matrix_every_endpoint_by_token() {
    let mut o = options("auth");
    o.tokens = tokens();
    o.paused = true;
    let server = start(o);
    let addr = server.addr;
    // (method, path, body, needs operator)
    let endpoints: [(&str, &str, &str, bool); 10] = [
        ("GET", "/v1/floor", "", false),
        ("GET", "/v1/state", "", false),
        ("GET", "/v1/kpis", "", false),
        ("GET", "/v1/log", "", false),
        ("GET", "/metrics", "", false),
        ("POST", "/v1/interventions", OPEN_LANE, true),
        ("POST", "/v1/control", r#"{"speed": 120}"#, true),
        ("POST", "/v1/readings", r#"{"readings": []}"#, true),
        ("POST", "/v1/forecast", SMALL_FORECAST, true),
        ("POST", "/v1/control", r#"{"pause": true}"#, true),
    ];
    for (method, path, body, operator) in endpoints {
        let call = |token: Option<&str>| request(addr, method, path, token, (method == "POST").then_some(body)).status;
        assert_eq!(call(None), 401, "{method} {path} without a token");
        assert_eq!(call(Some("not-a-valid-token-at-all")), 401, "{method} {path} with a wrong token");
        let viewer = call(Some(VIEWER));
        let ok = |s: u16| (200..300).contains(&s);
        if operator {
            assert_eq!(viewer, 403, "{method} {path} with a viewer token");
        } else {
            assert!(ok(viewer), "{method} {path} with a viewer token: {viewer}");
        }
        let op = call(Some(OPERATOR));
        assert!(ok(op), "{method} {path} with an operator token: {op}");
    }
    // The refusal says what is needed, in JSON.
    let r = post(addr, "/v1/interventions", Some(VIEWER), OPEN_LANE);
    assert!(r.json()["error"].as_str().unwrap().contains("operator token"), "{}", r.body);
    // Open to anyone: liveness and the page (which then asks for a token).
    assert_eq!(get(addr, "/v1/health", None).status, 200);
    let page = get(addr, "/", None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<html") || page.body.contains("<!doctype"), "the page is HTML");
    // The stream: a token as a subprotocol, as a browser sends it.
    assert_eq!(stream(addr, "storetwin.v1").0, 401);
    assert_eq!(stream(addr, "storetwin.v1, bearer.not-a-valid-token-at-all").0, 401);
    let (status, frame) = stream(addr, &format!("storetwin.v1, bearer.{VIEWER}"));
    assert_eq!(status, 101);
    let frame = frame.unwrap();
    assert_eq!(frame["version"], 1);
    assert!(frame["lanes"].as_array().unwrap().len() >= 10);
    server.stop().unwrap();
}

#[test]
fn a_session_with_interventions_replays_from_its_log_to_the_identical_hash() {
    let mut o = options("replay");
    o.speed = 3000.0;
    o.until = Some(SimTime::from_secs(3600));
    let server = start(o.clone());
    let addr = server.addr;
    let r = post(addr, "/v1/interventions", None, OPEN_LANE);
    assert_eq!(r.status, 202, "{}", r.body);
    wait_for(Duration::from_secs(30), "a quarter of an hour", || server.session.now() > SimTime::from_secs(900));
    let r = post(
        addr,
        "/v1/interventions",
        None,
        r#"{"interventions": [{"action": "set_price", "sku": "Bananas 1 kg", "price": 0.99}, {"action": "device_offline", "device": "door-1"}]}"#,
    );
    assert_eq!(r.status, 202, "{}", r.body);
    wait_ended(addr, Duration::from_secs(60));
    let log = get(addr, "/v1/log", None);
    assert_eq!(log.status, 200);
    let ended = server.session.join().expect("the session's outcome").expect("the session ends well");
    let session = journal::read(&o.log).unwrap();
    assert_eq!(session.inputs.len(), 3, "every intervention is logged");
    assert!(log.body.lines().count() >= session.inputs.len() + 2, "the download is the log");
    let end = session.end.as_ref().expect("the end is logged");
    assert_eq!(end.event_hash, ended.event_hash);
    let scenario = storetwin_scenarios::load(&weekday()).unwrap();
    let world = StoreWorld::build(scenario.world.clone(), Seed(scenario.seed));
    let verdict = journal::replay(&session, world).unwrap();
    assert!(verdict.identical(), "{verdict:?}");
    assert_eq!(verdict.verified, session.checks.len() + 1);
    // The same log with an intervention dropped is another run.
    let mut changed = session.clone();
    changed.inputs.truncate(1);
    let world = StoreWorld::build(scenario.world, Seed(scenario.seed));
    assert!(!journal::replay(&changed, world).unwrap().identical());
    server.stop().unwrap();
}

#[test]
fn a_forecasts_as_is_arm_is_the_live_run_continued() {
    let mut o = options("forecast");
    o.paused = true;
    o.speed = 3000.0;
    o.until = Some(SimTime::from_secs(1800));
    let server = start(o.clone());
    let addr = server.addr;
    let body = r#"{"interventions": [{"action": "open_lane", "lane": "L7"}, {"action": "open_lane", "lane": "L8"}], "horizon": "30min", "replications": 4}"#;
    let r = post(addr, "/v1/forecast", None, body);
    assert_eq!(r.status, 200, "{}", r.body);
    let answer = r.json();
    assert_eq!(answer["from"], "08:00:00");
    assert_eq!(answer["to"], "08:30:00");
    assert_eq!(answer["kpis"].as_array().unwrap().len(), 8);
    let wait = &answer["kpis"][0];
    assert_eq!(wait["kpi"], "mean_wait_s");
    assert_eq!(wait["differences"].as_array().unwrap().len(), 4);
    // The live session did not wait for the forecast, and now runs the same 30 minutes.
    assert_eq!(post(addr, "/v1/control", None, r#"{"pause": false}"#).status, 202);
    wait_ended(addr, Duration::from_secs(60));
    let ended = server.session.join().unwrap().unwrap();
    assert_eq!(answer["as_is_event_hash"], ended.event_hash.as_str());
    assert_eq!(answer["as_is_events"], ended.events);
    server.stop().unwrap();
}

#[test]
fn bad_requests_are_refused_with_the_field_named() {
    let mut o = options("bad");
    o.paused = true;
    let server = start(o);
    let addr = server.addr;
    let check = |path: &str, body: &str, status: u16, field: Option<&str>, says: &str| {
        let r = post(addr, path, None, body);
        assert_eq!(r.status, status, "{path} {body}: {}", r.body);
        let j = r.json();
        if let Some(field) = field {
            assert_eq!(j["field"], field, "{path} {body}: {}", r.body);
        }
        assert!(j["error"].as_str().unwrap().contains(says), "{path} {body}: {}", r.body);
    };
    check(
        "/v1/interventions",
        r#"{"interventions": [{"action": "open_lane", "lane": "L7"}"#,
        400,
        None,
        "line 1, column",
    );
    check(
        "/v1/interventions",
        r#"{"interventions": [{"action": "open_lane", "lane": "L77"}]}"#,
        422,
        Some("interventions[0].lane"),
        "no lane \"L77\"",
    );
    check(
        "/v1/interventions",
        r#"{"interventions": [{"action": "open_lane", "lane": "L7", "why": 1}]}"#,
        422,
        Some("why"),
        "unknown field",
    );
    check(
        "/v1/interventions",
        r#"{"interventions": [{"action": "set_price", "sku": "Bananas 1 kg", "price": -1}]}"#,
        422,
        Some("interventions[0].price"),
        "not a price",
    );
    check("/v1/control", r#"{"speed": -3}"#, 422, Some("speed"), "not a speed");
    check("/v1/forecast", r#"{"horizon": "soon"}"#, 422, Some("horizon"), "30min");
    check("/v1/forecast", r#"{"horizon": "30min", "replications": 1}"#, 422, Some("replications"), "two");
    let huge =
        format!(r#"{{"readings": [{}]}}"#, vec![r#"{"type": "heartbeat", "device": "door-1"}"#; 120_000].join(","));
    let r = post(addr, "/v1/readings", None, &huge);
    assert_eq!(r.status, 413, "{}", &r.body[..r.body.len().min(300)]);
    // Every refusal is counted.
    let metrics = get(addr, "/metrics", None).body;
    assert!(
        metrics.contains(r#"storetwin_http_requests_total{route="/v1/interventions",status="422"} 3"#),
        "{metrics}"
    );
    server.stop().unwrap();
}

#[test]
fn a_public_address_needs_tokens() {
    let mut o = options("public");
    o.listen = "0.0.0.0:0".parse().unwrap();
    let e = storetwin_server::start(o).err().expect("refused").to_string();
    assert!(e.contains("needs tokens"), "{e}");
}

#[test]
fn metrics_show_the_session_and_the_waits_as_histograms() {
    let mut o = options("metrics");
    o.speed = 5000.0;
    o.until = Some(SimTime::from_secs(2 * 3600));
    let server = start(o);
    let addr = server.addr;
    wait_ended(addr, Duration::from_secs(60));
    let m = get(addr, "/metrics", Some("x")).body;
    for name in [
        "storetwin_sim_time_seconds",
        "storetwin_events_total",
        "storetwin_occupancy",
        "storetwin_queue_length{queue=\"L1\"}",
        "storetwin_wait_seconds_bucket{queue=\"L1\",le=\"60\"}",
        "storetwin_lag_seconds",
    ] {
        assert!(m.contains(name), "{name} missing from /metrics:\n{m}");
    }
    server.stop().unwrap();
}

#[test]
fn an_address_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut o = options("in-use");
    o.listen = taken.local_addr().unwrap();
    let e = storetwin_server::start(o.clone()).err().expect("refused").to_string();
    assert!(e.contains("cannot listen on"), "{e}");
    // The session that had nobody to serve it was ended, its log closed.
    let session = journal::read(&o.log).unwrap();
    assert!(session.end.is_some(), "{session:?}");
}
