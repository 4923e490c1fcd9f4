//! The chain file's `[flash_sale]`: one flash sale across the chain's stores.
//!
//! ```toml
//! [flash_sale]
//! name = "phone-drop"
//! sku = "Whole milk 1 l"          # a SKU of the chain's catalogue
//! price = "0.49"
//! start = "10:00"
//! quota = 20000                   # units across the chain
//! store_quota = 200               # units each store may sell or hold
//! store_quotas = { S001 = 400 }   # stores with another quota (optional)
//! stock = 250                     # units each store has for the sale (default: its quota)
//! member_limit = 1
//! ttl = "15min"                   # an unpaid reservation expires after this
//! expiry = "exact"                # or { sweeper = "30s" }
//! pickup_window = "48h"
//! waitlist = 5000                 # members waiting for returned units (0: none)
//! protocol = "atomic"             # or { buckets = 8 }, { demarcation = { initial = 150, batch = 20 } },
//!                                 # or { unsafe_read_then_write = { replica_lag = "2s" } }
//! service_s = 0.00002             # the stock holder's time per call (seconds)
//! pay_share = 0.85
//! pay_after_s = { dist = "lognormal", mean = 90, sd = 60 }
//! in_store = { qr_poster = { scan_s = { dist = "uniform", low = 5, high = 30 } } }
//!
//! [flash_sale.client]
//! timeout = "2s"
//! retries = 3
//! backoff_s = { dist = "uniform", low = 0.5, high = 2 }
//! idempotency_key = true
//! answer_loss = 0.001
//!
//! # Pre-order tiers ("book ahead"), besides buying now at `price`; times since `start`
//! [[flash_sale.preorder]]
//! name = "ship-jan-25"
//! opens = "0s"                    # default: at the sale's start
//! closes = "20d"                  # below `min` orders then: cancelled, every order refunded
//! ships = "24d"                   # at or after `closes`
//! price = "20.00"
//! min = 50
//! max = 100                       # the tier takes no more orders than this
//! ```

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use storetwin_actors::chain::flash::{ClientSpec, Expiry, FlashSaleSpec, InStoreGrab, PreorderTier, Protocol};
use storetwin_actors::chain::spec::{ChainStoreSpec, StoreIdx};
use storetwin_engine::SimDuration;

use super::stores::{Catalogue, Hours};
use super::{in_hours, since_open};
use crate::build::Names;
use crate::check::Checks;
use crate::distribution::Distribution;
use crate::duration::Duration;
use crate::path::at;
use crate::price::Price;
use crate::time_of_day::TimeOfDay;

/// A flash sale: a SKU at a sale price from a start time, with a quota for the chain and
/// one per store, a per-member limit and reservations that expire.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlashSaleFile {
    pub name: String,
    /// The SKU on sale, by name in the chain's catalogue.
    pub sku: String,
    /// The sale price ("99.00").
    pub price: Price,
    /// Time of day grabs start to succeed.
    pub start: TimeOfDay,
    /// Units the whole chain may sell or hold at once (above 0).
    pub quota: u32,
    /// Units each store may sell or hold (above 0).
    pub store_quota: u32,
    /// Stores with another quota than `store_quota`, by name.
    #[serde(default)]
    pub store_quotas: BTreeMap<String, u32>,
    /// Units of the SKU each store has for the sale. Default: its quota.
    pub stock: Option<u32>,
    /// Units one member may hold or have bought. Default 1.
    pub member_limit: Option<u32>,
    /// An unpaid reservation expires this long after it was made ("15min").
    pub ttl: Duration,
    /// How expired reservations come back: `"exact"` (a timer each; the default) or
    /// `{ sweeper = "30s" }` (a job every 30 s; the lag is an undersell window).
    pub expiry: Option<ExpiryFile>,
    /// A paid unit waits this long at its store for collection. Default "48h".
    pub pickup_window: Option<Duration>,
    /// Members who find it sold out who may wait for a returned unit (atomic protocol
    /// only). Default 0: no waitlist.
    pub waitlist: Option<u32>,
    /// How grabs are checked against the quota. Default "atomic".
    pub protocol: Option<ProtocolFile>,
    /// Seconds the stock holder spends on one call (it serves one call at a time): about
    /// 0.00002 for an in-memory store, 0.002 for a plain database row.
    pub service_s: Distribution,
    /// Share of shoppers with a reservation who pay for it.
    pub pay_share: f64,
    /// Seconds from the reservation to the payment, for those who pay.
    pub pay_after_s: Distribution,
    /// How in-store shoppers grab. Default: a QR poster scanned 5 to 30 s after entering.
    pub in_store: Option<InStoreFile>,
    /// What a client does when an answer is slow.
    pub client: ClientFile,
    /// Pre-order tiers of the SKU besides buying now at `price`: each an order window, a
    /// ship date, a price and a minimum and maximum number of orders. None by default.
    #[serde(default)]
    pub preorder: Vec<PreorderFile>,
}

/// A pre-order tier. Times are lengths of time after the sale's `start` ("30min", "20d").
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreorderFile {
    /// Unique among the tiers.
    pub name: String,
    /// When the tier starts taking orders, after the sale's start. Default "0s".
    pub opens: Option<Duration>,
    /// When its order window ends, after the sale's start (after `opens`): a tier below
    /// `min` orders then is cancelled and every order refunded.
    pub closes: Duration,
    /// When a confirmed tier's orders ship, after the sale's start (at or after `closes`).
    pub ships: Duration,
    /// The price of a unit, paid in full when ordering ("20.00", above 0).
    pub price: Price,
    /// Orders the tier needs by `closes` to go ahead (above 0, at most `max`).
    pub min: u32,
    /// The most orders the tier takes; it stops taking orders there.
    pub max: u32,
}

#[derive(Debug, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryFile {
    Exact,
    Sweeper(Duration),
}

#[derive(Debug, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProtocolFile {
    /// One check-and-decrement per grab at one stock holder: oversell impossible.
    Atomic,
    /// The quota split into this many buckets by member id, each its own holder.
    Buckets(u32),
    /// Each store holds a local quota (`initial` units at the start) and asks the centre
    /// for `batch` more when it runs out.
    Demarcation(DemarcationFile),
    /// Reads a replica `replica_lag` behind and decrements without a check: meant to fail.
    UnsafeReadThenWrite(UnsafeFile),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DemarcationFile {
    pub initial: u32,
    pub batch: u32,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnsafeFile {
    pub replica_lag: Duration,
}

#[derive(Debug, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InStoreFile {
    /// A QR poster at the entrance, scanned `scan_s` seconds after entering.
    QrPoster(ScanFile),
    /// The store's kiosks, `kiosk_s` seconds a grab.
    Kiosk(KioskFile),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanFile {
    pub scan_s: Distribution,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KioskFile {
    pub kiosk_s: Distribution,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientFile {
    /// A call with no answer within this time is retried ("2s", above 0).
    pub timeout: Duration,
    /// Retries after the first call. Default 0.
    pub retries: Option<u32>,
    /// Seconds waited before each retry. Default 0.
    pub backoff_s: Option<Distribution>,
    /// Whether a retry carries the first call's idempotency key. Default true.
    pub idempotency_key: Option<bool>,
    /// Probability that an answer is lost on its way to the client. Default 0.
    pub answer_loss: Option<f64>,
}

/// An enum written as a name (`"atomic"`) or a one-key table (`{ buckets = 8 }`).
macro_rules! tagged {
    ($ty:ident, $expecting:literal, names: { $($name:literal => $unit:expr),* }, table: $table:ident { $($key:ident : $kty:ty => $wrap:expr),* }) => {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct $table {
            $($key: Option<$kty>,)*
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }
                    #[allow(unreachable_code, unused_variables)]
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        $(if v == $name { return Ok($unit); })*
                        Err(E::custom(format!("unknown `{v}`: expected {}", $expecting)))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<$ty, A::Error> {
                        let t = $table::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                        let mut found: Vec<$ty> = Vec::new();
                        $(if let Some(v) = t.$key { found.push($wrap(v)); })*
                        match found.len() {
                            1 => Ok(found.remove(0)),
                            _ => Err(serde::de::Error::custom(format!("expected one of {}", $expecting))),
                        }
                    }
                }
                deserializer.deserialize_any(V)
            }
        }
    };
}

tagged!(ExpiryFile, "\"exact\" or { sweeper = \"30s\" }", names: { "exact" => ExpiryFile::Exact }, table: ExpiryTable { sweeper: Duration => ExpiryFile::Sweeper });
tagged!(
    ProtocolFile,
    "\"atomic\", { buckets = 8 }, { demarcation = { initial = 150, batch = 20 } } or { unsafe_read_then_write = { replica_lag = \"2s\" } }",
    names: { "atomic" => ProtocolFile::Atomic },
    table: ProtocolTable {
        buckets: u32 => ProtocolFile::Buckets,
        demarcation: DemarcationFile => ProtocolFile::Demarcation,
        unsafe_read_then_write: UnsafeFile => ProtocolFile::UnsafeReadThenWrite
    }
);
tagged!(
    InStoreFile,
    "{ qr_poster = { scan_s = ... } } or { kiosk = { kiosk_s = ... } }",
    names: {},
    table: InStoreTable { qr_poster: ScanFile => InStoreFile::QrPoster, kiosk: KioskFile => InStoreFile::Kiosk }
);

/// `flash_sale.pickup_window` when left out.
pub const DEFAULT_PICKUP_WINDOW: SimDuration = SimDuration::from_secs(48 * 3600);

/// `flash_sale.preorder[].opens` when left out: at the sale's start.
pub const DEFAULT_PREORDER_OPENS: SimDuration = SimDuration::ZERO;

/// The checked tiers (times since the run's start), or `None` with the problems in
/// `checks`.
fn preorder_tiers(
    f: &FlashSaleFile,
    start: storetwin_engine::SimTime,
    checks: &mut Checks<'_>,
) -> Option<Vec<PreorderTier>> {
    let before = checks.issues.len();
    if f.preorder.len() > usize::from(u8::MAX) {
        checks
            .bad(at!["flash_sale", "preorder"], format!("{} pre-order tiers is too many", f.preorder.len()))
            .label("expected at most 255 tiers");
    }
    let mut tiers = Vec::with_capacity(f.preorder.len());
    for (i, t) in f.preorder.iter().enumerate() {
        let key = |k: &'static str| at!["flash_sale", "preorder", i, k];
        // Names are unique within a file and merge by name across `extends` (a named array).
        if t.name.trim().is_empty() {
            checks.bad(key("name"), "a pre-order tier needs a name").label("expected a name like \"ship-jan-25\"");
        }
        let opens = t.opens.map_or(DEFAULT_PREORDER_OPENS, |d| d.0);
        if t.closes.0 <= opens {
            checks.bad(key("closes"), "a tier's order window must close after it opens").label(format!(
                "expected a time after the window opens (\"{}\")",
                crate::duration::format_duration(opens)
            ));
        }
        if t.ships.0 < t.closes.0 {
            checks.bad(key("ships"), "a tier ships at or after its order window closes").label(format!(
                "expected \"{}\" (when the window closes) or later",
                crate::duration::format_duration(t.closes.0)
            ));
        }
        if t.price.0.0 <= 0 {
            checks
                .bad(key("price"), "a pre-order tier's price must be above 0")
                .label("expected a price like \"20.00\"");
        }
        if t.min == 0 {
            checks.bad(key("min"), "a tier's minimum is 1 order or more").label("expected 1 or more");
        } else if t.min > t.max {
            checks
                .bad(key("min"), format!("a minimum of {} is above the tier's maximum of {}", t.min, t.max))
                .label(format!("expected at most {}", t.max));
        }
        tiers.push(PreorderTier {
            name: t.name.clone(),
            opens: start.saturating_add(opens),
            closes: start.saturating_add(t.closes.0),
            ships: start.saturating_add(t.ships.0),
            price: t.price.0,
            min: t.min,
            max: t.max,
        });
    }
    (checks.issues.len() == before).then_some(tiers)
}

/// The checked sale, or `None` (with the problems in `checks`).
pub(crate) fn flash_sale(
    f: &FlashSaleFile,
    catalogue: Option<&Catalogue>,
    store_names: &Names<StoreIdx>,
    stores: &[ChainStoreSpec],
    hours: Hours,
    checks: &mut Checks<'_>,
) -> Option<FlashSaleSpec> {
    let before = checks.issues.len();
    let sku = catalogue.and_then(|c| checks.resolve(at!["flash_sale", "sku"], "SKU", &f.sku, &c.skus));
    if f.price.0.0 <= 0 {
        checks
            .bad(at!["flash_sale", "price"], "a flash sale's price must be above 0")
            .label("expected a price like \"99.00\"");
    }
    in_hours(checks, at!["flash_sale", "start"], f.start, hours, false);
    for (key, v) in [("quota", f.quota), ("store_quota", f.store_quota)] {
        if v == 0 {
            checks.bad(at!["flash_sale", key], format!("a {key} of 0 sells nothing")).label("expected 1 or more");
        }
    }
    let mut store_quota = vec![f.store_quota; stores.len()];
    for (name, &q) in &f.store_quotas {
        if let Some(s) = checks.resolve(at!["flash_sale", "store_quotas", name], "store", name, store_names)
            && let Some(slot) = store_quota.get_mut(usize::from(s.0))
        {
            *slot = q;
        }
    }
    let stock: Vec<u32> = store_quota.iter().map(|&q| f.stock.unwrap_or(q)).collect();
    if let Some(st) = f.stock
        && st == 0
    {
        checks.bad(at!["flash_sale", "stock"], "a stock of 0 sells nothing").label("expected 1 or more");
    }
    let member_limit = f.member_limit.unwrap_or(1);
    if member_limit == 0 || member_limit > 255 {
        checks.bad(at!["flash_sale", "member_limit"], "a member limit is 1 to 255 units").label("expected 1 to 255");
    }
    if f.ttl.0 == SimDuration::ZERO {
        checks
            .bad(at!["flash_sale", "ttl"], "a reservation's time to live must be above 0")
            .label("expected a duration like \"15min\"");
    }
    let expiry = match &f.expiry {
        None | Some(ExpiryFile::Exact) => Expiry::Exact,
        Some(ExpiryFile::Sweeper(every)) => {
            if every.0 == SimDuration::ZERO {
                checks
                    .bad(at!["flash_sale", "expiry", "sweeper"], "the sweeper must run every so often, not every 0 s")
                    .label("expected a duration above 0, like \"30s\"");
            }
            Expiry::Sweeper { every: every.0 }
        }
    };
    let protocol = match &f.protocol {
        None | Some(ProtocolFile::Atomic) => Protocol::Atomic,
        Some(ProtocolFile::Buckets(n)) => {
            if *n == 0 {
                checks
                    .bad(at!["flash_sale", "protocol", "buckets"], "a quota splits into 1 bucket or more")
                    .label("expected 1 or more");
            }
            Protocol::Buckets { n: *n }
        }
        Some(ProtocolFile::Demarcation(d)) => {
            if d.batch == 0 {
                checks
                    .bad(at!["flash_sale", "protocol", "demarcation", "batch"], "a store asks for 1 unit or more")
                    .label("expected 1 or more");
            }
            Protocol::Demarcation { initial: d.initial, batch: d.batch }
        }
        Some(ProtocolFile::UnsafeReadThenWrite(u)) => {
            if u.replica_lag.0 == SimDuration::ZERO {
                checks
                    .bad(
                        at!["flash_sale", "protocol", "unsafe_read_then_write", "replica_lag"],
                        "a replica with no lag is the holder itself",
                    )
                    .label("expected a duration above 0, like \"2s\"");
            }
            Protocol::UnsafeReadThenWrite { replica_lag: u.replica_lag.0 }
        }
    };
    let waitlist = f.waitlist.unwrap_or(0);
    if waitlist > 0 && protocol != Protocol::Atomic {
        checks
            .bad(
                at!["flash_sale", "waitlist"],
                format!("a waitlist needs the atomic protocol, not {}", protocol.name()),
            )
            .label("expected 0 or no waitlist");
    }
    checks.non_negative_mean(at!["flash_sale", "service_s"], &f.service_s.0);
    if f.service_s.0.min() < 0.0 {
        checks
            .bad(at!["flash_sale", "service_s"], "a service time cannot be negative")
            .label("expected a distribution of 0 or more");
    }
    checks.share(at!["flash_sale", "pay_share"], f.pay_share);
    checks.non_negative_mean(at!["flash_sale", "pay_after_s"], &f.pay_after_s.0);
    let in_store = match &f.in_store {
        None => InStoreGrab::QrPoster { scan_s: storetwin_actors::Dist::uniform(5.0, 30.0).expect("valid bounds") },
        Some(InStoreFile::QrPoster(s)) => {
            checks.non_negative_mean(at!["flash_sale", "in_store", "qr_poster", "scan_s"], &s.scan_s.0);
            InStoreGrab::QrPoster { scan_s: s.scan_s.0.clone() }
        }
        Some(InStoreFile::Kiosk(k)) => {
            checks.non_negative_mean(at!["flash_sale", "in_store", "kiosk", "kiosk_s"], &k.kiosk_s.0);
            InStoreGrab::Kiosk { kiosk_s: k.kiosk_s.0.clone() }
        }
    };
    let c = &f.client;
    if c.timeout.0 == SimDuration::ZERO {
        checks
            .bad(at!["flash_sale", "client", "timeout"], "a client's timeout must be above 0")
            .label("expected a duration like \"2s\"");
    }
    let answer_loss = c.answer_loss.unwrap_or(0.0);
    checks.share(at!["flash_sale", "client", "answer_loss"], answer_loss);
    let backoff_s = c.backoff_s.as_ref().map_or(storetwin_actors::Dist::Constant(0.0), |d| d.0.clone());
    checks.non_negative_mean(at!["flash_sale", "client", "backoff_s"], &backoff_s);
    let start = since_open(f.start, hours);
    let preorder = preorder_tiers(f, start, checks);
    if checks.issues.len() > before {
        return None;
    }
    Some(FlashSaleSpec {
        name: f.name.clone(),
        sku: sku?,
        price: f.price.0,
        start,
        quota: f.quota,
        store_quota,
        stock,
        member_limit,
        ttl: f.ttl.0,
        expiry,
        pickup_window: f.pickup_window.map_or(DEFAULT_PICKUP_WINDOW, |d| d.0),
        waitlist,
        protocol,
        service_s: f.service_s.0.clone(),
        client: ClientSpec {
            timeout: c.timeout.0,
            retries: c.retries.unwrap_or(0),
            backoff_s,
            idempotency_key: c.idempotency_key.unwrap_or(true),
            answer_loss,
        },
        pay_share: f.pay_share,
        pay_after_s: f.pay_after_s.0.clone(),
        in_store,
        preorder: preorder?,
    })
}
