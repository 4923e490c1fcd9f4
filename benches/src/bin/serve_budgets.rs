//! The live server's budgets, measured against the real server on loopback:
//! - `stream`: N WebSocket clients at R Hz on the weekday store at 60x; each frame's
//!   delivery time (received minus the server's publish stamp, same clock), p50/p99/max;
//! - `ingest`: HTTP batches of door-counter readings from C client threads; readings/s;
//! - `whatif`: on ops-lunch at 12:00, opening L7 and L8 for 30 minutes with 20 replications;
//!   wall time of the request.
//!
//! `cargo run --release -p storetwin-benches --bin serve-budgets -- [stream|ingest|whatif|all]`

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use storetwin_engine::SimTime;
use storetwin_server::{Options, Running};

fn scenario(file: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios")).join(file)
}

fn server(name: &str, file: &str, speed: f64, paused: bool) -> Running {
    let dir = std::env::temp_dir().join(format!("storetwin-bench-{name}-{}", std::process::id()));
    let mut o = Options::new(scenario(file), dir.join("session.log"));
    o.listen = "127.0.0.1:0".parse().unwrap();
    o.speed = speed;
    o.paused = paused;
    storetwin_server::start(o).expect("the server starts")
}

fn post(addr: SocketAddr, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    write!(s, "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, out.split_once("\r\n\r\n").map_or(String::new(), |(_, b)| b.to_owned()))
}

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros() as u64
}

fn stream(clients: usize, hz: u32, secs: u64) {
    let server = server("stream", "weekday.toml", 60.0, false);
    let addr = server.addr;
    let until = Instant::now() + Duration::from_secs(secs + 2);
    let measure_from = Instant::now() + Duration::from_secs(2);
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            std::thread::spawn(move || {
                let (mut ws, _) = tungstenite::connect(format!("ws://{addr}/v1/stream?hz={hz}")).expect("connect");
                if let tungstenite::stream::MaybeTlsStream::Plain(s) = ws.get_ref() {
                    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                }
                let mut lat = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
                let mut frames = 0u64;
                while Instant::now() < until {
                    let Ok(msg) = ws.read() else { break };
                    if let tungstenite::Message::Text(t) = msg {
                        let got = now_us();
                        if Instant::now() < measure_from {
                            continue;
                        }
                        let at = t.find("\"sent_us\":").expect("a stamped frame") + 10;
                        let sent: u64 = t[at..].split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap();
                        lat.saturating_record(got.saturating_sub(sent).max(1));
                        frames += 1;
                    }
                }
                let _ = ws.close(None);
                (lat, frames)
            })
        })
        .collect();
    let mut all = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    let mut frames = Vec::new();
    for t in threads {
        let (h, n) = t.join().unwrap();
        all.add(&h).unwrap();
        frames.push(n);
    }
    frames.sort_unstable();
    let lag = server.session.frame().wire.status.max_lag_s;
    println!(
        "stream: {clients} clients x {hz} Hz for {secs} s, weekday at 60x: {} frames; delivery p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; frames per client min {} median {} (expected {}); sim max lag {lag:.3} s",
        all.len(),
        all.value_at_quantile(0.5) as f64 / 1000.0,
        all.value_at_quantile(0.99) as f64 / 1000.0,
        all.max() as f64 / 1000.0,
        frames[0],
        frames[frames.len() / 2],
        u64::from(hz) * secs
    );
    server.stop().unwrap();
}

fn ingest(threads: usize, secs: u64, batch: usize) {
    let server = server("ingest", "weekday.toml", 60.0, false);
    let addr = server.addr;
    let until = Instant::now() + Duration::from_secs(secs);
    let workers: Vec<_> = (0..threads)
        .map(|w| {
            std::thread::spawn(move || {
                let device = format!("door-{}", w % 2 + 1);
                let mut count = 0u64;
                let mut taken = 0u64;
                let mut refused = 0u64;
                while Instant::now() < until {
                    let readings: Vec<String> = (0..batch)
                        .map(|_| {
                            count += 1;
                            format!(r#"{{"type":"door_count","device":"{device}","in":{count}}}"#)
                        })
                        .collect();
                    let body = format!(r#"{{"readings":[{}]}}"#, readings.join(","));
                    match post(addr, "/v1/readings", &body) {
                        (202, _) => taken += batch as u64,
                        (status, b) => {
                            refused += batch as u64;
                            if status != 503 {
                                panic!("{status}: {b}");
                            }
                        }
                    }
                }
                (taken, refused)
            })
        })
        .collect();
    let start = Instant::now();
    let (mut taken, mut refused) = (0, 0);
    for w in workers {
        let (t, r) = w.join().unwrap();
        taken += t;
        refused += r;
    }
    let wall = start.elapsed().as_secs_f64().max(secs as f64);
    println!(
        "ingest: {threads} client threads, batches of {batch} door counts over HTTP for {secs} s: {taken} readings taken ({:.0}/s), {refused} refused as busy",
        taken as f64 / wall
    );
    server.stop().unwrap();
}

fn whatif(runs: usize) {
    let server = server("whatif", "ops-lunch.toml", 50_000.0, false);
    let addr = server.addr;
    let noon = SimTime::from_secs(4 * 3600);
    let t = Instant::now();
    while server.session.now() < noon {
        assert!(t.elapsed() < Duration::from_secs(120), "the session did not reach 12:00");
        std::thread::sleep(Duration::from_millis(1));
    }
    post(addr, "/v1/control", r#"{"pause": true}"#);
    let body = r#"{"interventions": [{"action": "open_lane", "lane": "L7"}, {"action": "open_lane", "lane": "L8"}], "horizon": "30min", "replications": 20}"#;
    let mut times = Vec::new();
    let mut last = String::new();
    for _ in 0..runs {
        let t = Instant::now();
        let (status, answer) = post(addr, "/v1/forecast", body);
        assert_eq!(status, 200, "{answer}");
        times.push(t.elapsed().as_secs_f64());
        last = answer;
    }
    times.sort_by(f64::total_cmp);
    let v: serde_json::Value = serde_json::from_str(&last).unwrap();
    let wait = &v["kpis"][0];
    println!(
        "whatif: open L7 and L8 at {} for 30 min, 20 replications x 2 arms: request wall time median {:.3} s (min {:.3}, max {:.3}, {runs} runs); mean wait {:.1} s as is, difference {:+.1} s [{:+.1}, {:+.1}]",
        v["from"].as_str().unwrap(),
        times[runs / 2],
        times[0],
        times[runs - 1],
        wait["as_is"]["mean"].as_f64().unwrap(),
        wait["difference"]["mean"].as_f64().unwrap(),
        wait["difference"]["low"].as_f64().unwrap(),
        wait["difference"]["high"].as_f64().unwrap(),
    );
    server.stop().unwrap();
}

fn main() {
    let what = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    if what == "stream" || what == "all" {
        stream(200, 10, 10);
    }
    if what == "ingest" || what == "all" {
        ingest(2, 5, 1000);
    }
    if what == "whatif" || what == "all" {
        whatif(5);
    }
}
