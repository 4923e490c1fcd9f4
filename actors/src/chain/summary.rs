//! The KPIs of a chain run: chain totals, every store's own KPIs (as for one store) with
//! its online-order work, and the centres' figures (orders by channel, and the coupon,
//! member and settlement books), and the units in transit between stores for kiosk
//! orders shipped to the store they were placed in.

use serde::Serialize;

use crate::chain::channel::Channel;
use crate::chain::members::{LevelIdx, MemberCentre};
use crate::chain::orders::{OrderCentre, Source, Status};
use crate::chain::run::{ChainRun, StoreRun};
use crate::chain::settlement::Settlement;
use crate::chain::spec::{ChainSpec, Fulfilment, StoreIdx};
use crate::store::spec::Payment;
use crate::store::summary::StoreKpis;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ChainKpis {
    pub chain: ChainTotals,
    pub stores: Vec<ChainStoreKpis>,
    pub orders: OrderKpis,
    pub transfers: TransferKpis,
    pub members: MemberKpis,
    pub settlement: SettlementKpis,
    pub coupons: Vec<CampaignKpis>,
}

/// Ship to store: kiosk orders sent from the store that had the item to the store they
/// were placed in, and collected there.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TransferKpis {
    /// Kiosk orders whose shopper chose to collect at the store (ship to store), and to
    /// have it delivered home.
    pub kiosk_collect_orders: u64,
    pub kiosk_deliver_orders: u64,
    /// Transfers (one per order) the fulfilling stores sent, the ordering stores received,
    /// and still in transit at the close (as the order centre has them).
    pub sent: u64,
    pub received: u64,
    pub in_transit_at_close: u64,
    /// Units sent and received, and in transit at the close (sent, not received).
    pub units_sent: u64,
    pub units_received: u64,
    pub units_in_transit_at_close: u64,
    /// Seconds from sent to received, as the order centre heard of each (received
    /// transfers only).
    pub transfer_p50_s: f64,
    pub transfer_p90_s: f64,
    pub transfer_p99_s: f64,
    /// How the received ones fared at the ordering store's pickup counter: collected,
    /// expired (their units went into its back room), still waiting at the close.
    pub collected: u64,
    pub expired_into_back_room: u64,
    pub waiting_at_counter_at_close: u64,
}

/// One coupon campaign's funnel and money (major units).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CampaignKpis {
    pub name: String,
    pub kind: String,
    pub issue: String,
    /// Claimed = issued (a coupon is issued to the member who claims it).
    pub issued: u32,
    pub redeemed: u32,
    pub expired: u32,
    pub released: u32,
    /// Redemptions reversed (an online order refunded, a till that gave up waiting).
    pub reversed: u32,
    /// Of `redeemed`, those on online orders, and their discount (major units).
    pub redeemed_online: u32,
    pub online_discount: f64,
    pub claims_refused: u32,
    pub redemptions_refused: u32,
    pub budget_total: Option<f64>,
    pub budget_used: f64,
    pub funded_by_hq: f64,
    pub funded_by_franchisees: f64,
    pub funded_by_brands: f64,
    /// The discounts settlement booked for the campaign's funders: the budget used, less
    /// what was on its way to settlement at close (a coupon a store accepted offline and the
    /// centre refused is an offline loss of the store's owner, not the campaign's).
    pub settled_discounts: f64,
}

/// How members joined during the run.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RegistrationKpis {
    pub total: u64,
    /// At the stores' WiFi portals, and per store (in store order).
    pub in_store: u64,
    pub by_store: Vec<StoreCount>,
    /// Online guests who registered when ordering.
    pub online: u64,
    /// Friends referred by members who joined.
    pub referred: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StoreCount {
    pub store: String,
    pub count: u64,
}

/// Members' referrals: friends referred after a purchase, and those who joined (each
/// earning the referrer the referral campaigns' coupons).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ReferralKpis {
    pub referred: u64,
    pub joined: u64,
    pub conversion: f64,
}

/// Coupons stores accepted offline (or after a timeout) that the centre refused: each
/// store's owner bears them (major units).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct OfflineLossKpis {
    pub coupons: u32,
    pub total: f64,
    pub borne_by_hq: f64,
    pub borne_by_franchisees: f64,
    /// Stores with a loss.
    pub by_store: Vec<StoreOfflineLoss>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StoreOfflineLoss {
    pub store: String,
    /// "franchisee" or "hq".
    pub borne_by: String,
    pub coupons: u32,
    pub amount: f64,
}

/// Points across channels (whole points).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MemberKpis {
    /// Members at the end of the run, and at its start (the difference: registrations).
    pub population: u32,
    pub population_at_open: u32,
    pub registrations: RegistrationKpis,
    pub referrals: ReferralKpis,
    pub earned: u64,
    pub redeemed: u64,
    pub returned: u64,
    pub outstanding: u64,
    pub by_level: Vec<PointsBy>,
    pub by_channel: Vec<PointsBy>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PointsBy {
    pub name: String,
    pub members: Option<u32>,
    pub earns: u64,
    pub earned: u64,
    pub redemptions: u64,
    pub redeemed: u64,
}

/// The money of the day, settled (major units), and the reconciliation.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SettlementKpis {
    pub payments: i64,
    pub gross: f64,
    pub discounts: f64,
    pub paid: f64,
    pub fees: f64,
    /// Net positions: what each party ends the day with.
    pub hq_net: f64,
    pub franchisees_net: f64,
    pub payment_channels_net: f64,
    pub brands_net: f64,
    /// Who funded the discounts.
    pub funded_by_hq: f64,
    pub funded_by_franchisees: f64,
    pub funded_by_brands: f64,
    pub points_discounts: f64,
    pub offline_losses: OfflineLossKpis,
    pub by_store: Vec<StoreSettlement>,
    pub reconciliation: Reconciled,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StoreSettlement {
    pub store: String,
    pub paid: f64,
    pub fees: f64,
    pub hq_net: f64,
    /// `None` for an HQ-owned store.
    pub franchisee_net: Option<f64>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Reconciled {
    /// Every identity checked, and whether all hold exactly (to the cent).
    pub identities: usize,
    pub holds: bool,
    pub broken: Vec<String>,
}

/// Sums over the stores (money in major units).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ChainTotals {
    pub stores: u32,
    pub shoppers_in_store: u64,
    pub buyers: u64,
    pub sales: f64,
    pub payments: f64,
    pub discounts: f64,
    pub items_sold: u64,
    pub lost_sales_value: f64,
    pub online_orders: u64,
    pub online_value: f64,
    pub kiosk_orders: u64,
    /// Messages between stores and centres, and the shards' time windows.
    pub platform_messages: u64,
    pub windows: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ChainStoreKpis {
    pub name: String,
    /// The store's own KPIs, exactly as a one-store run reports them.
    #[serde(flatten)]
    pub kpis: StoreKpis,
    pub online: StoreOrderKpis,
}

/// A store's share of the online work: its pickers and pickup counter.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StoreOrderKpis {
    pub pickers: u32,
    pub pickup_staff: u32,
    pub orders_accepted: u64,
    pub orders_short: u64,
    pub orders_picked: u64,
    pub share_picked_within_target: f64,
    pub mean_pick_s: f64,
    pub picker_utilisation: f64,
    pub collected: u64,
    pub mean_counter_wait_s: f64,
    pub expired: u64,
    pub no_shows: u64,
    pub dispatched: u64,
    /// Ship to store: transfers this store fulfilled and sent, and received for its kiosk
    /// orders (orders and units).
    pub transfers_sent: u64,
    pub transfer_units_sent: u64,
    pub transfers_received: u64,
    pub transfer_units_received: u64,
    pub open_at_close: u64,
    pub reserved_units_at_close: u64,
    pub messages_sent: u64,
    pub messages_held_by_partition: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct OrderKpis {
    /// Every source together, then one entry per channel (app, mini-program, web, kiosk).
    pub all: ChannelOrders,
    pub by_channel: Vec<ChannelOrders>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ChannelOrders {
    pub channel: String,
    pub orders: u64,
    pub value: f64,
    pub rerouted: u64,
    pub picked: u64,
    pub pick_p50_s: f64,
    pub pick_p90_s: f64,
    pub pick_p99_s: f64,
    pub share_picked_within_target: f64,
    pub collected: u64,
    pub delivered: u64,
    pub expired: u64,
    pub cancelled: u64,
    /// Still under way when the run ended, by state.
    pub open_routed: u64,
    pub open_picking: u64,
    pub open_ready: u64,
    pub open_dispatched: u64,
    pub open_in_transit: u64,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn store_orders(s: &StoreRun, day_s: f64) -> StoreOrderKpis {
    let k = &s.office;
    StoreOrderKpis {
        pickers: s.pickers,
        pickup_staff: s.pickup_staff,
        orders_accepted: k.orders_accepted,
        orders_short: k.orders_short,
        orders_picked: k.orders_picked,
        share_picked_within_target: ratio(k.picked_within_target, k.orders_picked),
        mean_pick_s: if k.orders_picked == 0 { 0.0 } else { k.pick_s_total / k.orders_picked as f64 },
        picker_utilisation: if s.pickers == 0 { 0.0 } else { k.picker_busy_s / (f64::from(s.pickers) * day_s) },
        collected: k.collected,
        mean_counter_wait_s: if k.collected == 0 { 0.0 } else { k.counter_wait_s_total / k.collected as f64 },
        expired: k.expired,
        no_shows: k.no_shows,
        dispatched: k.dispatched,
        transfers_sent: k.transfers_sent,
        transfer_units_sent: k.transfer_units_sent,
        transfers_received: k.transfers_received,
        transfer_units_received: k.transfer_units_received,
        open_at_close: s.open_orders,
        reserved_units_at_close: s.reserved_units,
        messages_sent: k.messages_sent,
        messages_held_by_partition: k.messages_held,
    }
}

fn channel(centre: &OrderCentre, source: Option<Source>) -> ChannelOrders {
    let sources: Vec<Source> = match source {
        Some(s) => vec![s],
        None => Source::ALL.to_vec(),
    };
    let mut hist = crate::store::metrics::wait_histogram();
    let mut c = ChannelOrders {
        channel: source.map_or("all", Source::name).to_string(),
        orders: 0,
        value: 0.0,
        rerouted: 0,
        picked: 0,
        pick_p50_s: 0.0,
        pick_p90_s: 0.0,
        pick_p99_s: 0.0,
        share_picked_within_target: 0.0,
        collected: 0,
        delivered: 0,
        expired: 0,
        cancelled: 0,
        open_routed: 0,
        open_picking: 0,
        open_ready: 0,
        open_dispatched: 0,
        open_in_transit: 0,
    };
    let mut within = 0;
    for s in &sources {
        let st = &centre.stats[s.index()];
        c.orders += st.placed;
        c.value += st.value.as_major();
        c.rerouted += st.rerouted;
        c.picked += st.picked;
        within += st.picked_within_target;
        c.collected += st.collected;
        c.delivered += st.delivered;
        c.expired += st.expired;
        c.cancelled += st.cancelled;
        hist.add(&st.pick_ms).expect("histograms of one shape add");
        let by = centre.by_status(Some(*s));
        c.open_routed += by[Status::Routed as usize];
        c.open_picking += by[Status::Accepted as usize];
        c.open_ready += by[Status::Ready as usize];
        c.open_dispatched += by[Status::Dispatched as usize];
        c.open_in_transit += by[Status::InTransit as usize];
    }
    c.share_picked_within_target = ratio(within, c.picked);
    if !hist.is_empty() {
        c.pick_p50_s = hist.value_at_quantile(0.5) as f64 / 1000.0;
        c.pick_p90_s = hist.value_at_quantile(0.9) as f64 / 1000.0;
        c.pick_p99_s = hist.value_at_quantile(0.99) as f64 / 1000.0;
    }
    c
}

impl ChainRun {
    /// The run's KPIs.
    pub fn kpis(&self) -> ChainKpis {
        let day_s = self.end.as_secs_f64().max(1.0);
        let stores: Vec<ChainStoreKpis> = self
            .stores
            .iter()
            .map(|s| ChainStoreKpis { name: s.name.clone(), kpis: s.day.kpis.clone(), online: store_orders(s, day_s) })
            .collect();
        let centre = &self.platform.orders;
        let all = channel(centre, None);
        let sum = |f: fn(&StoreKpis) -> f64| stores.iter().map(|s| f(&s.kpis)).sum::<f64>();
        let sumu = |f: fn(&StoreKpis) -> u64| stores.iter().map(|s| f(&s.kpis)).sum::<u64>();
        let kiosk = &centre.stats[Source::Kiosk.index()];
        let chain = ChainTotals {
            stores: stores.len() as u32,
            shoppers_in_store: sum(|k| k.footfall.truth) as u64,
            buyers: sumu(|k| k.buyers),
            sales: sum(|k| k.sales),
            payments: sum(|k| k.payments),
            discounts: sum(|k| k.discounts),
            items_sold: sumu(|k| k.items_sold),
            lost_sales_value: sum(|k| k.lost_sales.values().map(|l| l.value).sum()),
            online_orders: all.orders - kiosk.placed,
            // Summed in cents: exactly the same in two variants with the same online orders.
            online_value: Source::ALL
                .iter()
                .filter(|s| **s != Source::Kiosk)
                .fold(crate::money::Cents::ZERO, |v, s| v + centre.stats[s.index()].value)
                .as_major(),
            kiosk_orders: kiosk.placed,
            platform_messages: self.messages,
            windows: self.windows,
        };
        ChainKpis {
            chain,
            stores,
            orders: OrderKpis { all, by_channel: Source::ALL.iter().map(|s| channel(centre, Some(*s))).collect() },
            transfers: self.transfer_kpis(),
            members: members(&self.platform, &self.platform.spec),
            settlement: settlement(&self.platform.settlement, &self.platform.spec),
            coupons: coupons(&self.platform),
        }
    }
}

impl ChainRun {
    fn transfer_kpis(&self) -> TransferKpis {
        let centre = &self.platform.orders;
        let mut hist = crate::store::metrics::wait_histogram();
        let (mut sent, mut received) = (0, 0);
        for st in &centre.stats {
            sent += st.transfers_sent;
            received += st.transfers_received;
            hist.add(&st.transfer_ms).expect("histograms of one shape add");
        }
        let to_store = |status: Status| {
            centre.orders.iter().filter(|o| o.fulfilment == Fulfilment::ShipToStore && o.status == status).count()
                as u64
        };
        let quantile = |q: f64| if hist.is_empty() { 0.0 } else { hist.value_at_quantile(q) as f64 / 1000.0 };
        let units = |f: fn(&StoreRun) -> u64| self.stores.iter().map(f).sum::<u64>();
        let collect: u64 = units(|s| s.office.kiosk_collect_orders);
        TransferKpis {
            kiosk_collect_orders: collect,
            kiosk_deliver_orders: units(|s| s.office.kiosk_orders_sent).saturating_sub(collect),
            sent,
            received,
            in_transit_at_close: to_store(Status::InTransit),
            units_sent: self.transfers.sent.iter().sum(),
            units_received: self.transfers.received.iter().sum(),
            units_in_transit_at_close: self.transfers.in_transit(),
            transfer_p50_s: quantile(0.5),
            transfer_p90_s: quantile(0.9),
            transfer_p99_s: quantile(0.99),
            collected: to_store(Status::Collected),
            expired_into_back_room: to_store(Status::Expired),
            waiting_at_counter_at_close: to_store(Status::Ready),
        }
    }
}

fn members(p: &crate::chain::platform::Platform, spec: &ChainSpec) -> MemberKpis {
    let m: &MemberCentre = &p.members;
    let t = m.totals();
    let r = m.registrations();
    let in_store_of = |i: usize| r.in_store.get(i).copied().unwrap_or(0);
    let by = |name: String, members: Option<u32>, c: &crate::chain::members::PointCounters| PointsBy {
        name,
        members,
        earns: c.earns,
        earned: c.earned,
        redemptions: c.redemptions,
        redeemed: c.redeemed,
    };
    MemberKpis {
        population: m.population(),
        population_at_open: m.population_at_open(),
        registrations: RegistrationKpis {
            total: r.total(),
            in_store: r.in_store.iter().sum(),
            by_store: spec
                .stores
                .iter()
                .enumerate()
                .map(|(i, s)| StoreCount { store: s.name.clone(), count: in_store_of(i) })
                .collect(),
            online: r.online.iter().sum(),
            referred: r.referred,
        },
        referrals: ReferralKpis {
            referred: p.counts.referrals,
            joined: p.counts.referrals_joined,
            conversion: ratio(p.counts.referrals_joined, p.counts.referrals),
        },
        earned: t.earned,
        redeemed: t.redeemed,
        returned: t.returned,
        outstanding: m.outstanding(),
        by_level: (0..m.level_count())
            .map(|l| {
                let level = LevelIdx(l as u8);
                by(spec.members.levels[l].name.clone(), Some(m.level_members(level)), m.by_level(level))
            })
            .collect(),
        by_channel: Channel::ALL.iter().map(|c| by(c.name().to_string(), None, m.by_channel(*c))).collect(),
    }
}

fn settlement(s: &Settlement, spec: &ChainSpec) -> SettlementKpis {
    let c = s.chain();
    let r = s.reconcile();
    let franchisees_net: f64 =
        (0..spec.stores.len()).filter_map(|i| s.franchisee_net(StoreIdx(i as u16))).map(|c| c.as_major()).sum();
    SettlementKpis {
        payments: c.payments,
        gross: c.gross.as_major(),
        discounts: c.discounts.as_major(),
        paid: c.paid.as_major(),
        fees: c.fee.as_major(),
        hq_net: s.hq_net().as_major(),
        franchisees_net,
        payment_channels_net: Payment::ALL.iter().map(|m| s.channel_net(*m).as_major()).sum(),
        brands_net: s.brand_net().as_major(),
        funded_by_hq: c.hq_funded.as_major(),
        funded_by_franchisees: c.franchisee_funded.as_major(),
        funded_by_brands: c.brand_funded.as_major(),
        points_discounts: s.points().amount.as_major(),
        offline_losses: offline_losses(s, spec),
        by_store: spec
            .stores
            .iter()
            .enumerate()
            .map(|(i, store)| {
                let idx = StoreIdx(i as u16);
                let f = s.store(idx);
                StoreSettlement {
                    store: store.name.clone(),
                    paid: f.paid.as_major(),
                    fees: f.fee.as_major(),
                    hq_net: f.hq_net().as_major(),
                    franchisee_net: s.franchisee_net(idx).map(|c| c.as_major()),
                }
            })
            .collect(),
        reconciliation: Reconciled {
            identities: r.identities.len(),
            holds: r.holds(),
            broken: r.broken().map(|i| i.detail()).collect(),
        },
    }
}

fn offline_losses(s: &Settlement, spec: &ChainSpec) -> OfflineLossKpis {
    let mut k =
        OfflineLossKpis { coupons: 0, total: 0.0, borne_by_hq: 0.0, borne_by_franchisees: 0.0, by_store: Vec::new() };
    for (i, store) in spec.stores.iter().enumerate() {
        let loss = s.offline_losses(StoreIdx(i as u16));
        if loss.count == 0 && loss.amount.0 == 0 {
            continue;
        }
        k.coupons += u32::try_from(loss.count).unwrap_or(0);
        k.total += loss.amount.as_major();
        k.borne_by_hq += loss.hq.as_major();
        k.borne_by_franchisees += loss.franchisee.as_major();
        k.by_store.push(StoreOfflineLoss {
            store: store.name.clone(),
            borne_by: if store.franchise_bps.is_some() { "franchisee" } else { "hq" }.into(),
            coupons: u32::try_from(loss.count).unwrap_or(0),
            amount: loss.amount.as_major(),
        });
    }
    k
}

fn coupons(p: &crate::chain::platform::Platform) -> Vec<CampaignKpis> {
    let online = crate::chain::txn::TxnSource::online(p.spec.stores.len());
    let mut redeemed_online = vec![(0u32, crate::money::Cents::ZERO); p.spec.campaigns.len()];
    for c in p.coupons.coupons() {
        if let crate::chain::coupons::SerialState::Used { txn, discount } = c.state
            && txn.source == online
        {
            let r = &mut redeemed_online[usize::from(c.campaign.0)];
            r.0 += 1;
            r.1 += discount;
        }
    }
    p.spec
        .campaigns
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let id = crate::chain::spec::CampaignId(i as u16);
            let c = p.coupons.counters(id).cloned().unwrap_or_default();
            CampaignKpis {
                name: spec.name.clone(),
                kind: format!("{:?}", spec.kind).split([' ', '{']).next().unwrap_or("").to_lowercase(),
                issue: spec.issue.name().to_string(),
                issued: c.issued,
                redeemed: c.redeemed,
                expired: c.expired,
                released: c.released,
                reversed: c.reversed,
                redeemed_online: redeemed_online[i].0,
                online_discount: redeemed_online[i].1.as_major(),
                claims_refused: c.claim_refused.iter().sum(),
                redemptions_refused: c.lock_refused.iter().sum::<u32>() + c.redeem_refused.iter().sum::<u32>(),
                budget_total: spec.budget_total.map(|b| b.as_major()),
                budget_used: c.budget_used.as_major(),
                funded_by_hq: c.funded.hq.as_major(),
                funded_by_franchisees: c.funded.franchisee.as_major(),
                funded_by_brands: c.funded.brand.as_major(),
                settled_discounts: p.settlement.campaign(id).amount.as_major(),
            }
        })
        .collect()
}
