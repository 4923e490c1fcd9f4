//! `storetwin serve` as an ops person runs it: killed with `kill -9` mid-session, its log
//! up to that moment replays to the identical state with `storetwin replay`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return (0, String::new()) };
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, out.split_once("\r\n\r\n").map_or(String::new(), |(_, b)| b.to_owned()))
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `storetwin serve SCENARIO ARGS --listen 127.0.0.1:PORT --log LOG` from the project's
/// root, killed when dropped.
fn serve_in_background(scenario: &str, args: &[&str], port: u16, log: &Path) -> Killed {
    let child = Command::new(env!("CARGO_BIN_EXE_storetwin"))
        .current_dir(root())
        .args(["serve", scenario])
        .args(args)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--log")
        .arg(log)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("storetwin serve starts");
    Killed(child)
}

fn wait_for(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn kill_9_mid_session_then_the_log_replays_to_the_identical_state() {
    let dir = std::env::temp_dir().join(format!("storetwin-kill9-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let log = dir.join("session.log");
    let port = free_port();
    let mut child = serve_in_background("scenarios/weekday.toml", &["--speed", "1000"], port, &log);
    wait_for(Duration::from_secs(60), "the server to listen", || http(port, "GET", "/v1/health", "").0 == 200);
    let (status, body) =
        http(port, "POST", "/v1/interventions", r#"{"interventions": [{"action": "open_lane", "lane": "L7"}]}"#);
    assert_eq!(status, 202, "{body}");
    let checks =
        || std::fs::read_to_string(&log).unwrap_or_default().lines().filter(|l| l.contains("\"check\"")).count();
    let before = checks();
    wait_for(Duration::from_secs(30), "two checkpoints after the intervention", || checks() >= before + 2);
    child.0.kill().expect("kill -9");
    child.0.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("\"end\""), "a killed session has no end record");
    let replay =
        Command::new(env!("CARGO_BIN_EXE_storetwin")).current_dir(root()).arg("replay").arg(&log).output().unwrap();
    let out = String::from_utf8_lossy(&replay.stdout);
    assert!(replay.status.success(), "{out}{}", String::from_utf8_lossy(&replay.stderr));
    assert!(out.contains("replay identical: 1 inputs"), "{out}");
    assert!(out.contains("the session did not end"), "{out}");
    // A log whose checkpoint was tampered with is caught.
    let tampered = dir.join("tampered.log");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let last = lines.iter().rposition(|l| l.contains("\"check\"")).unwrap();
    let hash_at = lines[last].find("\"event_hash\":\"").unwrap() + 14;
    let flipped = if &lines[last][hash_at..hash_at + 1] == "0" { "1" } else { "0" };
    lines[last].replace_range(hash_at..hash_at + 1, flipped);
    std::fs::write(&tampered, lines.join("\n") + "\n").unwrap();
    let replay = Command::new(env!("CARGO_BIN_EXE_storetwin"))
        .current_dir(root())
        .arg("replay")
        .arg(&tampered)
        .output()
        .unwrap();
    assert!(!replay.status.success());
    assert!(String::from_utf8_lossy(&replay.stderr).contains("DIFFERS"), "{}", String::from_utf8_lossy(&replay.stderr));
}

#[test]
fn a_served_chain_killed_with_kill_9_leaves_a_log_that_replays_identically() {
    let dir = std::env::temp_dir().join(format!("storetwin-kill9-chain-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let log = dir.join("chain.session");
    let port = free_port();
    let mut child = serve_in_background("scenarios/chain-3-stores.toml", &["--speed", "300"], port, &log);
    wait_for(Duration::from_secs(60), "the server to listen", || http(port, "GET", "/v1/health", "").0 == 200);
    let (_, stores) = http(port, "GET", "/v1/stores", "");
    let stores: serde_json::Value = serde_json::from_str(&stores).expect("the stores");
    let second = stores["stores"][1]["name"].as_str().expect("a second store").to_string();
    let body = format!(r#"{{"store": "{second}", "interventions": [{{"action": "open_lane", "lane": "L7"}}]}}"#);
    let (status, answer) = http(port, "POST", "/v1/interventions", &body);
    assert_eq!(status, 202, "{answer}");
    let logged = || {
        std::fs::read_to_string(&log)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .filter(|l| l["interventions"].as_array().is_some_and(|i| !i.is_empty()))
    };
    wait_for(Duration::from_secs(30), "the intervention in the log", || logged().is_some());
    std::thread::sleep(Duration::from_millis(1500));
    child.0.kill().expect("kill -9");
    child.0.wait().unwrap();
    let record = logged().expect("a whole log after kill -9");
    assert!(record["end_ns"].as_u64().unwrap() > 0);
    let replay =
        Command::new(env!("CARGO_BIN_EXE_storetwin")).current_dir(root()).arg("replay").arg(&log).output().unwrap();
    let out = String::from_utf8_lossy(&replay.stdout);
    assert!(replay.status.success(), "{out}{}", String::from_utf8_lossy(&replay.stderr));
    assert!(out.contains("replay identical: a chain of 3 stores, 1 interventions, 0 readings"), "{out}");
    // A changed fingerprint is caught, and the store it is in named.
    let mut tampered = record.clone();
    tampered["event_hash"] = "0000000000000000".into();
    tampered["shard_hashes"][2] = "0000000000000000".into();
    let bad = dir.join("tampered.session");
    std::fs::write(&bad, serde_json::to_string(&tampered).unwrap() + "\n").unwrap();
    let replay =
        Command::new(env!("CARGO_BIN_EXE_storetwin")).current_dir(root()).arg("replay").arg(&bad).output().unwrap();
    assert!(!replay.status.success());
    let err = String::from_utf8_lossy(&replay.stderr);
    assert!(err.contains("DIFFERS") && err.contains(&format!("first in {second}")), "{err}");
}

#[test]
fn a_served_chain_refuses_one_stores_mqtt_level_and_until_takes_seconds() {
    let serve = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_storetwin"))
            .current_dir(root())
            .arg("serve")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("storetwin runs")
    };
    let refused = serve(&[
        "scenarios/flash-3-stores-atomic.toml",
        "--mqtt",
        "mqtt://127.0.0.1:9",
        "--mqtt-store",
        "old-town",
        "--listen",
        &format!("127.0.0.1:{}", free_port()),
    ]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--mqtt-store \"old-town\"") && stderr.contains("each store's readings"), "{stderr}");

    // --until to the second: the session ends at 08:00:30 and says so in its log.
    let dir = std::env::temp_dir().join(format!("storetwin-until-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let log = dir.join("chain.log");
    let port = free_port();
    let _server =
        serve_in_background("scenarios/chain-3-stores.toml", &["--speed", "1000", "--until", "08:00:30"], port, &log);
    // The session ends at 08:00:30; the server stays up to serve its last state.
    wait_for(Duration::from_secs(60), "the session to end", || http(port, "GET", "/v1/health", "").1.contains("ended"));
    let (_, health) = http(port, "GET", "/v1/health", "");
    assert!(health.contains(r#""clock":"08:00:30""#), "{health}");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&log).expect("the log")).expect("JSON");
    assert_eq!(record["end_ns"], 30_000_000_000u64, "{record}");
    let bad = serve(&["scenarios/chain-3-stores.toml", "--until", "8:61"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("expected a store clock time HH:MM or HH:MM:SS"));
    let _ = std::fs::remove_dir_all(&dir);
}
