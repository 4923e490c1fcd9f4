//! End-to-end: `storetwin serve --mqtt URL` as a user runs it, with Debian's mosquitto as the
//! broker and mosquitto_pub / mosquitto_sub as the devices and the dashboard. mosquitto
//! must be installed (`apt-get install mosquitto mosquitto-clients`; CI does): without it
//! the test fails, it never skips.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/weekday.toml");
/// How long anything may take on a loaded 2-core machine.
const PATIENCE: Duration = Duration::from_secs(30);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("storetwin-serve-mqtt-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

/// A program of the mosquitto packages, or a failure that says how to install it.
fn mosquitto_program(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/bin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not installed, and this test needs it: `apt-get install -y mosquitto mosquitto-clients` \
                 (CI's .ci/run installs them)"
            )
        })
}

/// Kills the process when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A mosquitto of the test's own on a free port.
fn mosquitto(dir: &std::path::Path) -> (Killed, u16) {
    for _ in 0..3 {
        let port = free_port();
        let conf = dir.join("mosquitto.conf");
        // As root, mosquitto would switch to the mosquitto user; `user root` keeps it as it is.
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n"),
        )
        .expect("mosquitto's config");
        let child = Command::new(mosquitto_program("mosquitto"))
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto starts");
        let mut broker = Killed(child);
        let until = Instant::now() + PATIENCE;
        while Instant::now() < until {
            if matches!(broker.0.try_wait(), Ok(Some(_))) {
                break;
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return (broker, port);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    panic!("mosquitto did not start on three free ports");
}

/// `GET path` over plain HTTP/1.0: the body.
fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(PATIENCE)).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.split_once("\r\n\r\n").map(|(_, body)| body.to_owned())
}

/// A sample's value in the Prometheus text (`name{labels}` exactly as the exporter writes it).
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let until = Instant::now() + PATIENCE;
    while !f() {
        assert!(Instant::now() < until, "waited {PATIENCE:?} for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn run(program: &str, args: &[&str]) -> Output {
    let out = Command::new(mosquitto_program(program)).args(args).output().expect("it runs");
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// The retained state, as a dashboard subscribing now gets it.
fn state(broker: u16) -> serde_json::Value {
    let port = broker.to_string();
    let out = run(
        "mosquitto_sub",
        &["-h", "127.0.0.1", "-p", &port, "-C", "1", "-W", "30", "-t", "storetwin/riverside/$twin/state"],
    );
    serde_json::from_slice(&out.stdout).expect("the state is JSON")
}

#[test]
fn serve_takes_readings_published_with_mosquitto_pub() {
    let dir = scratch("pub");
    let (_broker, broker) = mosquitto(&dir);
    let http = free_port();
    let listen = format!("127.0.0.1:{http}");
    let url = format!("mqtt://127.0.0.1:{broker}");
    let log = dir.join("session.log");
    let log = log.to_str().expect("a UTF-8 path");
    let child = Command::new(env!("CARGO_BIN_EXE_storetwin"))
        .args(["serve", SCENARIO, "--listen", &listen, "--mqtt", &url, "--mqtt-state-every", "0.5", "--log", log])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("storetwin serve starts");
    let mut server = Killed(child);
    let metrics = || get(http, "/metrics").unwrap_or_default();
    wait_for("the server's subscription", || sample(&metrics(), "storetwin_mqtt_subscribed") == Some(1.0));

    let port = broker.to_string();
    let publish = |topic: &str, payload: &str| {
        run("mosquitto_pub", &["-h", "127.0.0.1", "-p", &port, "-q", "1", "-t", topic, "-m", payload])
    };
    publish("storetwin/riverside/smart-dairy-1/shelf_weight", r#"{"sku": "Whole milk 1 l", "grams": 5230}"#);
    publish("storetwin/riverside/door-1/door_count", r#"{"in": "many"}"#);
    let taken = r#"storetwin_ingest_readings_total{kind="shelf_weight",via="mqtt"}"#;
    let malformed = r#"storetwin_ingest_rejected_total{reason="malformed",via="mqtt"}"#;
    wait_for("one reading taken and one refused", || {
        let m = metrics();
        sample(&m, taken) == Some(1.0) && sample(&m, malformed) == Some(1.0)
    });

    let live = state(broker);
    assert_eq!(live["online"], true, "{live}");
    assert_eq!(live["store"], "Riverside", "{live}");

    // Ctrl-C (SIGTERM here) ends the session; the broker is told the twin is gone.
    let pid = server.0.id().to_string();
    assert!(Command::new("sh").args(["-c", &format!("kill -TERM {pid}")]).status().expect("sh runs").success());
    let until = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = server.0.try_wait().expect("the server's status") {
            break status;
        }
        assert!(Instant::now() < until, "storetwin serve did not stop within {PATIENCE:?} of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stdout = String::new();
    server.0.stdout.take().expect("stdout").read_to_string(&mut stdout).expect("the output");
    let mut stderr = String::new();
    server.0.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("the errors");
    assert!(status.success(), "{status}\n{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("MQTT readings: {url} on storetwin/riverside/+/+")), "{stdout}");
    assert!(stdout.contains("MQTT state:    storetwin/riverside/$twin/state (retained)"), "{stdout}");
    assert!(stdout.contains("session ended"), "{stdout}");
    assert_eq!(state(broker), serde_json::json!({"online": false}));
}

#[test]
fn serve_refuses_an_mqtt_url_it_cannot_speak() {
    let out = Command::new(env!("CARGO_BIN_EXE_storetwin"))
        .args(["serve", SCENARIO, "--mqtt", "mqtts://broker.example:8883"])
        .output()
        .expect("storetwin runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("mqtts:// is not built in (plain TCP only)"), "{stderr}");
}

#[cfg(not(feature = "mqtt-broker"))]
#[test]
fn serve_mqtt_listen_without_the_feature_says_how_to_build_it() {
    let log = scratch("nofeature").join("session.log");
    let out = Command::new(env!("CARGO_BIN_EXE_storetwin"))
        .args(["serve", SCENARIO, "--listen", "127.0.0.1:0", "--mqtt-listen", "127.0.0.1:1883", "--log"])
        .arg(&log)
        .output()
        .expect("storetwin runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("built without the embedded MQTT broker"), "{stderr}");
    assert!(stderr.contains("--features mqtt-broker") && stderr.contains("--mqtt mqtt://HOST:PORT"), "{stderr}");
    assert!(!log.exists(), "nothing was served");
}

/// A served chain over MQTT: each message goes to the store its topic names (the store's
/// name as a topic level), and the chain's session log records it there.
#[test]
fn a_served_chain_takes_each_stores_readings_from_its_topics() {
    let dir = scratch("chain");
    let (_broker, broker) = mosquitto(&dir);
    let http = free_port();
    let listen = format!("127.0.0.1:{http}");
    let url = format!("mqtt://127.0.0.1:{broker}");
    let log = dir.join("chain.session");
    let chain = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/chain-3-stores.toml");
    let child = Command::new(env!("CARGO_BIN_EXE_storetwin"))
        .args(["serve", chain, "--listen", &listen, "--mqtt", &url, "--speed", "60", "--log"])
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("storetwin serve starts");
    let mut server = Killed(child);
    let metrics = || get(http, "/metrics").unwrap_or_default();
    wait_for("the server's subscription", || sample(&metrics(), "storetwin_mqtt_subscribed") == Some(1.0));
    let port = broker.to_string();
    let publish = |topic: &str, payload: &str| {
        run("mosquitto_pub", &["-h", "127.0.0.1", "-p", &port, "-q", "1", "-t", topic, "-m", payload])
    };
    publish("storetwin/old-town/wifi-2/fault", "{}");
    publish("storetwin/nowhere/wifi-2/fault", "{}");
    let unknown = r#"storetwin_ingest_rejected_total{reason="unknown_store",via="mqtt"}"#;
    wait_for("the unknown store's reading refused", || sample(&metrics(), unknown) == Some(1.0));
    wait_for("the fault in the chain's log, at old-town", || {
        std::fs::read_to_string(&log)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|l| l["readings"].as_array().cloned())
            .is_some_and(|r| {
                r.len() == 1 && r[0]["store"] == 1 && r[0]["reading"] == "device_state" && r[0]["up"] == false
            })
    });
    // Ended (SIGTERM), the session's log with its MQTT reading replays to the identical run.
    let pid = server.0.id().to_string();
    assert!(Command::new("sh").args(["-c", &format!("kill -TERM {pid}")]).status().expect("sh runs").success());
    let until = Instant::now() + PATIENCE;
    while server.0.try_wait().expect("the server's status").is_none() {
        assert!(Instant::now() < until, "storetwin serve did not stop within {PATIENCE:?} of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    let replay = Command::new(env!("CARGO_BIN_EXE_storetwin")).arg("replay").arg(&log).output().expect("replay runs");
    let out = String::from_utf8_lossy(&replay.stdout);
    assert!(replay.status.success(), "{out}{}", String::from_utf8_lossy(&replay.stderr));
    assert!(out.contains("replay identical: a chain of 3 stores, 0 interventions, 1 readings"), "{out}");
}
