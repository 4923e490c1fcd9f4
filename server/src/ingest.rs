//! Sensor ingest: device readings as they come from the store (over HTTP or MQTT), checked,
//! normalised and handed to the session as injected, recorded events.
//!
//! A reading (JSON, one object):
//! - `{"type": "door_count", "device": "door-1", "in": 1234, "ts": "12:03:04"}`: a people
//!   counter's count of people in, **accumulated since its last reset** (as Axis counters
//!   report it). The twin takes the difference from the device's last reading; a count
//!   below the last one is a reset, after which the count starts again from 0. A counter's
//!   first reading counts from the store's opening (counters are reset overnight).
//! - `{"type": "shelf_weight", "device": "shelf-1", "sku": "Milk 1 l", "grams": 5230}`: a
//!   smart shelf's weight of one of its SKUs; the twin's shelf stock is set from it.
//! - `{"type": "heartbeat", "device": "esl-1"}` and `{"type": "fault", "device": "esl-1"}`:
//!   the device is up, or reports a fault (down until a heartbeat). Only a change of the
//!   reported state (or a device's first report) becomes an event.
//! - `{"type": "pos_sale", "lane": "L3", "txn": "T-1001", "total": 12.34, "items": 3}`: a
//!   real till's transaction; a `txn` seen before is a duplicate and counted once.
//! - `{"type": "esl_ack", "device": "esl-1", "sku": "Milk 1 l", "price": 0.99}`: a label's
//!   acknowledgement that it now shows this price.
//!
//! `ts` is optional: the store clock `"HH:MM:SS"`, or sim seconds since the scenario's
//! start as a number. A reading more than [`FUTURE_SLACK_S`] after the twin's clock is from
//! the future, one more than [`MAX_AGE_S`] before it is too old: both are refused. A
//! reading older than the same device's last one arrived out of order: it is taken but not
//! applied (a cumulative count or a weight is superseded by the newer one), and counted as
//! stale. A batch is checked whole first: if any reading is wrong, none is taken, and the
//! answer names each wrong reading's index and field.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use storetwin_actors::StoreMsg;
use storetwin_actors::store::sensors::Reading;
use storetwin_actors::store::spec::WorldSpec;
use storetwin_actors::store::wire::clock;
use storetwin_actors::store::world::Layout;
use storetwin_engine::{ActorId, LiveInput, SimTime};

use crate::actions::{FieldError, cents, device, lane, sku};
use crate::api::ApiError;
use crate::session::{Refused, Session};
use crate::telemetry;

/// A reading may be this far ahead of the twin's clock (sim seconds).
pub const FUTURE_SLACK_S: f64 = 5.0;
/// A reading may be this old (sim seconds).
pub const MAX_AGE_S: f64 = 900.0;
/// Most readings in one batch.
pub const MAX_BATCH: usize = 10_000;

/// A reading as a device sends it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReading {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts: Option<Timestamp>,
    /// `door_count`: people in since the counter's last reset.
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    pub count_in: Option<u64>,
    /// `door_count`: people out since the last reset (kept for the record, not used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grams: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lane: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub txn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    /// `fault`: what the device said (kept for the record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A reading's time: store clock text or sim seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Timestamp {
    Seconds(f64),
    Clock(String),
}

/// How a batch came in (a label of the metrics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Http,
    Mqtt,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::Mqtt => "mqtt",
        }
    }
}

/// What became of a batch.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct IngestReport {
    pub accepted: usize,
    /// Readings that became events.
    pub injected: usize,
    /// Older than the device's last reading: taken, not applied.
    pub stale: usize,
    /// A POS transaction seen before.
    pub duplicates: usize,
    /// Door counters found reset.
    pub resets: usize,
    /// Heartbeats that repeated the reported state.
    pub unchanged: usize,
    /// The twin's clock when the batch was taken.
    pub at: String,
}

/// One wrong reading of a batch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rejected {
    pub index: usize,
    pub field: String,
    pub error: String,
}

/// A reading checked against the store, before the devices' state is consulted.
#[derive(Clone, Debug)]
enum Checked {
    Door { device: u16, count: u64 },
    Shelf { device: u16, sku: u32, grams: u32 },
    State { device: u16, up: bool },
    Pos { lane: u16, txn: String, cents: i64, items: u16 },
    Ack { device: u16, sku: u32, cents: i64 },
}

impl Checked {
    fn kind(&self) -> &'static str {
        match self {
            Checked::Door { .. } => "door_count",
            Checked::Shelf { .. } => "shelf_weight",
            Checked::State { up: true, .. } => "heartbeat",
            Checked::State { up: false, .. } => "fault",
            Checked::Pos { .. } => "pos_sale",
            Checked::Ack { .. } => "esl_ack",
        }
    }
}

/// What a checked reading does, given the device's earlier readings.
enum Applied {
    Event(Reading),
    /// Older than the device's last reading.
    Stale,
    /// Nothing changed (no one came in, a heartbeat repeated, a duplicate transaction).
    Nothing,
}

/// The ingest's memory of each device: last reading's time and value.
pub struct Ingest {
    spec: Arc<WorldSpec>,
    door: BTreeMap<u16, (f64, u64)>,
    shelf: BTreeMap<(u16, u32), f64>,
    state: BTreeMap<u16, (f64, bool)>,
    ack: BTreeMap<(u16, u32), f64>,
    txns: BTreeSet<(u16, String)>,
}

fn need<T: Clone>(v: &Option<T>, field: &str, what: &str) -> Result<T, FieldError> {
    v.clone().ok_or_else(|| FieldError::new(field, format!("missing; expected {what}")))
}

impl Ingest {
    pub fn new(spec: Arc<WorldSpec>) -> Ingest {
        Ingest {
            spec,
            door: BTreeMap::new(),
            shelf: BTreeMap::new(),
            state: BTreeMap::new(),
            ack: BTreeMap::new(),
            txns: BTreeSet::new(),
        }
    }

    /// The reading's time in sim seconds, checked against the twin's clock `now_s`.
    fn time(&self, r: &RawReading, now_s: f64) -> Result<f64, FieldError> {
        let open = f64::from(self.spec.open_at_s);
        let t = match &r.ts {
            None => return Ok(now_s),
            Some(Timestamp::Seconds(s)) if s.is_finite() => *s,
            Some(Timestamp::Seconds(s)) => return Err(FieldError::new("ts", format!("{s} is not a time"))),
            Some(Timestamp::Clock(text)) => {
                let parts: Vec<Option<u32>> = text.split(':').map(|p| p.parse().ok()).collect();
                match parts[..] {
                    [Some(h), Some(m), Some(s)] if h < 24 && m < 60 && s < 60 => {
                        f64::from(h * 3600 + m * 60 + s) - open
                    }
                    [Some(h), Some(m)] if h < 24 && m < 60 => f64::from(h * 3600 + m * 60) - open,
                    _ => {
                        return Err(FieldError::new(
                            "ts",
                            format!("{text:?} is not a store clock time (expected \"HH:MM:SS\" or sim seconds)"),
                        ));
                    }
                }
            }
        };
        let shown = |s: f64| clock(self.spec.open_at_s, SimTime::from_secs_f64(s.max(0.0)));
        if t > now_s + FUTURE_SLACK_S {
            return Err(FieldError::new(
                "ts",
                format!("{} is after the twin's clock {} (a reading from the future)", shown(t), shown(now_s)),
            ));
        }
        if t < now_s - MAX_AGE_S || t < 0.0 {
            return Err(FieldError::new(
                "ts",
                format!("{} is more than {} min before the twin's clock {}", shown(t), MAX_AGE_S / 60.0, shown(now_s)),
            ));
        }
        Ok(t)
    }

    fn check(&self, r: &RawReading) -> Result<Checked, FieldError> {
        let spec = &*self.spec;
        let dev = || -> Result<u16, FieldError> { device(spec, &need(&r.device, "device", "the device's name")?) };
        let sku_of = || -> Result<u32, FieldError> { sku(spec, &need(&r.sku, "sku", "the SKU's name")?) };
        let checked = match r.kind.as_str() {
            "door_count" => {
                Checked::Door { device: dev()?, count: need(&r.count_in, "in", "people in since the last reset")? }
            }
            "shelf_weight" => {
                let grams = need(&r.grams, "grams", "the weight on the shelf in grams")?;
                if !(grams.is_finite() && (0.0..4e9).contains(&grams)) {
                    return Err(FieldError::new("grams", format!("{grams} is not a weight in grams")));
                }
                Checked::Shelf { device: dev()?, sku: sku_of()?, grams: grams.round() as u32 }
            }
            "heartbeat" => Checked::State { device: dev()?, up: true },
            "fault" => Checked::State { device: dev()?, up: false },
            "pos_sale" => {
                let items = need(&r.items, "items", "the number of items")?;
                if items == 0 || items > u32::from(u16::MAX) {
                    return Err(FieldError::new("items", format!("{items} is not a number of items (1..65535)")));
                }
                Checked::Pos {
                    lane: lane(spec, &need(&r.lane, "lane", "the lane's name")?)?,
                    txn: need(&r.txn, "txn", "the transaction's id")?,
                    cents: cents("total", need(&r.total, "total", "the amount paid")?)?,
                    items: items as u16,
                }
            }
            "esl_ack" => Checked::Ack {
                device: dev()?,
                sku: sku_of()?,
                cents: cents("price", need(&r.price, "price", "the price the label shows")?)?,
            },
            other => {
                return Err(FieldError::new(
                    "type",
                    format!(
                        "unknown reading type {other:?}; expected door_count, shelf_weight, heartbeat, fault, \
                         pos_sale or esl_ack"
                    ),
                ));
            }
        };
        let reading = match &checked {
            Checked::Door { device, .. } => Reading::DoorCount { device: *device, people: 0 },
            Checked::Shelf { device, sku, grams } => Reading::ShelfWeight { device: *device, sku: *sku, grams: *grams },
            Checked::State { device, up } => Reading::DeviceState { device: *device, up: *up },
            Checked::Pos { lane, cents, items, .. } => Reading::PosSale { lane: *lane, cents: *cents, items: *items },
            Checked::Ack { device, sku, cents } => Reading::EslAck { device: *device, sku: *sku, cents: *cents },
        };
        reading.check(spec).map_err(|e| {
            // The model names its own fields; the reading as sent has these.
            let field = match (e.field, &checked) {
                ("cents", Checked::Pos { .. }) => "total",
                ("cents", Checked::Ack { .. }) => "price",
                ("people", _) => "in",
                (field, _) => field,
            };
            FieldError::new(field, e.message)
        })?;
        Ok(checked)
    }

    /// Updates the devices' memory with a reading at sim second `t`.
    fn apply(&mut self, t: f64, c: Checked, report: &mut IngestReport) -> Applied {
        match c {
            Checked::Door { device, count } => {
                let last = self.door.get(&device).copied();
                if last.is_some_and(|(last_t, _)| t < last_t) {
                    return Applied::Stale;
                }
                let last_count = last.map_or(0, |(_, n)| n);
                let people = if count < last_count {
                    report.resets += 1;
                    count
                } else {
                    count - last_count
                };
                self.door.insert(device, (t, count));
                if people == 0 {
                    return Applied::Nothing;
                }
                Applied::Event(Reading::DoorCount { device, people: people.min(u64::from(u32::MAX)) as u32 })
            }
            Checked::Shelf { device, sku, grams } => {
                if self.shelf.get(&(device, sku)).is_some_and(|last_t| t < *last_t) {
                    return Applied::Stale;
                }
                self.shelf.insert((device, sku), t);
                Applied::Event(Reading::ShelfWeight { device, sku, grams })
            }
            Checked::State { device, up } => match self.state.get(&device).copied() {
                Some((last_t, _)) if t < last_t => Applied::Stale,
                Some((_, last_up)) if last_up == up => {
                    self.state.insert(device, (t, up));
                    report.unchanged += 1;
                    Applied::Nothing
                }
                _ => {
                    self.state.insert(device, (t, up));
                    Applied::Event(Reading::DeviceState { device, up })
                }
            },
            Checked::Pos { lane, txn, cents, items } => {
                if !self.txns.insert((lane, txn)) {
                    report.duplicates += 1;
                    return Applied::Nothing;
                }
                Applied::Event(Reading::PosSale { lane, cents, items })
            }
            Checked::Ack { device, sku, cents } => {
                if self.ack.get(&(device, sku)).is_some_and(|last_t| t < *last_t) {
                    return Applied::Stale;
                }
                self.ack.insert((device, sku), t);
                Applied::Event(Reading::EslAck { device, sku, cents })
            }
        }
    }

    /// Takes a batch: checks all of it, then hands the session what changed.
    pub fn take(
        &mut self,
        raw: &[RawReading],
        transport: Transport,
        session: &dyn Sink,
    ) -> Result<IngestReport, ApiError> {
        let via = transport.name();
        if raw.len() > MAX_BATCH {
            metrics::counter!(telemetry::REJECTED, "reason" => "batch_too_large", "via" => via)
                .increment(raw.len() as u64);
            return Err(ApiError::too_large(format!("{} readings in one batch; at most {MAX_BATCH}", raw.len())));
        }
        let now = session.now();
        let now_s = now.as_secs_f64();
        let mut checked = Vec::with_capacity(raw.len());
        let mut rejected = Vec::new();
        for (index, r) in raw.iter().enumerate() {
            match self.time(r, now_s).and_then(|t| self.check(r).map(|c| (t, c))) {
                Ok(c) => checked.push(c),
                Err(e) => {
                    let reason = if e.field == "ts" { "bad_time" } else { "bad_reading" };
                    metrics::counter!(telemetry::REJECTED, "reason" => reason, "via" => via).increment(1);
                    rejected.push(Rejected { index, field: e.field, error: e.message });
                }
            }
        }
        if !rejected.is_empty() {
            return Err(ApiError::rejected(rejected));
        }
        if session.room() < checked.len() {
            metrics::counter!(telemetry::REJECTED, "reason" => "queue_full", "via" => via).increment(raw.len() as u64);
            return Err(ApiError::busy("the session's input queue is full; retry shortly"));
        }
        let mut report =
            IngestReport { accepted: raw.len(), at: clock(self.spec.open_at_s, now), ..Default::default() };
        let mut out = Vec::new();
        for (t, c) in checked {
            metrics::counter!(telemetry::READINGS, "kind" => c.kind(), "via" => via).increment(1);
            match self.apply(t, c, &mut report) {
                Applied::Event(reading) => out.push(reading),
                Applied::Stale => {
                    report.stale += 1;
                    metrics::counter!(telemetry::STALE, "via" => via).increment(1);
                }
                Applied::Nothing => {}
            }
        }
        for reading in out {
            let (to, msg) = reading.to_injection(session.layout());
            session.inject(to, msg).map_err(|r| match r {
                Refused::Ended => ApiError::conflict("the session has ended; it takes no more readings"),
                Refused::Full => ApiError::busy("the session's input queue is full; retry shortly"),
            })?;
            report.injected += 1;
        }
        Ok(report)
    }
}

/// Where the readings of one store go: a store's session, or one store of a served chain.
pub trait Sink {
    /// The store's sim time now.
    fn now(&self) -> SimTime;
    /// Free room in the session's input queue.
    fn room(&self) -> usize;
    /// The store's actor layout (whom a reading is for).
    fn layout(&self) -> Layout;
    /// Hands the session a reading's message, injected at the sim time it is taken.
    fn inject(&self, to: ActorId, msg: StoreMsg) -> Result<(), Refused>;
}

impl Sink for Session {
    fn now(&self) -> SimTime {
        Session::now(self)
    }

    fn room(&self) -> usize {
        Session::room(self)
    }

    fn layout(&self) -> Layout {
        self.layout
    }

    fn inject(&self, to: ActorId, msg: StoreMsg) -> Result<(), Refused> {
        self.send(LiveInput::Inject { to, msg })
    }
}
