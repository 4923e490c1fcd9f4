//! A chain served (`storetwin serve CHAIN.toml`): every store under its name, the operator
//! acting on one of them, viewers and operators told apart, readings and forecasts refused
//! plainly, and the session's chain log replaying to the identical run.

mod common;

use std::time::Duration;

use common::{OPERATOR, VIEWER, get, post, temp_dir, tokens, wait_for};
use storetwin_actors::store::live::Intervention;
use storetwin_engine::{Seed, SimTime};
use storetwin_server::Options;

fn chain_options(name: &str) -> Options {
    let dir = temp_dir(name);
    let path = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/chain-3-stores.toml"));
    let mut o = Options::new(path, dir.join("chain.session"));
    o.listen = "127.0.0.1:0".parse().unwrap();
    o.tokens = tokens();
    o
}

/// The first frame of `store`'s stream.
fn first_frame(addr: std::net::SocketAddr, store: &str) -> serde_json::Value {
    use tungstenite::client::IntoClientRequest as _;
    let mut request = format!("ws://{addr}/v1/stream?hz=20&store={store}").into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", format!("storetwin.v1, bearer.{VIEWER}").parse().unwrap());
    let (mut ws, _) = tungstenite::connect(request).expect("the stream opens");
    let frame = loop {
        match ws.read().expect("a frame") {
            tungstenite::Message::Text(t) => break serde_json::from_str(&t).expect("a JSON frame"),
            _ => continue,
        }
    };
    let _ = ws.close(None);
    frame
}

/// The frames of `store`'s stream until the session's last (`done`); `first` hears of the
/// first (the store is watched from then on).
fn frames_to_the_end(
    addr: std::net::SocketAddr,
    store: &str,
    first: &std::sync::mpsc::Sender<()>,
) -> Vec<serde_json::Value> {
    use tungstenite::client::IntoClientRequest as _;
    let mut request = format!("ws://{addr}/v1/stream?hz=20&store={store}").into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", format!("storetwin.v1, bearer.{VIEWER}").parse().unwrap());
    let (mut ws, _) = tungstenite::connect(request).expect("the stream opens");
    let mut frames = Vec::new();
    loop {
        let frame: serde_json::Value = match ws.read().expect("a frame before the session's end") {
            tungstenite::Message::Text(t) => serde_json::from_str(&t).expect("a JSON frame"),
            _ => continue,
        };
        let done = frame["status"]["done"] == true;
        frames.push(frame);
        let _ = first.send(());
        if done {
            return frames;
        }
    }
}

/// The load test's per-second series (`timeseries.csv`, as `storetwin load` writes it)
/// for `second`.
fn load_second(path: &std::path::Path, second: u64, dir: &std::path::Path) -> std::collections::BTreeMap<String, u64> {
    use storetwin_report::load::{PerSecond, write_timeseries};
    let chain = storetwin_scenarios::Chain::load(path).expect("the load test loads");
    let (spec, seed) = chain.run_spec().expect("runs");
    let run = storetwin_actors::chain::run::run_chain(&spec, Seed(seed), 2).expect("the load test holds");
    let mut registry = run.platform.flash.as_ref().expect("a flash sale").registry.clone();
    for store in &run.stores {
        registry.merge(&store.flash.as_ref().expect("a desk").registry).expect("one kind per name");
    }
    let csv = dir.join("timeseries.csv");
    write_timeseries(&csv, &PerSecond::new(&registry, chain.load.as_ref().expect("[load]"))).expect("written");
    let text = std::fs::read_to_string(&csv).expect("read");
    let mut lines = text.lines();
    let names: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let row = lines.find(|l| l.split(',').next() == Some(&second.to_string())).expect("the second is in the series");
    names.iter().zip(row.split(',')).filter_map(|(k, v)| Some(((*k).to_owned(), v.parse().ok()?))).collect()
}

#[test]
fn a_served_flash_sale_shows_a_stores_counter_and_crowd_as_load_reports_them() {
    let dir = temp_dir("flash");
    let path =
        std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/flash-3-stores-atomic.toml"));
    let mut options = Options::new(&path, dir.join("flash.session"));
    options.listen = "127.0.0.1:0".parse().unwrap();
    options.tokens = tokens();
    options.speed = 1000.0;
    options.paused = true;
    // 08:11:00, a minute into the surge.
    options.until = Some(SimTime::from_secs(660));
    let running = storetwin_server::start_chain(options).expect("the chain server starts");
    let addr = running.addr;

    // The floor names the sale's zone on each store's plan.
    let floor = get(addr, "/v1/floor?store=old-town", Some(VIEWER)).json();
    assert_eq!(floor["sale"]["name"], "coffee-drop", "{}", floor["sale"]);
    let zone: Vec<u64> = floor["sale"]["cells"].as_array().expect("cells").iter().filter_map(|c| c.as_u64()).collect();
    assert!(!zone.is_empty());
    let (w, h) = (floor["width"].as_u64().unwrap(), floor["height"].as_u64().unwrap());
    assert!(zone.iter().all(|&i| i < w * h), "every cell is on the plan");
    let rows: Vec<&str> = floor["rows"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert!(
        zone.iter().all(|&i| rows[(i / w) as usize].as_bytes()[(i % w) as usize] != b'#'),
        "the zone is floor the crowd stands on"
    );

    // Watch old-town to the end, then let the session run.
    let (first_tx, first) = std::sync::mpsc::channel();
    let watcher = std::thread::spawn(move || frames_to_the_end(addr, "old-town", &first_tx));
    first.recv_timeout(Duration::from_secs(30)).expect("old-town's stream sends a frame while paused");
    assert_eq!(post(addr, "/v1/control", Some(OPERATOR), r#"{"pause": false}"#).status, 202);
    let frames = watcher.join().expect("the stream's frames");
    running.session.join().expect("the outcome").expect("the chain ends well");
    let last = frames.last().expect("a last frame");
    assert_eq!(last["store"], "old-town");
    assert_eq!(last["at_ns"], 660_000_000_000u64);
    let chain = &last["chain"];
    assert_eq!(chain["store_index"], 1, "old-town is the chain's second store");
    let flash = &chain["flash"];
    assert_eq!(flash["start"], "08:10:00");
    assert_eq!(flash["store"]["quota"], 200);
    assert_eq!(flash["chain"]["quota"], 600);

    // Every event before 08:11:00 is second 659's row of the load test's series.
    let row = load_second(&path, 659, &dir);
    assert!(row["grabs_answered"] > 0, "the surge is on");
    assert_eq!(flash["chain"]["sold"], row["units_sold"], "{flash}");
    assert_eq!(flash["chain"]["reserved"], row["reservations_outstanding"]);
    assert_eq!(flash["chain"]["grabs_last_s"], row["grabs_answered"]);
    assert!(flash["desk"]["in_store"].as_u64().unwrap() > 0, "QR-poster shoppers crowd the sale a minute in");
    let orders: u64 =
        chain["orders_by_channel"].as_array().unwrap().iter().map(|o| o["orders"].as_u64().unwrap()).sum();
    assert!(orders > 0, "the chain takes orders: {chain}");
    assert!(chain["broken"].is_null());
    running.stop().expect("stops");
}

#[test]
fn a_served_chain_serves_each_store_and_its_log_replays() {
    let mut options = chain_options("chain");
    options.speed = 600.0;
    options.until = Some(SimTime::from_secs(2 * 3600));
    let log = options.log.clone();
    let running = storetwin_server::start_chain(options).expect("the chain server starts");
    let addr = running.addr;

    // Who may do what.
    assert_eq!(get(addr, "/v1/stores", None).status, 401);
    let stores = get(addr, "/v1/stores", Some(VIEWER)).json();
    let names: Vec<String> =
        stores["stores"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names.len(), 3, "{stores}");
    let third = names[2].clone();
    let body = format!(r#"{{"store": "{third}", "interventions": [{{"action": "close_lane", "lane": "L1"}}]}}"#);
    assert_eq!(post(addr, "/v1/interventions", Some(VIEWER), &body).status, 403);
    assert_eq!(post(addr, "/v1/interventions", None, &body).status, 401);

    // Each store under its name; an unknown one is a 404 that lists the names.
    let state = get(addr, &format!("/v1/state?store={third}"), Some(VIEWER));
    assert_eq!(state.status, 200, "{}", state.body);
    assert_eq!(state.json()["store"], third.as_str());
    assert_eq!(state.json()["chain"]["store_index"], 2, "a chain's store says where it is in the chain");
    assert!(state.json()["chain"]["flash"].is_null(), "this chain runs no flash sale");
    assert_eq!(get(addr, "/v1/state", Some(VIEWER)).json()["store"], names[0].as_str(), "the first by default");
    let missing = get(addr, "/v1/state?store=nowhere", Some(VIEWER));
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains(&names[1]), "{}", missing.body);
    let floor = get(addr, &format!("/v1/floor?store={}", names[1]), Some(VIEWER)).json();
    assert!(floor["lanes"].as_array().is_some_and(|l| !l.is_empty()), "{floor}");
    assert_eq!(first_frame(addr, &third)["store"], third.as_str(), "the stream of the store asked for");

    // The operator acts on one store; the intervention names it.
    let done = post(addr, "/v1/interventions", Some(OPERATOR), &body);
    assert_eq!(done.status, 202, "{}", done.body);
    assert_eq!(done.json()["store"], third.as_str());
    let no_store = post(
        addr,
        "/v1/interventions",
        Some(OPERATOR),
        r#"{"interventions": [{"action": "close_lane", "lane": "L1"}]}"#,
    );
    assert_eq!(no_store.status, 422);
    assert!(no_store.body.contains("store"), "{}", no_store.body);
    // A what-if at one store: the whole chain copied and run ahead, that store's answer.
    let ask = format!(
        r#"{{"store": "{third}", "interventions": [{{"action": "open_lane", "lane": "L7"}}], "horizon": "10min", "replications": 4}}"#
    );
    assert_eq!(post(addr, "/v1/forecast", Some(VIEWER), &ask).status, 403);
    let answer = post(addr, "/v1/forecast", Some(OPERATOR), &ask);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let answer = answer.json();
    assert_eq!(answer["store"], third.as_str());
    assert_eq!(answer["replications"], 4);
    assert!(answer["kpis"].as_array().is_some_and(|k| k.iter().any(|k| k["kpi"] == "mean_wait_s")), "{answer}");
    let unnamed = post(addr, "/v1/forecast", Some(OPERATOR), r#"{"horizon": "10min"}"#);
    assert_eq!(unnamed.status, 422, "{}", unnamed.body);
    // A store's readings, named by store: a fault takes its device down there only.
    let fault = format!(r#"{{"store": "{third}", "readings": [{{"type": "fault", "device": "door-1"}}]}}"#);
    assert_eq!(post(addr, "/v1/readings", Some(VIEWER), &fault).status, 403);
    let taken = post(addr, "/v1/readings", Some(OPERATOR), &fault);
    assert_eq!(taken.status, 202, "{}", taken.body);
    assert_eq!(taken.json()["injected"], 1, "{}", taken.body);
    let unknown = post(addr, "/v1/readings", Some(OPERATOR), &fault.replace("door-1", "door-99"));
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    assert!(unknown.body.contains("device"), "{}", unknown.body);
    let unnamed =
        post(addr, "/v1/readings", Some(OPERATOR), r#"{"readings": [{"type": "fault", "device": "door-1"}]}"#);
    assert_eq!(unnamed.status, 422, "{}", unnamed.body);
    let down = |store: &str| {
        let kpis = get(addr, &format!("/v1/kpis?store={store}"), Some(VIEWER)).json();
        kpis["devices"].as_array().unwrap().iter().any(|d| d["name"] == "door-1" && d["up"] == false)
    };
    wait_for(Duration::from_secs(30), "door-1 down at the third store", || down(&third));
    assert!(!down(&names[0]), "the first store's door counter is up");
    // Each store's gauges under its name (every store is swept once a second).
    assert_eq!(get(addr, "/metrics", None).status, 401);
    wait_for(Duration::from_secs(30), "every store's occupancy in the metrics", || {
        let text = get(addr, "/metrics", Some(VIEWER)).body;
        names.iter().all(|n| text.contains(&format!("storetwin_occupancy{{store=\"{n}\"}}")))
    });
    // And every store's queue waits, as a histogram per store and queue.
    wait_for(Duration::from_secs(60), "every store's waits in the metrics", || {
        let text = get(addr, "/metrics", Some(VIEWER)).body;
        names.iter().all(|n| text.contains(&format!("storetwin_wait_seconds_bucket{{store=\"{n}\",queue=")))
    });
    assert_eq!(post(addr, "/v1/control", Some(OPERATOR), r#"{"speed": 3000}"#).status, 202);

    // The log, rewritten every second, holds the intervention at its store.
    wait_for(Duration::from_secs(60), "the intervention in the log", || {
        storetwin_eventlog::chain::ChainLog::read(&log).is_ok_and(|l| !l.interventions.is_empty())
    });
    let ended = running.session.join().expect("the outcome").expect("the chain ends well");
    assert_eq!(ended.end, SimTime::from_secs(2 * 3600));
    running.stop().expect("stops");
    let record = storetwin_eventlog::chain::ChainLog::read(&log).expect("the chain session log");
    assert_eq!(record.end_ns, ended.end.as_nanos());
    assert_eq!(record.event_hash, ended.event_hash);
    assert_eq!(record.interventions.len(), 1, "a reading is not an intervention: {:?}", record.interventions);
    assert_eq!(record.interventions[0].store, 2);
    assert_eq!(record.interventions[0].what, Intervention::SetLaneOpen { lane: 0, open: false });

    let file = storetwin_scenarios::Chain::load(&record.scenario).expect("the chain loads");
    let (spec, _) = file.run_spec().unwrap();
    let end = SimTime::from_nanos(record.end_ns);
    for threads in [1, 2] {
        let replay = storetwin_actors::chain::live::replay_chain(
            &spec,
            Seed(record.seed),
            &record.interventions,
            &record.readings,
            end,
            threads,
        )
        .expect("replays");
        assert_eq!(replay.event_hash.to_string(), record.event_hash, "{threads} threads");
    }
    assert_eq!(record.readings.len(), 1, "the fault reading, at its store");
    assert_eq!(record.readings[0].store, 2);
    let untouched = storetwin_actors::chain::live::replay_chain(&spec, Seed(record.seed), &[], &[], end, 2).unwrap();
    assert_ne!(untouched.event_hash.to_string(), record.event_hash, "the intervention changed the run");
}

/// Who may call what on a served chain: none, a viewer and an operator against every route.
#[test]
fn a_served_chains_routes_ask_for_the_right_token() {
    let mut options = chain_options("chain-auth");
    options.paused = true;
    let log = options.log.clone();
    let running = storetwin_server::start_chain(options).expect("the chain server starts");
    let addr = running.addr;
    // The log is written at the first checkpoint, within a second, paused or not.
    wait_for(Duration::from_secs(30), "the first checkpoint", || log.exists());
    let reads = [
        "/v1/stores",
        "/v1/floor?store=station",
        "/v1/state?store=station",
        "/v1/kpis?store=station",
        "/v1/log",
        "/metrics",
    ];
    for path in reads {
        assert_eq!(get(addr, path, None).status, 401, "GET {path} without a token");
        assert_eq!(get(addr, path, Some("not-a-token-of-anyone-at-all")).status, 401, "GET {path} with a wrong token");
        assert_eq!(get(addr, path, Some(VIEWER)).status, 200, "GET {path} as a viewer");
        assert_eq!(get(addr, path, Some(OPERATOR)).status, 200, "GET {path} as an operator");
    }
    assert_eq!(get(addr, "/v1/health", None).status, 200, "health is open");
    let writes = [
        ("/v1/interventions", r#"{"store": "station", "interventions": [{"action": "open_lane", "lane": "L7"}]}"#, 202),
        ("/v1/control", r#"{"speed": 120}"#, 202),
        ("/v1/readings", r#"{"store": "station", "readings": [{"type": "heartbeat", "device": "door-1"}]}"#, 202),
        ("/v1/forecast", r#"{"store": "station", "horizon": "2min", "replications": 2}"#, 200),
    ];
    for (path, body, ok) in writes {
        assert_eq!(post(addr, path, None, body).status, 401, "POST {path} without a token");
        assert_eq!(post(addr, path, Some(VIEWER), body).status, 403, "POST {path} as a viewer");
        let r = post(addr, path, Some(OPERATOR), body);
        assert_eq!(r.status, ok, "POST {path} as an operator: {}", r.body);
    }
    running.stop().expect("stops");
}
