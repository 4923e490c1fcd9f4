//! Sensor readings over MQTT, against real brokers: Debian's mosquitto, which each test
//! starts on a free port of its own, and (with the feature `mqtt-broker`) the broker inside
//! the server. A device is a rumqttc client publishing with QoS 1; what the server took is
//! read from its `/metrics` and `/v1/kpis`, as an operator would.
//!
//! The metrics are the process's, so the tests take turns ([`SERIAL`]) and compare counts
//! before and after. mosquitto must be installed (`apt-get install mosquitto`; CI does):
//! without it the tests fail, they never skip.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

mod common;

use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use storetwin_server::mqtt::{Broker, Settings};
use storetwin_server::{Options, Running};

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/weekday.toml");
/// How long anything may take on a loaded 2-core machine.
const PATIENCE: Duration = Duration::from_secs(30);

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("storetwin-mqtt-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

/// Polls `f` until it gives a value, for at most [`PATIENCE`].
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + PATIENCE;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < until, "waited {PATIENCE:?} for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A mosquitto of the test's own, killed when dropped.
struct Mosquitto {
    child: Child,
    port: u16,
    dir: PathBuf,
}

fn mosquitto_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|d| d.join("mosquitto"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the mosquitto broker is not installed, and these tests need a real one: install it with \
                 `apt-get install -y mosquitto mosquitto-clients` (CI's .ci/run installs it)"
            )
        })
}

impl Mosquitto {
    /// On a free port.
    fn start() -> Mosquitto {
        for _ in 0..3 {
            if let Some(m) = Mosquitto::try_on(free_port()) {
                return m;
            }
        }
        panic!("mosquitto did not start on three free ports (see its logs in {})", std::env::temp_dir().display());
    }

    /// On `port`, or panics.
    fn on(port: u16) -> Mosquitto {
        Mosquitto::try_on(port).unwrap_or_else(|| panic!("mosquitto did not start on port {port}"))
    }

    fn try_on(port: u16) -> Option<Mosquitto> {
        let dir = scratch(&format!("mosquitto-{port}"));
        let conf = dir.join("mosquitto.conf");
        // As root, mosquitto would switch to the mosquitto user; `user root` keeps it as it is.
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n"),
        )
        .expect("mosquitto's config");
        let log = std::fs::File::create(dir.join("mosquitto.log")).expect("mosquitto's log");
        let mut child = Command::new(mosquitto_binary())
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log"))
            .stderr(log)
            .spawn()
            .expect("mosquitto starts");
        let until = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(dir.join("mosquitto.log")).unwrap_or_default();
                eprintln!("mosquitto on port {port} ended at once ({status}):\n{log}");
                return None;
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(Mosquitto { child, port, dir });
            }
            if Instant::now() > until {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A store's device: a synchronous rumqttc client whose events a thread forwards.
struct Device {
    client: Client,
    /// The connection's events, and its errors as text.
    events: Receiver<Result<Event, String>>,
    gone: Arc<AtomicBool>,
}

impl Drop for Device {
    fn drop(&mut self) {
        self.gone.store(true, Ordering::Relaxed);
        let _ = self.client.try_disconnect();
    }
}

impl Device {
    /// Connects (and waits for the broker's ConnAck).
    fn connect(addr: SocketAddr, password: Option<&str>) -> Device {
        Device::try_connect(addr, password).unwrap_or_else(|| panic!("a device could not connect to {addr}"))
    }

    fn try_connect(addr: SocketAddr, password: Option<&str>) -> Option<Device> {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut options =
            MqttOptions::new(format!("test-device-{}-{n}", std::process::id()), addr.ip().to_string(), addr.port());
        options.set_keep_alive(Duration::from_secs(30));
        options.set_max_packet_size(1 << 20, 1 << 20);
        if let Some(p) = password {
            options.set_credentials("device", p);
        }
        let (client, mut connection) = Client::new(options, 64);
        let (tx, events) = std::sync::mpsc::channel();
        let gone = Arc::new(AtomicBool::new(false));
        let dropped = gone.clone();
        std::thread::spawn(move || {
            for event in connection.iter() {
                if dropped.load(Ordering::Relaxed) {
                    return;
                }
                let failed = event.is_err();
                if tx.send(event.map_err(|e| e.to_string())).is_err() {
                    return;
                }
                if failed {
                    // The event loop reconnects at once when polled again: pace it.
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        });
        // The first event says: a ConnAck, or an error (rumqttd closes a refused connection
        // without a ConnAck).
        match device_first(&events) {
            Some(Event::Incoming(Packet::ConnAck(_))) => Some(Device { client, events, gone }),
            _ => {
                drop(Device { client, events, gone });
                None
            }
        }
    }

    /// Reads events until one satisfies `f`; false if none did within `patience`.
    fn wait(&mut self, patience: Duration, mut f: impl FnMut(&Event) -> bool) -> bool {
        let until = Instant::now() + patience;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(Ok(e)) if f(&e) => return true,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return false,
            }
        }
    }

    /// Publishes each message with QoS 1 without waiting in between, then waits until the
    /// broker has acknowledged them all.
    fn publish(&mut self, messages: &[(&str, &str)]) {
        for (topic, payload) in messages {
            self.client
                .publish(*topic, QoS::AtLeastOnce, false, payload.as_bytes().to_vec())
                .expect("a publish is queued");
        }
        let mut acked = 0;
        let all = self.wait(PATIENCE, |e| {
            acked += usize::from(matches!(e, Event::Incoming(Packet::PubAck(_))));
            acked == messages.len()
        });
        assert!(all, "the broker acknowledged {acked} of {} messages", messages.len());
    }

    /// Subscribes to `topic` and waits for a JSON message on it that satisfies `f`.
    fn next_on(&mut self, topic: &str, mut f: impl FnMut(&serde_json::Value) -> bool) -> serde_json::Value {
        self.client.subscribe(topic, QoS::AtLeastOnce).expect("a subscribe is queued");
        let mut got = None;
        let arrived = self.wait(PATIENCE, |e| match e {
            Event::Incoming(Packet::Publish(p)) if p.topic == topic => {
                got = serde_json::from_slice(&p.payload).ok();
                got.as_ref().is_some_and(&mut f)
            }
            _ => false,
        });
        assert!(arrived, "nothing as expected arrived on {topic} (the last: {got:?})");
        got.expect("a JSON payload")
    }
}

/// The connection's first event (an error as `None`), waiting at most [`PATIENCE`].
fn device_first(events: &Receiver<Result<Event, String>>) -> Option<Event> {
    events.recv_timeout(PATIENCE).ok()?.ok()
}

/// The server on the weekday scenario at 60x, reading MQTT as `settings` say.
fn serve(settings: Settings, name: &str) -> Running {
    let mut options = Options::new(SCENARIO, scratch(name).join("session.log"));
    options.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    options.workers = 1;
    options.mqtt = Some(settings);
    storetwin_server::start(options).expect("the server starts")
}

fn settings(broker: Broker) -> Settings {
    let mut s = Settings::new(broker);
    s.state_every = Some(Duration::from_millis(500));
    s
}

fn external(port: u16) -> Broker {
    Broker::External(format!("mqtt://127.0.0.1:{port}").parse().expect("a broker URL"))
}

fn get(server: &Running, path: &str) -> String {
    let res = common::get(server.addr, path, None);
    assert!((200..300).contains(&res.status), "GET {path}: {}", res.status);
    res.body
}

/// The Prometheus samples, by name and sorted labels.
type Samples = BTreeMap<(String, Vec<(String, String)>), f64>;

fn samples(server: &Running) -> Samples {
    let text = get(server, "/metrics");
    let mut out = Samples::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let Some((key, value)) = line.rsplit_once(' ') else { continue };
        let (name, labels) = match key.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (key, ""),
        };
        let mut labels: Vec<(String, String)> = labels
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
            .collect();
        labels.sort();
        if let Ok(v) = value.parse() {
            out.insert((name.to_owned(), labels), v);
        }
    }
    out
}

fn sample(s: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    let mut want: Vec<(String, String)> = labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    want.sort();
    s.get(&(name.to_owned(), want)).copied().unwrap_or(0.0)
}

const READINGS: &str = "storetwin_ingest_readings_total";
const REJECTED: &str = "storetwin_ingest_rejected_total";

fn taken(s: &Samples, kind: &str) -> f64 {
    sample(s, READINGS, &[("kind", kind), ("via", "mqtt")])
}

fn refused(s: &Samples, reason: &str) -> f64 {
    sample(s, REJECTED, &[("reason", reason), ("via", "mqtt")])
}

fn subscribed(server: &Running) -> bool {
    sample(&samples(server), "storetwin_mqtt_subscribed", &[]) == 1.0
}

/// Whether the twin shows `device` up, from `GET /v1/kpis`.
fn device_up(server: &Running, device: &str) -> bool {
    let kpis: serde_json::Value = serde_json::from_str(&get(server, "/v1/kpis")).expect("JSON");
    let devices = kpis["devices"].as_array().expect("the devices");
    let d = devices.iter().find(|d| d["name"] == device).unwrap_or_else(|| panic!("no device {device} in {kpis}"));
    d["up"].as_bool().expect("up is a boolean")
}

/// What every broker must do: take good readings (one or a batch per message), count a
/// malformed payload, a topic the payload contradicts and an unknown device as refused
/// with via="mqtt" while the good messages around them are taken, publish the twin's state,
/// and apply a device's fault and recovery to the twin.
fn readings_flow(server: &Running, device: &mut Device) {
    wait_for("the server's subscription", || subscribed(server).then_some(()));
    let before = samples(server);
    device.publish(&[("storetwin/riverside/door-1/heartbeat", "{}")]);
    device.publish(&[("storetwin/riverside/door-1/heartbeat", "[{}, {\"type\": \"heartbeat\"}]")]);
    device.publish(&[("storetwin/riverside/door-1/door_count", r#"{"in": 0, "out": 0}"#)]);
    device
        .publish(&[("storetwin/riverside/smart-dairy-1/shelf_weight", r#"{"sku": "Whole milk 1 l", "grams": 5230}"#)]);
    device.publish(&[("storetwin/riverside/L1/pos_sale", r#"{"txn": "T-1001", "total": 12.34, "items": 3}"#)]);
    device.publish(&[("storetwin/riverside/no-such-device/heartbeat", "{}")]);
    device.publish(&[("storetwin/riverside/door-1/heartbeat", "{not json")]);
    device.publish(&[("storetwin/riverside/door-1/heartbeat", r#"{"colour": "red"}"#)]);
    device.publish(&[("storetwin/riverside/door-1/heartbeat", r#"{"device": "door-2"}"#)]);
    // Together, likely one batch: the refused reading costs only its own message.
    device.publish(&[
        ("storetwin/riverside/door-2/heartbeat", "{}"),
        ("storetwin/riverside/ghost/fault", "{}"),
        ("storetwin/riverside/door-2/heartbeat", "[{}]"),
    ]);
    // Another store's topic is not this server's.
    device.publish(&[("storetwin/hillside/door-1/heartbeat", "{}")]);

    let expected = |s: &Samples| {
        [
            taken(s, "heartbeat") - taken(&before, "heartbeat"),
            taken(s, "door_count") - taken(&before, "door_count"),
            taken(s, "shelf_weight") - taken(&before, "shelf_weight"),
            taken(s, "pos_sale") - taken(&before, "pos_sale"),
            taken(s, "fault") - taken(&before, "fault"),
            refused(s, "bad_reading") - refused(&before, "bad_reading"),
            refused(s, "malformed") - refused(&before, "malformed"),
            refused(s, "topic_mismatch") - refused(&before, "topic_mismatch"),
        ]
    };
    let want = [5.0, 1.0, 1.0, 1.0, 0.0, 2.0, 2.0, 1.0];
    let what =
        "heartbeat, door_count, shelf_weight, pos_sale, fault taken; bad_reading, malformed, topic_mismatch refused";
    let until = Instant::now() + PATIENCE;
    while expected(&samples(server)) != want && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(expected(&samples(server)), want, "{what}");
    // Nothing more trickles in (say, a refused batch's good messages counted twice).
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(expected(&samples(server)), want, "{what}");

    // The twin's state, retained on the broker for a dashboard.
    let state = device.next_on("storetwin/riverside/$twin/state", |_| true);
    assert_eq!(state["online"], true, "{state}");
    assert_eq!(state["store"], "Riverside", "{state}");
    assert!(state["clock"].as_str().is_some_and(|c| c.len() == 8), "{state}");
    assert!(state["lanes_open"].as_u64().is_some_and(|n| n > 0), "{state}");

    // NEEDS THE REAL READINGS (the sensors branch) to mean what it says: a device's fault
    // over MQTT takes it down in the twin, and a heartbeat brings it back. In this branch
    // the scaffold's `Reading::to_injection` maps a device state to the SetDeviceUp
    // intervention, so it passes here too; the real readings must do the same.
    assert!(device_up(server, "face-cam"), "face-cam starts up");
    device.publish(&[("storetwin/riverside/face-cam/fault", r#"{"reason": "lens covered"}"#)]);
    wait_for("face-cam down in /v1/kpis after its fault", || (!device_up(server, "face-cam")).then_some(()));
    device.publish(&[("storetwin/riverside/face-cam/heartbeat", "{}")]);
    wait_for("face-cam up in /v1/kpis after its heartbeat", || device_up(server, "face-cam").then_some(()));
    assert_eq!(taken(&samples(server), "fault") - taken(&before, "fault"), 1.0);
}

#[test]
fn mosquitto_readings_are_taken_and_bad_ones_counted() {
    let _turn = serial();
    let broker = Mosquitto::start();
    let server = serve(settings(external(broker.port)), "mosquitto");
    let mut device = Device::connect(SocketAddr::from(([127, 0, 0, 1], broker.port)), None);
    readings_flow(&server, &mut device);
    server.stop().expect("the session ends cleanly");
    // The server said it went away, retained: a dashboard subscribing now sees it.
    let mut dashboard = Device::connect(SocketAddr::from(([127, 0, 0, 1], broker.port)), None);
    let state = dashboard.next_on("storetwin/riverside/$twin/state", |_| true);
    assert_eq!(state, serde_json::json!({"online": false}));
}

#[test]
fn mosquitto_gone_and_back_the_server_reconnects_and_subscribes_again() {
    let _turn = serial();
    // No broker yet: the server starts all the same and keeps trying.
    let port = free_port();
    let server = serve(settings(external(port)), "reconnect");
    std::thread::sleep(Duration::from_millis(500));
    assert!(!subscribed(&server));
    let heartbeats = || taken(&samples(&server), "heartbeat");
    for round in 0..2 {
        let broker = Mosquitto::on(port);
        wait_for("the server's subscription", || subscribed(&server).then_some(()));
        let before = heartbeats();
        let mut device = Device::connect(SocketAddr::from(([127, 0, 0, 1], port)), None);
        device.publish(&[("storetwin/riverside/door-1/heartbeat", "{}")]);
        wait_for("the heartbeat counted", || (heartbeats() == before + 1.0).then_some(()));
        drop(device);
        drop(broker);
        wait_for(&format!("the server to see the broker gone (round {round})"), || {
            (!subscribed(&server)).then_some(())
        });
    }
    server.stop().expect("the session ends cleanly");
}

#[cfg(feature = "mqtt-broker")]
#[test]
fn embedded_broker_readings_are_taken_and_bad_ones_counted() {
    let _turn = serial();
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let server = serve(settings(Broker::Embedded(addr)), "embedded");
    let mut device = Device::connect(addr, None);
    readings_flow(&server, &mut device);
    server.stop().expect("the session ends cleanly");
}

#[cfg(feature = "mqtt-broker")]
#[test]
fn embedded_broker_with_tokens_takes_only_an_operator_token_as_password() {
    use storetwin_server::auth::{Role, Tokens};
    let _turn = serial();
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut tokens = Tokens::default();
    tokens.add(Role::Operator, "operator-token-0123456789").unwrap();
    tokens.add(Role::Viewer, "viewer-token-0123456789").unwrap();
    let mut options = Options::new(SCENARIO, scratch("tokens").join("session.log"));
    options.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    options.workers = 1;
    options.tokens = tokens;
    options.mqtt = Some(settings(Broker::Embedded(addr)));
    let server = storetwin_server::start(options).expect("the server starts");
    assert!(Device::try_connect(addr, None).is_none(), "no password");
    assert!(Device::try_connect(addr, Some("viewer-token-0123456789")).is_none(), "a viewer's token");
    assert!(Device::try_connect(addr, Some("operator-token-0123456789")).is_some(), "an operator's token");
    server.stop().expect("the session ends cleanly");
}

#[cfg(feature = "mqtt-broker")]
#[test]
fn embedded_broker_on_a_public_address_needs_tokens() {
    let mut options = Options::new(SCENARIO, scratch("public").join("session.log"));
    options.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    options.mqtt = Some(Settings::new(Broker::Embedded(SocketAddr::from(([0, 0, 0, 0], free_port())))));
    let e = storetwin_server::start(options).err().expect("refused").to_string();
    assert!(e.contains("--mqtt-listen 0.0.0.0:") && e.contains("needs tokens"), "{e}");
}

#[cfg(not(feature = "mqtt-broker"))]
#[test]
fn without_the_feature_the_embedded_broker_says_how_to_get_it() {
    let mut options = Options::new(SCENARIO, scratch("nofeature").join("session.log"));
    options.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    options.mqtt = Some(Settings::new(Broker::Embedded(SocketAddr::from(([127, 0, 0, 1], 1883)))));
    let e = storetwin_server::start(options).err().expect("refused").to_string();
    assert!(e.contains("built without the embedded MQTT broker"), "{e}");
    assert!(e.contains("--features mqtt-broker") && e.contains("--mqtt mqtt://HOST:PORT"), "{e}");
}
