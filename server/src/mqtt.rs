//! Sensor readings over MQTT: the store's devices publish to a broker, the server
//! subscribes and hands what arrives to the control plane as one more transport of
//! [`crate::ingest`] (the same checks, the same `Cmd::Readings` as `POST /v1/readings`).
//!
//! The broker is any MQTT 3.1.1 broker reached by URL ([`client`], rumqttc), or, with the
//! cargo feature `mqtt-broker`, one inside the server ([`broker`], rumqttd), read through
//! its in-process link.
//!
//! # Topics
//!
//! `<prefix>/<store>/<device>/<type>`, close to Homie's `homie/<device>/<node>/<property>`
//! and Sparkplug's group/edge-node/device levels:
//! - `<prefix>` is `storetwin` unless `--mqtt-topic` says otherwise (it may have levels of
//!   its own: `acme/stores`).
//! - `<store>` is the scenario's store name as a slug (`Riverside` → `riverside`,
//!   `North Park 2` → `north-park-2`), or what `--mqtt-store` says; `--mqtt-store +` takes
//!   readings published under any store name.
//! - `<device>` is the device's name in the scenario, as it is (`door`, `smart-dairy-1`);
//!   for a `pos_sale` it is the lane's name (`L3`).
//! - `<type>` is the reading's type: `door_count`, `shelf_weight`, `heartbeat`, `fault`,
//!   `pos_sale` or `esl_ack`.
//!
//! A device level starting with `$` belongs to the server (`$twin`) and is never read as a
//! reading. A device whose name holds `/`, `+` or `#` cannot be named in a topic.
//!
//! # Payload
//!
//! The reading as JSON ([`crate::ingest`] lists the fields) without `type` and `device`,
//! which come from the topic: `{"in": 1234, "ts": "12:03:04"}` on
//! `storetwin/riverside/door/door_count`. If the payload does give `type`, `device` (or
//! for a sale `lane`) they must agree with the topic, or the message is refused. A JSON
//! array of such readings is a batch from one device: `[{"in": 10}, {"in": 12}]`. A
//! message is taken whole or not at all, like an HTTP batch. An empty payload (what clears
//! a retained message) is ignored. A retained reading is read like any other when the
//! server subscribes; its `ts`, if it has one, decides whether it is too old.
//!
//! ```text
//! mosquitto_pub -t storetwin/riverside/smart-dairy-1/shelf_weight -m '{"sku": "Milk 1 l", "grams": 5230}'
//! ```
//!
//! # What becomes of a message
//!
//! The connection's task reads every message at once (the client's event loop must never
//! wait) into a queue bounded in messages and bytes; past either bound a message is dropped
//! and counted. A batcher takes what arrived together (up to [`Settings::batch_max`]
//! readings, or [`Settings::batch_wait`] after the first) and sends it as one command to the
//! control-plane actor, waiting for room in its mailbox (backpressure, never an unbounded
//! queue). A malformed payload, a disagreement with the topic and a refused reading are
//! counted in `storetwin_ingest_rejected_total{via="mqtt"}` (reasons `malformed`,
//! `topic_mismatch`, `overloaded`, `batch_too_large` here, and the ingest's own) and logged
//! at debug level; the other messages of the batch are still taken.
//!
//! # The twin's state
//!
//! Every few seconds the server publishes a summary of the twin, retained, to
//! `<prefix>/<store>/$twin/state`: `{"online": true, "clock": "12:03:04", "footfall": ..,
//! "inside": .., "waiting": .., "lanes_open": .., ...}`, so a dashboard on the broker shows
//! it; `{"online": false}` when the server stops (and, with an external broker, as the
//! connection's last will).

pub mod client;

#[cfg(feature = "mqtt-broker")]
pub mod broker;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::ops::Range;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix::Addr;
use anyhow::bail;
use bytes::Bytes;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::control::{Cmd, ControlPlane, Done};
use crate::ingest::{MAX_BATCH, RawReading, Transport};
use crate::session::Session;
use crate::telemetry;

/// The default first level of the topics.
pub const DEFAULT_PREFIX: &str = "storetwin";
/// The largest payload taken (as `POST /v1/readings` takes the largest body).
pub const MAX_PAYLOAD: usize = crate::api::MAX_BODY;
/// The password of an external broker's user, when the URL gives a user but no password.
pub const PASSWORD_ENV: &str = "STORETWIN_MQTT_PASSWORD";
/// Most messages waiting for the batcher.
const QUEUE_MESSAGES: usize = 4096;
/// Most payload bytes waiting for the batcher.
const QUEUE_BYTES: usize = 64 << 20;

/// Where readings come from.
#[derive(Clone, Debug)]
pub enum Broker {
    /// Any MQTT 3.1.1 broker, by URL.
    External(BrokerUrl),
    /// A broker inside the server listening on this address (cargo feature `mqtt-broker`).
    Embedded(SocketAddr),
}

/// How to take readings over MQTT.
#[derive(Clone, Debug)]
pub struct Settings {
    pub broker: Broker,
    /// The topics' first level(s).
    pub prefix: String,
    /// The topics' store level: `None` is the scenario's store name as a slug, `"+"` any.
    pub store: Option<String>,
    /// Wall time between two publications of the twin's state (`None`: not published).
    pub state_every: Option<Duration>,
    /// A batch goes to the control plane once it holds this many readings...
    pub batch_max: usize,
    /// ... or this long after its first message arrived.
    pub batch_wait: Duration,
}

impl Settings {
    pub fn new(broker: Broker) -> Settings {
        Settings {
            broker,
            prefix: DEFAULT_PREFIX.into(),
            store: None,
            state_every: Some(Duration::from_secs(5)),
            batch_max: 1000,
            batch_wait: Duration::from_millis(20),
        }
    }

    /// The topics for a store named `store_name`, once the settings are checked.
    pub fn topics(&self, store_name: &str) -> anyhow::Result<Topics> {
        let prefix = self.prefix.trim_end_matches('/');
        if prefix.is_empty() || prefix.split('/').any(|l| !is_level(l) || l.starts_with('$')) {
            bail!(
                "--mqtt-topic {:?}: expected topic levels without wildcards, like `storetwin` or `acme/stores` \
                 (no `+`, `#`, empty level, or level starting with `$`)",
                self.prefix
            );
        }
        let own = slug(store_name);
        let store = match self.store.as_deref() {
            None => own.clone(),
            Some("+") => "+".to_owned(),
            Some(s) if is_level(s) && !s.starts_with('$') => s.to_owned(),
            Some(s) => {
                bail!("--mqtt-store {s:?}: expected one topic level (no `/`, `#` or leading `$`), or `+` for any store")
            }
        };
        let state_store = if store == "+" { own } else { store.clone() };
        Ok(Topics { prefix: prefix.to_owned(), store, state_store })
    }
}

fn is_level(l: &str) -> bool {
    !l.is_empty() && !l.contains(['/', '+', '#', '\0'])
}

/// A store's name as a topic level: lower case, letters and digits, words joined by `-`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() { "store".to_owned() } else { out.to_owned() }
}

/// The topics of one server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topics {
    prefix: String,
    /// The store level subscribed to (`+` for any).
    store: String,
    /// The store level the state is published under.
    state_store: String,
}

/// What a topic is, to the server.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed<'a> {
    Reading {
        /// The store level (a served chain's stores are told apart by it).
        store: &'a str,
        device: &'a str,
        kind: &'a str,
    },
    /// Under a `$` device level: the server's own (its state).
    Own,
    /// Not a topic of this server's.
    Foreign,
}

impl Topics {
    /// The subscription: `storetwin/riverside/+/+`.
    pub fn filter(&self) -> String {
        format!("{}/{}/+/+", self.prefix, self.store)
    }

    /// Where the twin's state is published: `storetwin/riverside/$twin/state`.
    pub fn state(&self) -> String {
        format!("{}/{}/$twin/state", self.prefix, self.state_store)
    }

    pub fn parse<'a>(&self, topic: &'a str) -> Parsed<'a> {
        let Some(rest) = topic.strip_prefix(self.prefix.as_str()).and_then(|r| r.strip_prefix('/')) else {
            return Parsed::Foreign;
        };
        let mut levels = rest.split('/');
        match (levels.next(), levels.next(), levels.next(), levels.next()) {
            (Some(store), Some(device), Some(kind), None) if self.store == "+" || store == self.store => {
                if device.starts_with('$') { Parsed::Own } else { Parsed::Reading { store, device, kind } }
            }
            _ => Parsed::Foreign,
        }
    }
}

/// Why a message was refused before its readings were checked.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// Not JSON, not readings, or a field the readings do not have.
    Malformed(String),
    /// The payload's `type`, `device` or `lane` is not the topic's.
    Mismatch(String),
    /// More readings than one batch may hold.
    TooLarge(usize),
}

impl Refusal {
    fn reason(&self) -> &'static str {
        match self {
            Refusal::Malformed(_) => "malformed",
            Refusal::Mismatch(_) => "topic_mismatch",
            Refusal::TooLarge(_) => "batch_too_large",
        }
    }

    fn count(&self) -> u64 {
        match self {
            Refusal::TooLarge(n) => *n as u64,
            _ => 1,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Malformed(m) | Refusal::Mismatch(m) => f.write_str(m),
            Refusal::TooLarge(n) => write!(f, "{n} readings in one message; at most {MAX_BATCH}"),
        }
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The readings of one message published on a reading topic of `device` and `kind`.
pub fn decode(device: &str, kind: &str, payload: &[u8]) -> Result<Vec<RawReading>, Refusal> {
    if payload.is_empty() {
        return Ok(Vec::new());
    }
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| Refusal::Malformed(format!("not JSON (line {}, column {}): {e}", e.line(), e.column())))?;
    let (objects, batch) = match value {
        Value::Object(o) => (vec![o], false),
        Value::Array(items) => {
            if items.len() > MAX_BATCH {
                return Err(Refusal::TooLarge(items.len()));
            }
            let objects = items
                .into_iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Object(o) => Ok(o),
                    other => Err(Refusal::Malformed(format!(
                        "[{i}]: expected a reading (an object), got {}",
                        json_kind(&other)
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            (objects, true)
        }
        other => {
            return Err(Refusal::Malformed(format!(
                "expected a reading (a JSON object) or an array of readings, got {}",
                json_kind(&other)
            )));
        }
    };
    let sale = kind == "pos_sale";
    objects
        .into_iter()
        .enumerate()
        .map(|(i, mut o)| {
            let at = |field: &str| if batch { format!("[{i}].{field}") } else { field.to_owned() };
            let agree = |o: &Map<String, Value>, field: &str, topic_has: &str| match o.get(field) {
                None => Ok(()),
                Some(Value::String(s)) if s == topic_has => Ok(()),
                Some(v) => Err(Refusal::Mismatch(format!(
                    "{}: {v} in the payload, but the topic says {topic_has:?}",
                    at(field)
                ))),
            };
            agree(&o, "type", kind)?;
            agree(&o, "device", device)?;
            if sale {
                agree(&o, "lane", device)?;
                o.remove("device");
                o.insert("lane".into(), Value::String(device.to_owned()));
            } else {
                o.insert("device".into(), Value::String(device.to_owned()));
            }
            o.insert("type".into(), Value::String(kind.to_owned()));
            serde_json::from_value(Value::Object(o)).map_err(|e| Refusal::Malformed(format!("{}: {e}", at("reading"))))
        })
        .collect()
}

/// A message as the broker delivered it.
#[derive(Debug)]
pub struct Incoming {
    pub topic: String,
    pub payload: Bytes,
}

/// The queue from the broker connection to the batcher, bounded in messages and bytes.
#[derive(Clone)]
pub struct Inbox {
    tx: mpsc::Sender<Incoming>,
    bytes: Arc<AtomicUsize>,
}

/// What became of an offered message.
#[derive(Debug, PartialEq, Eq)]
pub enum Offered {
    Queued,
    /// Under a `$` level: not a reading.
    Ignored,
    /// The queue was full: dropped and counted.
    Dropped,
    /// The batcher has stopped.
    Closed,
}

impl Inbox {
    pub fn new() -> (Inbox, mpsc::Receiver<Incoming>, Arc<AtomicUsize>) {
        let (tx, rx) = mpsc::channel(QUEUE_MESSAGES);
        let bytes = Arc::new(AtomicUsize::new(0));
        (Inbox { tx, bytes: bytes.clone() }, rx, bytes)
    }

    /// Queues a message without waiting (the caller is a connection that must keep reading).
    pub fn offer(&self, topic: String, payload: Bytes) -> Offered {
        if topic.split('/').any(|level| level.starts_with('$')) {
            // The server's own state, which its subscription also matches.
            return Offered::Ignored;
        }
        metrics::counter!(telemetry::MQTT_MESSAGES).increment(1);
        let len = payload.len();
        if self.bytes.load(Ordering::Relaxed) + len > QUEUE_BYTES {
            return self.dropped(&topic);
        }
        self.bytes.fetch_add(len, Ordering::Relaxed);
        match self.tx.try_send(Incoming { topic, payload }) {
            Ok(()) => Offered::Queued,
            Err(e) => {
                self.bytes.fetch_sub(len, Ordering::Relaxed);
                match e {
                    mpsc::error::TrySendError::Full(m) => self.dropped(&m.topic),
                    mpsc::error::TrySendError::Closed(_) => Offered::Closed,
                }
            }
        }
    }

    fn dropped(&self, topic: &str) -> Offered {
        metrics::counter!(telemetry::REJECTED, "reason" => "overloaded", "via" => "mqtt").increment(1);
        tracing::debug!(topic, "MQTT message dropped: the ingest queue is full");
        Offered::Dropped
    }
}

/// Where the batcher hands readings: one store's control plane, or a served chain (each
/// message to the store its topic names).
pub enum Target {
    Control(Addr<ControlPlane>),
    Chain(Arc<crate::chain::ChainSession>),
}

/// Collects what arrives together and hands it to the control plane.
pub struct Batcher {
    topics: Topics,
    control: Target,
    batch_max: usize,
    batch_wait: Duration,
    readings: Vec<RawReading>,
    /// Each message of the batch: its topic and its readings' range.
    messages: Vec<(String, Range<usize>)>,
    ended_told: bool,
    /// When a batch refused for a full input queue was last reported at warn level.
    busy_told: Option<tokio::time::Instant>,
}

impl Batcher {
    pub fn new(topics: Topics, control: Target, settings: &Settings) -> Batcher {
        Batcher {
            topics,
            control,
            batch_max: settings.batch_max.clamp(1, MAX_BATCH),
            batch_wait: settings.batch_wait,
            readings: Vec::new(),
            messages: Vec::new(),
            ended_told: false,
            busy_told: None,
        }
    }

    /// Runs until the inbox closes or the control plane is gone.
    pub async fn run(mut self, mut rx: mpsc::Receiver<Incoming>, bytes: Arc<AtomicUsize>) {
        while let Some(first) = rx.recv().await {
            bytes.fetch_sub(first.payload.len(), Ordering::Relaxed);
            if !self.take(first).await {
                return;
            }
            let deadline = tokio::time::Instant::now() + self.batch_wait;
            while self.readings.len() < self.batch_max {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(m)) => {
                        bytes.fetch_sub(m.payload.len(), Ordering::Relaxed);
                        if !self.take(m).await {
                            return;
                        }
                    }
                    Ok(None) | Err(_) => break,
                }
            }
            if !self.flush().await {
                return;
            }
        }
    }

    /// Adds a message's readings to the batch (first sending the batch if they would not
    /// fit in one command); `false` once the control plane is gone.
    async fn take(&mut self, m: Incoming) -> bool {
        let (store, device, kind) = match self.topics.parse(&m.topic) {
            Parsed::Reading { store, device, kind } => (store, device, kind),
            Parsed::Own => return true,
            Parsed::Foreign => {
                tracing::debug!(topic = m.topic, "MQTT message on a topic that is not a reading's; ignored");
                return true;
            }
        };
        let list = match decode(device, kind, &m.payload) {
            Ok(list) => list,
            Err(refusal) => {
                metrics::counter!(telemetry::REJECTED, "reason" => refusal.reason(), "via" => "mqtt")
                    .increment(refusal.count());
                tracing::debug!(topic = m.topic, reason = refusal.reason(), "MQTT message refused: {refusal}");
                return true;
            }
        };
        if list.is_empty() {
            return true;
        }
        if let Target::Chain(chain) = &self.control {
            // A chain's store is the topic's: each message goes to its store's ingest.
            let Some(s) = chain.stores.iter().position(|st| slug(&st.name) == store) else {
                metrics::counter!(telemetry::REJECTED, "reason" => "unknown_store", "via" => "mqtt")
                    .increment(list.len() as u64);
                tracing::debug!(topic = m.topic, "MQTT message for a store the chain does not have; ignored");
                return true;
            };
            if let Err(e) = chain.take_readings(s, &list, Transport::Mqtt) {
                tracing::debug!(topic = m.topic, "MQTT readings not taken: {}", e.error);
            }
            return true;
        }
        if self.readings.len() + list.len() > MAX_BATCH && !self.flush().await {
            return false;
        }
        let start = self.readings.len();
        self.readings.extend(list);
        self.messages.push((m.topic, start..self.readings.len()));
        true
    }

    /// Sends the batch; `false` once the control plane is gone. The ingest takes a batch
    /// whole or refuses it whole; the messages holding a refused reading are dropped and the
    /// others sent again.
    async fn flush(&mut self) -> bool {
        let mut readings = std::mem::take(&mut self.readings);
        let mut messages = std::mem::take(&mut self.messages);
        while !readings.is_empty() {
            let n = readings.len();
            let Target::Control(control) = &self.control else { return true };
            let answer = match control.send(Cmd::Readings(readings.clone(), Transport::Mqtt)).await {
                Ok(answer) => answer,
                Err(e) => {
                    tracing::debug!("MQTT ingest stops: the control plane is gone ({e})");
                    return false;
                }
            };
            let e = match answer {
                Ok(Done::Readings(report)) => {
                    tracing::debug!(
                        readings = n,
                        messages = messages.len(),
                        injected = report.injected,
                        stale = report.stale,
                        "MQTT readings taken"
                    );
                    return true;
                }
                Ok(Done::Sent { .. }) => return true,
                Err(e) => e,
            };
            if e.rejected.is_empty() {
                // The session has ended or its input queue is full: the ingest counted them.
                if e.status == actix_web::http::StatusCode::CONFLICT {
                    if !self.ended_told {
                        tracing::info!("MQTT readings are no longer taken: {}", e.error);
                        self.ended_told = true;
                    }
                } else {
                    let now = tokio::time::Instant::now();
                    if self.busy_told.is_none_or(|at| now.duration_since(at) >= Duration::from_secs(10)) {
                        tracing::warn!(readings = n, "MQTT readings not taken: {}", e.error);
                        self.busy_told = Some(now);
                    } else {
                        tracing::debug!(readings = n, "MQTT readings not taken: {}", e.error);
                    }
                }
                return true;
            }
            let of = |index: usize| messages.partition_point(|(_, r)| r.end <= index);
            let mut bad = BTreeSet::new();
            for r in &e.rejected {
                let m = of(r.index);
                if let Some((topic, range)) = messages.get(m) {
                    tracing::debug!(
                        topic,
                        reading = r.index - range.start,
                        field = r.field,
                        "MQTT reading refused: {}",
                        r.error
                    );
                    bad.insert(m);
                }
            }
            if bad.is_empty() {
                return true;
            }
            let mut kept = Vec::with_capacity(readings.len());
            let mut kept_messages = Vec::with_capacity(messages.len() - bad.len());
            let mut all = readings.into_iter();
            for (i, (topic, range)) in messages.into_iter().enumerate() {
                let these: Vec<RawReading> = all.by_ref().take(range.len()).collect();
                if !bad.contains(&i) {
                    let start = kept.len();
                    kept.extend(these);
                    kept_messages.push((topic, start..kept.len()));
                }
            }
            readings = kept;
            messages = kept_messages;
        }
        true
    }
}

/// What the twin's state topic shows: one store's session, or a served chain.
pub trait StateSource: Send + Sync {
    fn state_json(&self, online: bool) -> String;
}

impl StateSource for Session {
    fn state_json(&self, online: bool) -> String {
        state_json(self, online)
    }
}

impl StateSource for crate::chain::ChainSession {
    fn state_json(&self, online: bool) -> String {
        if !online {
            return serde_json::json!({ "online": false }).to_string();
        }
        let first = self.stores.first().map(|s| s.latest.borrow().clone());
        let stores: Vec<&str> = self.stores.iter().map(|s| s.name.as_str()).collect();
        serde_json::json!({
            "online": true,
            "chain": self.spec.name,
            "stores": stores,
            "session": first.as_ref().map(|f| if f.wire.status.done { "ended" } else if f.wire.status.paused { "paused" } else { "running" }),
            "clock": first.as_ref().map(|f| f.wire.clock.clone()),
            "speed": first.as_ref().map(|f| f.wire.status.speed),
        })
        .to_string()
    }
}

/// The twin's state as published on the broker.
pub fn state_json(session: &Session, online: bool) -> String {
    if !online {
        return serde_json::json!({ "online": false }).to_string();
    }
    let frame = session.frame();
    let w = &frame.wire;
    serde_json::json!({
        "online": true,
        "store": session.spec.store.name,
        "session": if w.status.done { "ended" } else if w.status.paused { "paused" } else { "running" },
        "clock": w.clock,
        "sim_time_s": w.at_ns as f64 / 1e9,
        "speed": w.status.speed,
        "footfall": w.kpis.footfall,
        "inside": w.kpis.inside,
        "waiting": w.kpis.waiting,
        "sales": w.kpis.sales,
        "lanes_open": w.lanes.iter().filter(|l| l.open).count(),
        "devices_down": w.devices.iter().filter(|d| !d.up).count(),
    })
    .to_string()
}

/// An MQTT broker URL: `mqtt://[USER[:PASSWORD]@]HOST[:PORT][?client_id=ID]` (also
/// `tcp://`). The password is never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    password: Option<String>,
    pub client_id: Option<String>,
}

impl BrokerUrl {
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// Takes the password from [`PASSWORD_ENV`] when the URL names a user but no password.
    pub fn password_from_env(mut self) -> BrokerUrl {
        if self.username.is_some() && self.password.is_none() {
            self.password = std::env::var(PASSWORD_ENV).ok();
        }
        self
    }
}

impl std::fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("mqtt://")?;
        if let Some(user) = &self.username {
            write!(f, "{user}@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl std::fmt::Debug for BrokerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BrokerUrl({self}{})", if self.password.is_some() { ", with a password" } else { "" })
    }
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            out.push(hex.ok_or("a `%` not followed by two hex digits")?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "not UTF-8 once %-decoded".to_owned())
}

impl FromStr for BrokerUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<BrokerUrl, String> {
        let expected = "expected mqtt://[USER[:PASSWORD]@]HOST[:PORT]";
        let (scheme, rest) = s.split_once("://").ok_or_else(|| expected.to_owned())?;
        match scheme.to_ascii_lowercase().as_str() {
            "mqtt" | "tcp" => {}
            "mqtts" | "ssl" | "tls" | "ws" | "wss" => {
                return Err(format!(
                    "{scheme}:// is not built in (plain TCP only); use mqtt://, or a broker on this machine \
                     bridging to yours"
                ));
            }
            _ => return Err(format!("unknown scheme {scheme:?}; {expected}")),
        }
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let mut client_id = None;
        for pair in query.into_iter().flat_map(|q| q.split('&')).filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("client_id", id)) if !id.is_empty() => client_id = Some(percent_decode(id)?),
                _ => return Err(format!("unknown query {pair:?}; the only one is client_id=ID")),
            }
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') {
            return Err(format!("a broker URL has no path; {expected}"));
        }
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (username, password) = match userinfo {
            None => (None, None),
            Some(u) => match u.split_once(':') {
                Some((user, pass)) => (Some(percent_decode(user)?), Some(percent_decode(pass)?)),
                None => (Some(percent_decode(u)?), None),
            },
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| format!("an IPv6 host needs its `]`; {expected}"))?;
            (host, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(format!("no host; {expected}"));
        }
        let port = match port {
            None => 1883,
            Some(p) => {
                p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| format!("port {p:?} is not a port (1-65535)"))?
            }
        };
        Ok(BrokerUrl { host: host.to_owned(), port, username, password, client_id })
    }
}

/// The MQTT side of a running server.
pub struct Running {
    /// Where readings come from (a URL without its password, or the embedded broker's address).
    pub broker: String,
    /// The subscription.
    pub filter: String,
    /// Where the twin's state is published.
    pub state_topic: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Stops taking readings (publishing `{"online": false}` first) and waits for it.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An MQTT source ready to run once the control plane exists: for the embedded broker,
/// the broker already listens (so that a bad address fails before anything is served).
pub struct Prepared {
    settings: Settings,
    topics: Topics,
    source: Source,
}

enum Source {
    External(BrokerUrl),
    #[cfg(feature = "mqtt-broker")]
    Embedded(broker::Embedded),
}

/// Checks the settings and, for the embedded broker, starts it.
pub fn prepare(settings: &Settings, store_name: &str, tokens: &crate::auth::Tokens) -> anyhow::Result<Prepared> {
    let topics = settings.topics(store_name)?;
    let source = match &settings.broker {
        Broker::External(url) => Source::External(url.clone()),
        Broker::Embedded(addr) => embedded(*addr, tokens)?,
    };
    Ok(Prepared { settings: settings.clone(), topics, source })
}

#[cfg(feature = "mqtt-broker")]
fn embedded(addr: SocketAddr, tokens: &crate::auth::Tokens) -> anyhow::Result<Source> {
    Ok(Source::Embedded(broker::Embedded::start(addr, tokens)?))
}

#[cfg(not(feature = "mqtt-broker"))]
fn embedded(addr: SocketAddr, _tokens: &crate::auth::Tokens) -> anyhow::Result<Source> {
    bail!(
        "--mqtt-listen {addr}: this storetwin was built without the embedded MQTT broker; build it with \
         `cargo build --release -p storetwin-cli --features mqtt-broker` (for the server crate alone: \
         `cargo build -p storetwin-server --features mqtt-broker`), or run any MQTT broker (such as mosquitto) \
         and give its URL: --mqtt mqtt://HOST:PORT"
    )
}

impl Prepared {
    /// Starts the MQTT thread: the broker connection, the batcher and the state publisher.
    pub fn spawn(self, control: Addr<ControlPlane>, session: Arc<Session>) -> anyhow::Result<Running> {
        self.spawn_for(Target::Control(control), session)
    }

    /// Starts the MQTT thread for a served chain: every store's topics
    /// (`<prefix>/+/<device>/<type>`), each message to the store its level names.
    pub fn spawn_chain(mut self, chain: Arc<crate::chain::ChainSession>) -> anyhow::Result<Running> {
        self.topics.store = "+".to_owned();
        self.spawn_for(Target::Chain(Arc::clone(&chain)), chain)
    }

    fn spawn_for(self, target: Target, state: Arc<dyn StateSource>) -> anyhow::Result<Running> {
        let Prepared { settings, topics, source } = self;
        let filter = topics.filter();
        let state_topic = settings.state_every.map(|_| topics.state());
        let broker = match &source {
            Source::External(url) => url.to_string(),
            #[cfg(feature = "mqtt-broker")]
            Source::Embedded(b) => format!("mqtt://{} (embedded)", b.addr),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("storetwin-mqtt".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::error!("MQTT ingest cannot start its runtime: {e}");
                        return;
                    }
                };
                let (inbox, rx, bytes) = Inbox::new();
                let batcher = Batcher::new(topics.clone(), target, &settings);
                runtime.block_on(async move {
                    let batching = tokio::spawn(batcher.run(rx, bytes));
                    match source {
                        Source::External(url) => {
                            client::run(url, topics, settings.state_every, state, inbox, stopped).await
                        }
                        #[cfg(feature = "mqtt-broker")]
                        Source::Embedded(b) => b.run(topics, settings.state_every, state, inbox, stopped).await,
                    }
                    batching.abort();
                });
            })
            .map_err(|e| anyhow::anyhow!("cannot start the MQTT thread: {e}"))?;
        Ok(Running { broker, filter, state_topic, stop: Some(stop), thread: Some(thread) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics() -> Topics {
        Settings::new(Broker::Embedded(SocketAddr::from(([127, 0, 0, 1], 1883)))).topics("Riverside").unwrap()
    }

    #[test]
    fn store_names_become_slugs() {
        assert_eq!(slug("Riverside"), "riverside");
        assert_eq!(slug("  North Park #2 "), "north-park-2");
        assert_eq!(slug("Zürich Hbf"), "zürich-hbf");
        assert_eq!(slug("///"), "store");
    }

    #[test]
    fn topics_are_parsed_by_level() {
        let t = topics();
        assert_eq!(t.filter(), "storetwin/riverside/+/+");
        assert_eq!(t.state(), "storetwin/riverside/$twin/state");
        assert_eq!(
            t.parse("storetwin/riverside/door/door_count"),
            Parsed::Reading { store: "riverside", device: "door", kind: "door_count" }
        );
        assert_eq!(t.parse("storetwin/riverside/$twin/state"), Parsed::Own);
        assert_eq!(t.parse("storetwin/hillside/door/door_count"), Parsed::Foreign);
        assert_eq!(t.parse("storetwin/riverside/door/door_count/extra"), Parsed::Foreign);
        assert_eq!(t.parse("storetwinx/riverside/door/door_count"), Parsed::Foreign);
        let mut any = Settings::new(Broker::Embedded(SocketAddr::from(([127, 0, 0, 1], 1883))));
        any.store = Some("+".into());
        any.prefix = "acme/stores/".into();
        let any = any.topics("Riverside").unwrap();
        assert_eq!(any.filter(), "acme/stores/+/+/+");
        assert_eq!(any.state(), "acme/stores/riverside/$twin/state");
        assert_eq!(
            any.parse("acme/stores/hillside/L1/pos_sale"),
            Parsed::Reading { store: "hillside", device: "L1", kind: "pos_sale" }
        );
    }

    #[test]
    fn a_wildcard_or_empty_level_in_the_prefix_is_refused() {
        for bad in ["", "a/+/b", "a/#", "a//b", "$SYS", "a/$b"] {
            let mut s = Settings::new(Broker::Embedded(SocketAddr::from(([127, 0, 0, 1], 1883))));
            s.prefix = bad.into();
            assert!(s.topics("Riverside").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_payload_is_a_reading_or_a_batch_without_type_and_device() {
        let one = decode("door", "door_count", br#"{"in": 12, "ts": "08:00:10"}"#).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(
            (one[0].kind.as_str(), one[0].device.as_deref(), one[0].count_in),
            ("door_count", Some("door"), Some(12))
        );
        let batch = decode("door", "heartbeat", b"[{}, {\"type\": \"heartbeat\", \"device\": \"door\"}]").unwrap();
        assert_eq!(batch.len(), 2);
        let sale = decode("L3", "pos_sale", br#"{"txn": "T-1", "total": 12.34, "items": 3}"#).unwrap();
        assert_eq!((sale[0].lane.as_deref(), sale[0].device.as_deref()), (Some("L3"), None));
        assert_eq!(decode("door", "heartbeat", b"").unwrap(), vec![]);
    }

    #[test]
    fn a_bad_payload_is_refused_with_its_reason() {
        let reason = |r: Result<Vec<RawReading>, Refusal>| r.unwrap_err().reason();
        assert_eq!(reason(decode("door", "heartbeat", b"{not json")), "malformed");
        assert_eq!(reason(decode("door", "heartbeat", b"42")), "malformed");
        assert_eq!(reason(decode("door", "heartbeat", b"[{}, 3]")), "malformed");
        assert_eq!(reason(decode("door", "door_count", br#"{"in": 1, "colour": "red"}"#)), "malformed");
        assert_eq!(reason(decode("door", "door_count", br#"{"in": "many"}"#)), "malformed");
        assert_eq!(reason(decode("door", "heartbeat", br#"{"device": "face-cam"}"#)), "topic_mismatch");
        assert_eq!(reason(decode("door", "heartbeat", br#"{"type": "fault"}"#)), "topic_mismatch");
        assert_eq!(
            reason(decode("L3", "pos_sale", br#"{"lane": "L4", "txn": "T", "total": 1, "items": 1}"#)),
            "topic_mismatch"
        );
        let many = format!("[{}]", vec!["{}"; MAX_BATCH + 1].join(","));
        assert_eq!(decode("door", "heartbeat", many.as_bytes()), Err(Refusal::TooLarge(MAX_BATCH + 1)));
        let e = decode("door", "heartbeat", br#"[{}, {"device": "x"}]"#).unwrap_err().to_string();
        assert!(e.contains("[1].device"), "{e}");
    }

    #[test]
    fn broker_urls() {
        let u: BrokerUrl = "mqtt://broker.local".parse().unwrap();
        assert_eq!((u.host.as_str(), u.port, u.username.as_deref(), u.password()), ("broker.local", 1883, None, None));
        let u: BrokerUrl = "mqtt://twin:s%40cret@10.0.0.5:8883/?client_id=store-7".parse().unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.username.as_deref(), u.password()),
            ("10.0.0.5", 8883, Some("twin"), Some("s@cret"))
        );
        assert_eq!(u.client_id.as_deref(), Some("store-7"));
        assert_eq!(u.to_string(), "mqtt://twin@10.0.0.5:8883");
        assert!(!format!("{u:?}").contains("s@cret"));
        let u: BrokerUrl = "tcp://[::1]:1884".parse().unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 1884));
        assert_eq!(u.to_string(), "mqtt://[::1]:1884");
        for bad in [
            "broker:1883",
            "mqtts://broker",
            "mqtt://",
            "mqtt://host:0",
            "mqtt://host:99999",
            "mqtt://host/path",
            "mqtt://h?x=1",
        ] {
            assert!(bad.parse::<BrokerUrl>().is_err(), "{bad}");
        }
    }
}
