//! The twin as a client of a live server (`storetwin-twin --connect ws://HOST:PORT`): the
//! same window, fed by the server's stream instead of a session of its own.
//!
//! [`Remote::connect`] reads the server's floor (`GET /v1/floor`), loads the same scenario
//! file (the one the server names, or the one given) and refuses it if its hash differs,
//! then gives the window what a local session gives it: a receiver of [`Frame`]s (each
//! stream frame turned back into the snapshot it was made from, [`WireFrame::to_frame`])
//! and [`Controls`], whose inputs a thread of its own turns into the server's REST calls
//! (an intervention into `POST /v1/interventions` in the scenario's names, pace and pause
//! into `POST /v1/control`). The server records and applies them; nothing is simulated here.
//!
//! A served chain: the twin loads the whole chain file, and its controls are a chain's
//! ([`Controls::chain`]): the store picker's choice makes the stream's reader open that
//! store's stream instead (between frames, or within a quarter of a second), and each
//! intervention names the store it was made at.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context as _, bail};
use crossbeam_channel::{Receiver, RecvTimeoutError};
use storetwin_actors::StoreMsg;
use storetwin_actors::chain::live::ChainMsg;
use storetwin_actors::store::live::{Controls, Frame, Intervention};
use storetwin_actors::store::spec::WorldSpec;
use storetwin_actors::store::wire::{WIRE_VERSION, WireFloor, WireFrame};
use storetwin_actors::store::world::{Layout, StoreWorld};
use storetwin_engine::{LiveInput, Seed};
use storetwin_scenarios::Scenario;

/// A connection to a live server.
pub struct Remote {
    pub scenario: Scenario,
    pub seed: Seed,
    pub floor: WireFloor,
    pub controls: Controls,
    pub frames: Receiver<Frame>,
    /// `host:port` of the server.
    pub server: String,
    pub stats: Arc<Stats>,
    /// The session's pace and pause when the twin connected.
    pub speed: f64,
    pub paused: bool,
    /// A served chain: every store (the window's store picker switches the stream to
    /// another store of the server's).
    pub chain: Option<crate::app::ChainInfo>,
    /// The thread turning controls into REST calls (the stream's reader ends with the
    /// connection, on its own).
    sender: Option<JoinHandle<()>>,
}

/// What the connection did, for the closing summary.
#[derive(Debug, Default)]
pub struct Stats {
    pub frames: AtomicU64,
    /// Frames the window had not taken yet when a newer one came (dropped, as locally).
    pub skipped: AtomicU64,
    pub sent: AtomicU64,
    pub refused: AtomicU64,
    pub last_clock: std::sync::Mutex<String>,
    pub last_error: std::sync::Mutex<Option<String>>,
}

/// `host:port` of a `ws://HOST:PORT[/...]` (or `http://`) address.
pub fn server_of(url: &str) -> anyhow::Result<String> {
    let rest = url
        .strip_prefix("ws://")
        .or_else(|| url.strip_prefix("http://"))
        .with_context(|| format!("--connect {url:?}: expected ws://HOST:PORT (wss is not supported)"))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || !host.contains(':') {
        bail!("--connect {url:?}: expected ws://HOST:PORT, e.g. ws://127.0.0.1:8080");
    }
    Ok(host.to_owned())
}

/// One HTTP/1.1 request to the server: the status and body.
fn http(server: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> anyhow::Result<(u16, String)> {
    let mut stream = TcpStream::connect(server).with_context(|| format!("cannot reach the server at {server}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let mut out = String::new();
        let mut rest = rest;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 || after.len() < n {
                break;
            }
            out.push_str(&after[..n]);
            rest = after[n..].trim_start_matches("\r\n");
        }
        out
    } else {
        rest.to_owned()
    };
    Ok((status, body))
}

/// The server's refusal in words (its JSON `error`, or the status).
fn refusal(status: u16, body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .map_or_else(|| format!("HTTP {status}"), |e| format!("HTTP {status}: {e}"))
}

/// An intervention as the server's API takes it, in the scenario's names.
pub fn action_json(what: Intervention, spec: &WorldSpec) -> serde_json::Value {
    let store = &spec.store;
    let lane = |i: u16| store.lanes.get(usize::from(i)).map_or_else(String::new, |l| l.name.clone());
    let device = |i: u16| store.devices.get(usize::from(i)).map_or_else(String::new, |d| d.name.clone());
    match what {
        Intervention::SetLaneOpen { lane: l, open } => {
            serde_json::json!({"action": if open { "open_lane" } else { "close_lane" }, "lane": lane(l)})
        }
        Intervention::SetPrice { sku, cents } => serde_json::json!({
            "action": "set_price",
            "sku": store.catalogue.get(sku as usize).map_or_else(String::new, |s| s.name.clone()),
            "price": cents as f64 / 100.0,
        }),
        Intervention::SetDeviceUp { device: d, up } => {
            serde_json::json!({"action": if up { "device_online" } else { "device_offline" }, "device": device(d)})
        }
    }
}

impl Remote {
    /// Connects to the server at `url` with `token`; `scenario` overrides the file the
    /// server names (it must be the same scenario).
    pub fn connect(url: &str, token: Option<&str>, scenario: Option<&Path>) -> anyhow::Result<Remote> {
        Remote::connect_store(url, token, scenario, None)
    }

    /// [`Remote::connect`] to store `store` of a served chain (the server's first store
    /// when `None`); `scenario` overrides the chain file the server names.
    pub fn connect_store(
        url: &str,
        token: Option<&str>,
        scenario: Option<&Path>,
        store: Option<&str>,
    ) -> anyhow::Result<Remote> {
        let server = server_of(url)?;
        let query = store.map_or_else(String::new, |s| format!("?store={}", encode(s)));
        let (status, body) = http(&server, "GET", &format!("/v1/floor{query}"), token, "")?;
        if status != 200 {
            bail!("{server}: GET /v1/floor: {}", refusal(status, &body));
        }
        let floor: WireFloor = serde_json::from_str(&body).context("the server's floor is not the twin's JSON")?;
        if floor.version != WIRE_VERSION {
            bail!("{server}: the server speaks stream version {}, this twin version {WIRE_VERSION}", floor.version);
        }
        let path = scenario.map_or_else(|| Path::new(&floor.scenario).to_path_buf(), Path::to_path_buf);
        let chain = storetwin_scenarios::file_kind(&path).ok() == Some(storetwin_scenarios::FileKind::Chain);
        if store.is_some() && !chain {
            bail!("--store picks a store of a served chain; {server} serves one store ({})", floor.store);
        }
        let loaded = if chain { chain_store(&path, &floor.store) } else { crate::session::load_scenario(&path) };
        let loaded = loaded.with_context(|| {
            format!(
                "the server runs {}; the twin needs the same scenario file here (give it as the scenario)",
                floor.scenario
            )
        })?;
        if loaded.hash != floor.scenario_hash {
            bail!(
                "{}: hash {}, but the server's scenario {} has hash {}: not the same scenario",
                path.display(),
                loaded.hash,
                floor.scenario,
                floor.scenario_hash
            );
        }
        let (status, body) = http(&server, "GET", &format!("/v1/kpis{query}"), token, "")?;
        if status != 200 {
            bail!("{server}: GET /v1/kpis: {}", refusal(status, &body));
        }
        let kpis: serde_json::Value = serde_json::from_str(&body).context("the server's KPIs are not JSON")?;
        let speed = kpis["status"]["speed"].as_f64().unwrap_or(60.0);
        let paused = kpis["status"]["paused"].as_bool().unwrap_or(false);
        let seed = Seed(floor.seed);
        let stats = Arc::new(Stats::default());
        let (frames_tx, frames) = crossbeam_channel::bounded(4);
        // The stores the twin may show: the chain's (each with its plan's size, for the
        // frames, and its layout, for the controls), or the one store.
        let stores: Vec<WorldSpec> = if chain {
            crate::session::load_chain(&path)?.1.stores.into_iter().map(|s| s.world).collect()
        } else {
            vec![loaded.world.clone()]
        };
        let shown = stores.iter().position(|s| s.store.name == floor.store).unwrap_or(0);
        let layouts: Vec<Layout> = stores.iter().map(|w| StoreWorld::build(w.clone(), seed).layout).collect();
        let (controls, inputs, shown_now) = if chain {
            let (controls, inputs) = Controls::chain(layouts.clone(), shown);
            let shown_now = Arc::clone(&inputs.shown);
            (controls, Inputs::Chain(inputs.inputs), Some(shown_now))
        } else {
            let (controls, inputs) = Controls::new(layouts[0]);
            (controls, Inputs::Store(inputs), None)
        };
        let names: Vec<String> = stores.iter().map(|w| w.store.name.clone()).collect();
        let stream = Stream { server: server.clone(), token: token.map(str::to_owned), names: names.clone() };
        let store_of = |i: usize| chain.then(|| names[i].clone());
        let mut ws = stream.open(store_of(shown).as_deref())?;
        let reader_stats = stats.clone();
        let cells: Vec<usize> =
            stores.iter().map(|w| usize::from(w.store.floor.width) * usize::from(w.store.floor.height)).collect();
        std::thread::Builder::new().name("storetwin-stream".into()).spawn(move || {
            let mut current = shown;
            loop {
                // The picker chose another store: its stream instead.
                if let Some(now) = shown_now.as_ref().map(|s| s.load(Ordering::Relaxed))
                    && now != current
                    && now < cells.len()
                {
                    let _ = ws.close(None);
                    match stream.open(Some(&stream.names[now])) {
                        Ok(next) => {
                            ws = next;
                            current = now;
                        }
                        Err(e) => {
                            *reader_stats.last_error.lock().unwrap() = Some(format!("{e:#}"));
                            break;
                        }
                    }
                }
                let text = match ws.read() {
                    Ok(tungstenite::Message::Text(t)) => t,
                    Ok(tungstenite::Message::Close(_)) => break,
                    Ok(_) => continue,
                    // The read timeout: time to look at the picker again.
                    Err(tungstenite::Error::Io(e))
                        if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
                    {
                        continue;
                    }
                    Err(_) => break,
                };
                let Ok(wire) = serde_json::from_str::<WireFrame>(&text) else {
                    *reader_stats.last_error.lock().unwrap() = Some("a frame that is not the twin's JSON".into());
                    continue;
                };
                if wire.version != WIRE_VERSION {
                    *reader_stats.last_error.lock().unwrap() = Some(format!("a frame of version {}", wire.version));
                    break;
                }
                reader_stats.frames.fetch_add(1, Ordering::Relaxed);
                *reader_stats.last_clock.lock().unwrap() = wire.clock.clone();
                let frame = wire.to_frame(cells[current]);
                if frame.status.done {
                    // The last frame is not dropped: wait a while for the window to take it.
                    let _ = frames_tx.send_timeout(frame, Duration::from_secs(5));
                } else {
                    match frames_tx.try_send(frame) {
                        Ok(()) => {}
                        Err(crossbeam_channel::TrySendError::Full(_)) => {
                            reader_stats.skipped.fetch_add(1, Ordering::Relaxed);
                        }
                        // The window has closed.
                        Err(crossbeam_channel::TrySendError::Disconnected(_)) => break,
                    }
                }
            }
            let _ = ws.close(None);
        })?;
        let sender_stats = stats.clone();
        let (to, token) = (server.clone(), token.map(str::to_owned));
        let targets = Targets { specs: stores.clone(), layouts, names: chain.then_some(names) };
        let sender = std::thread::Builder::new()
            .name("storetwin-controls".into())
            .spawn(move || forward(&inputs, &to, token.as_deref(), &targets, &sender_stats))?;
        let chain_info = if chain {
            let (_, spec, _) = crate::session::load_chain(&path)?;
            Some(crate::app::ChainInfo {
                name: spec.name.clone(),
                stores,
                sale: spec.flash.as_ref().map(|f| (f.name.clone(), f.sku.0)),
            })
        } else {
            None
        };
        Ok(Remote {
            scenario: loaded,
            seed,
            floor,
            controls,
            frames,
            server,
            stats,
            speed,
            paused,
            chain: chain_info,
            sender: Some(sender),
        })
    }

    /// Ends the connection (the window has closed).
    pub fn finish(mut self) {
        self.controls.stop();
        drop(self.frames);
        if let Some(t) = self.sender.take() {
            let _ = t.join();
        }
    }
}

/// Store `name` of the chain (or load) file at `path`, as a scenario: the chain's path and
/// hash (what a served chain's floor names), the store's spec, the chain's seed.
fn chain_store(path: &Path, name: &str) -> anyhow::Result<storetwin_scenarios::Scenario> {
    let (chain, spec, seed) = crate::session::load_chain(path)?;
    let store = spec.stores.iter().find(|s| s.name == name).with_context(|| {
        format!("{}: the chain has no store {name:?} (the server serves a changed file?)", path.display())
    })?;
    Ok(storetwin_scenarios::Scenario {
        path: chain.path.clone(),
        files: vec![chain.path.clone()],
        hash: chain.hash.clone(),
        seed,
        replications: 1,
        world: store.world.clone(),
        defaults: Vec::new(),
    })
}

/// `s` for a URL's query: letters, digits and `-_.~` as they are, the rest %-escaped.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The window's inputs: one store's, or a chain's (each addressed to a store).
enum Inputs {
    Store(Receiver<LiveInput<StoreMsg>>),
    Chain(Receiver<LiveInput<ChainMsg>>),
}

/// What the controls act on: each store's spec and layout, and (a chain) its name, which
/// the server's API takes.
struct Targets {
    specs: Vec<WorldSpec>,
    layouts: Vec<Layout>,
    names: Option<Vec<String>>,
}

/// Opens the stream of a store (of a served chain, by name) at 30 Hz with the heat map.
struct Stream {
    server: String,
    token: Option<String>,
    names: Vec<String>,
}

impl Stream {
    fn open(
        &self,
        store: Option<&str>,
    ) -> anyhow::Result<tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>> {
        let server = &self.server;
        let query = store.map_or_else(String::new, |s| format!("&store={}", encode(s)));
        let mut request = tungstenite::client::IntoClientRequest::into_client_request(format!(
            "ws://{server}/v1/stream?hz=30&heat=1{query}"
        ))?;
        request.headers_mut().insert("Sec-WebSocket-Protocol", "storetwin.v1".parse()?);
        if let Some(t) = &self.token {
            request.headers_mut().insert("Authorization", format!("Bearer {t}").parse()?);
        }
        let (ws, _) = tungstenite::connect(request).map_err(|e| match e {
            tungstenite::Error::Http(r) => anyhow::anyhow!("{server}: the stream refused: HTTP {}", r.status()),
            e => anyhow::anyhow!("{server}: cannot open the stream: {e}"),
        })?;
        // A chain's reader looks at the store picker between frames, or this often.
        if let tungstenite::stream::MaybeTlsStream::Plain(tcp) = ws.get_ref() {
            tcp.set_read_timeout(Some(Duration::from_millis(250)))?;
        }
        Ok(ws)
    }
}

/// Turns the window's inputs into the server's REST calls until the window stops.
fn forward(inputs: &Inputs, server: &str, token: Option<&str>, targets: &Targets, stats: &Stats) {
    loop {
        let input = match inputs {
            Inputs::Store(rx) => rx.recv_timeout(Duration::from_millis(200)).map(|i| addressed(i, 0, |m| m)),
            Inputs::Chain(rx) => rx.recv_timeout(Duration::from_millis(200)).map(|i| match i {
                LiveInput::Inject { to, msg } => (usize::from(msg.store), LiveInput::Inject { to, msg: msg.msg }),
                other => addressed(other, 0, |m| m.msg),
            }),
        };
        let (store, input) = match input {
            Ok(i) => i,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let (path, body) = match input {
            LiveInput::Inject { to, msg } => {
                let (Some(spec), Some(layout)) = (targets.specs.get(store), targets.layouts.get(store)) else {
                    continue;
                };
                match Intervention::from_injection(to, &msg, *layout) {
                    Some(what) => {
                        let mut body = serde_json::json!({"interventions": [action_json(what, spec)]});
                        if let Some(name) = targets.names.as_ref().and_then(|n| n.get(store)) {
                            body["store"] = name.as_str().into();
                        }
                        ("/v1/interventions", body)
                    }
                    None => continue,
                }
            }
            LiveInput::SetSpeed(x) => ("/v1/control", serde_json::json!({"speed": x})),
            LiveInput::Pause => ("/v1/control", serde_json::json!({"pause": true})),
            LiveInput::Resume => ("/v1/control", serde_json::json!({"pause": false})),
            LiveInput::Stop => return,
        };
        match http(server, "POST", path, token, &body.to_string()) {
            Ok((status, _)) if (200..300).contains(&status) => {
                stats.sent.fetch_add(1, Ordering::Relaxed);
            }
            Ok((status, answer)) => {
                stats.refused.fetch_add(1, Ordering::Relaxed);
                let e = refusal(status, &answer);
                eprintln!("warning: the server refused {path}: {e}");
                *stats.last_error.lock().unwrap() = Some(e);
            }
            Err(e) => {
                stats.refused.fetch_add(1, Ordering::Relaxed);
                *stats.last_error.lock().unwrap() = Some(format!("{e:#}"));
            }
        }
    }
}

/// A control input (not an injection) with its store: the message type changes, nothing
/// else does.
fn addressed<M, N>(input: LiveInput<M>, store: usize, map: impl FnOnce(M) -> N) -> (usize, LiveInput<N>) {
    let input = match input {
        LiveInput::Inject { to, msg } => LiveInput::Inject { to, msg: map(msg) },
        LiveInput::SetSpeed(x) => LiveInput::SetSpeed(x),
        LiveInput::Pause => LiveInput::Pause,
        LiveInput::Resume => LiveInput::Resume,
        LiveInput::Stop => LiveInput::Stop,
    };
    (store, input)
}
