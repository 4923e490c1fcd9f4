//! The central platform as a kernel model: the centres' actors, their messages, and the
//! downlink to the stores.
//!
//! Actors: the [`INVENTORY`] centre, the [`ORDERS`] centre (which also generates the
//! online shoppers' orders), and the member, coupon and settlement centres. They run in
//! their own shard; stores reach them only through messages with latency
//! ([`crate::chain::link`]), and they answer the same way.

use std::sync::Arc;

use rand::RngExt;
use storetwin_engine::{ActorId, Context, Envelope, Model, ShardModel};

use crate::chain::inventory::Inventory;
use crate::chain::link::{Down, Link, OrderId, PLATFORM_SHARD, PlatformMsg, Up, store_shard};
use crate::chain::orders::{self, OrderCentre};
use crate::chain::spec::{ChainSpec, StoreIdx};
use crate::store::spec::SkuId;

pub const INVENTORY: ActorId = ActorId(0);
pub const ORDERS: ActorId = ActorId(1);
pub const MEMBERS: ActorId = ActorId(2);
pub const COUPONS: ActorId = ActorId(3);
pub const SETTLEMENT: ActorId = ActorId(4);
const ACTORS: u32 = 5;

/// Every message of the platform shard.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum CentreMsg {
    /// A message from a store.
    FromStore { from: StoreIdx, msg: Up },
    /// The order centre routed one unit of `sku` to `store` (to the inventory centre).
    Allocate { store: StoreIdx, sku: SkuId },
    /// The next online order of a segment (the order centre's timer).
    OnlineArrival { segment: u16 },
    /// A dispatched order reaches its customer.
    Delivered { order: OrderId },
}

/// The way from the centres to the stores: the links (latency and partitions) and the
/// address of each store's office.
pub struct Downlink {
    links: Vec<Link>,
    offices: Vec<ActorId>,
    pub outbox: Vec<Envelope<PlatformMsg>>,
    pub sent: u64,
    pub held: u64,
}

impl Downlink {
    /// Sends `msg` to the office of `store`.
    pub fn send(&mut self, store: StoreIdx, msg: Down, ctx: &mut Context<'_, CentreMsg>) {
        let link = &mut self.links[usize::from(store.0)];
        let now = ctx.now();
        if link.down_until(now).is_some() {
            self.held += 1;
        }
        self.sent += 1;
        let at = link.arrival(now, ctx.rng());
        self.outbox.push(Envelope {
            at,
            from: PLATFORM_SHARD,
            to_shard: store_shard(store),
            to: self.offices[usize::from(store.0)],
            msg: PlatformMsg::Down(msg),
        });
    }
}

pub struct Platform {
    pub spec: Arc<ChainSpec>,
    pub inventory: Inventory,
    pub orders: OrderCentre,
    pub down: Downlink,
}

impl Platform {
    /// The centres of `spec`; `offices[s]` is the office actor of store `s` in its shard.
    pub fn new(spec: Arc<ChainSpec>, offices: Vec<ActorId>) -> Platform {
        let links = (0..spec.stores.len()).map(|s| Link::of(&spec, StoreIdx(s as u16))).collect();
        Platform {
            inventory: Inventory::new(&spec),
            orders: OrderCentre::new(&spec),
            down: Downlink { links, offices, outbox: Vec::new(), sent: 0, held: 0 },
            spec,
        }
    }
}

impl Model for Platform {
    type Msg = CentreMsg;

    fn actor_count(&self) -> u32 {
        ACTORS
    }

    fn start(&mut self, ctx: &mut Context<'_, CentreMsg>) {
        if ctx.me() == ORDERS {
            for segment in 0..self.spec.online.len() {
                let u = ctx.rng().random::<f64>();
                if let Some(first) = orders::first_arrival(&self.spec, segment, u) {
                    ctx.schedule(
                        first.saturating_since(ctx.now()),
                        CentreMsg::OnlineArrival { segment: segment as u16 },
                    );
                }
            }
        }
    }

    fn handle(&mut self, msg: CentreMsg, ctx: &mut Context<'_, CentreMsg>) {
        let result = match ctx.me() {
            INVENTORY => match msg {
                CentreMsg::FromStore { from, msg: Up::StockLevel { sku, available } } => {
                    self.inventory.set(from, sku, available);
                    Ok(())
                }
                CentreMsg::Allocate { store, sku } => {
                    self.inventory.allocate(store, sku);
                    Ok(())
                }
                other => Err(format!("inventory centre got {other:?}")),
            },
            ORDERS => match msg {
                CentreMsg::OnlineArrival { segment } => {
                    self.orders.online_arrival(&self.spec, usize::from(segment), &self.inventory, &mut self.down, ctx);
                    Ok(())
                }
                other => self.orders.handle(other, &self.spec, &self.inventory, &mut self.down, ctx),
            },
            other => Err(format!("centre {other} got {msg:?}, which it does not handle yet")),
        };
        if let Err(detail) = result {
            ctx.fail("platform protocol", detail);
        }
    }
}

impl ShardModel for Platform {
    type Remote = PlatformMsg;

    fn take_outbox(&mut self, out: &mut Vec<Envelope<PlatformMsg>>) {
        out.append(&mut self.down.outbox);
    }

    fn remote_msg(&mut self, msg: PlatformMsg) -> Result<CentreMsg, String> {
        match msg {
            PlatformMsg::Up { from, msg } => Ok(CentreMsg::FromStore { from, msg }),
            PlatformMsg::Down(d) => Err(format!("the centres got a message for a store: {d:?}")),
        }
    }
}
