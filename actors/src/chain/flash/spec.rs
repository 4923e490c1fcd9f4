//! What a flash sale is built from.

use storetwin_engine::{SimDuration, SimTime};

use crate::dist::Dist;
use crate::money::Cents;
use crate::store::spec::SkuId;

/// One flash sale across the chain.
#[derive(Clone, Debug, PartialEq)]
pub struct FlashSaleSpec {
    pub name: String,
    pub sku: SkuId,
    /// The sale price (the till and the app charge it for a unit of the sale).
    pub price: Cents,
    /// When grabs start to succeed (time since the run's start); grabs before are refused
    /// as "not open yet".
    pub start: SimTime,
    /// Units the whole chain may sell or hold.
    pub quota: u32,
    /// Units each store may sell or hold (index: the chain's store order), and the units of
    /// the sale's SKU each store has for it (`store_quota[s] <= stock[s]`).
    pub store_quota: Vec<u32>,
    pub stock: Vec<u32>,
    /// Units one member may hold or have bought.
    pub member_limit: u32,
    /// A reservation not paid within this time expires and its unit returns.
    pub ttl: SimDuration,
    pub expiry: Expiry,
    /// A paid unit waits this long at its store for collection.
    pub pickup_window: SimDuration,
    /// Members who find it sold out may wait for a returned unit (at most this many; 0:
    /// no waitlist). A waitlisted member offered a unit has `ttl` to pay for it.
    pub waitlist: u32,
    pub protocol: Protocol,
    /// Seconds the stock holder spends on one call (a hot key: one call at a time).
    pub service_s: Dist,
    pub client: ClientSpec,
    /// Share of shoppers with a reservation who pay for it, and seconds until they do.
    pub pay_share: f64,
    pub pay_after_s: Dist,
    /// In-store grabs: seconds from entering to the grab request (a QR poster scan), and
    /// whether they queue at the store's kiosks instead (`kiosk_s` each).
    pub in_store: InStoreGrab,
    /// Pre-order tiers of the sale's SKU besides buying now at `price` (none: no
    /// pre-orders); see [`crate::chain::flash::preorder`].
    pub preorder: Vec<crate::chain::flash::preorder::PreorderTier>,
}

/// How in-store shoppers grab.
#[derive(Clone, Debug, PartialEq)]
pub enum InStoreGrab {
    /// They scan a QR poster at the entrance with their phone: `scan_s` after entering.
    QrPoster { scan_s: Dist },
    /// They queue at the store's kiosks (as many as the floor has, at least one) and each
    /// grab takes `kiosk_s` at the kiosk.
    Kiosk { kiosk_s: Dist },
}

/// When an unpaid reservation's unit comes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// At its expiry time exactly (a timer per reservation).
    Exact,
    /// When a sweeper that runs every `every` finds it expired: until then the unit can
    /// be sold to nobody (the lag is an undersell window).
    Sweeper { every: SimDuration },
}

/// How grabs are checked against the quota.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Protocol {
    /// One check-and-decrement call per grab at one stock holder: oversell impossible.
    Atomic,
    /// The quota is split into `n` buckets, each its own holder with its own queue; a
    /// member's grab goes to bucket `member % n`. A bucket that ran out refuses while
    /// others still have units (phantom sold-out); their units are leftovers.
    Buckets { n: u32 },
    /// Each store holds a local quota and serves its own grabs; a store that ran out asks
    /// the centre for `batch` more from the unallocated pool. The giver lowers its own
    /// quota first, then tells the receiver, so units in flight are sold by nobody: a
    /// partition undersells, never oversells.
    Demarcation { initial: u32, batch: u32 },
    /// Reads the remaining stock from a replica `replica_lag` behind, and if it shows any,
    /// decrements later without checking. Unsafe by design: it oversells under load, and
    /// the invariant checker stops the run.
    UnsafeReadThenWrite { replica_lag: SimDuration },
}

impl Protocol {
    pub fn name(&self) -> &'static str {
        match self {
            Protocol::Atomic => "atomic",
            Protocol::Buckets { .. } => "buckets",
            Protocol::Demarcation { .. } => "demarcation",
            Protocol::UnsafeReadThenWrite { .. } => "unsafe_read_then_write",
        }
    }
}

/// What a grabbing client does when an answer is slow.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientSpec {
    /// A call with no answer within this time is retried.
    pub timeout: SimDuration,
    /// Retries after the first call (then the grab has failed).
    pub retries: u32,
    /// Seconds waited before each retry.
    pub backoff_s: Dist,
    /// Whether a retry carries the first call's idempotency key (the holder then answers
    /// a retry of a call it already served with the same reservation). Without it, a
    /// retry after a lost or late answer is a new grab: it deducts again.
    pub idempotency_key: bool,
    /// Probability that an answer never reaches the client (an unknown outcome).
    pub answer_loss: f64,
}
