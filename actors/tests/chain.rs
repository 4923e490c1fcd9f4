//! A chain of stores and its centres, run as shards.

mod support;

use storetwin_actors::chain::orders::{Source, Status};
use storetwin_actors::chain::run::{StockAtClose, run_chain};
use storetwin_actors::chain::spec::{Fulfilment, OnlineChannel, StoreIdx};
use storetwin_actors::store::spec::SkuId;
use storetwin_engine::Seed;

#[test]
fn a_chain_run_is_the_same_on_any_number_of_threads() {
    let spec = support::small_chain();
    let one = run_chain(&spec, Seed(7), 1).expect("chain run");
    assert!(one.messages > 500, "stores and centres talk ({} messages)", one.messages);
    for threads in [2, 4] {
        let other = run_chain(&spec, Seed(7), threads).expect("chain run");
        assert_eq!(one.shard_hashes, other.shard_hashes, "{threads} threads");
        assert_eq!(one.event_hash, other.event_hash);
        assert_eq!(one.events, other.events);
        assert_eq!(one.platform.orders.by_status(None), other.platform.orders.by_status(None));
        for (a, b) in one.stores.iter().zip(&other.stores) {
            assert_eq!(a.day.kpis.sales, b.day.kpis.sales);
            assert_eq!(a.office, b.office);
        }
    }
    let again = run_chain(&spec, Seed(8), 2).expect("chain run");
    assert_ne!(one.event_hash, again.event_hash, "the seed matters");
}

#[test]
fn online_orders_live_their_whole_life_for_each_fulfilment() {
    let mut spec = support::small_chain();
    // Three in ten pickup customers never come (about eight expired orders expected on the
    // day, so that some expire is no matter of luck).
    spec.platform.pickup_no_show = 0.3;
    let run = run_chain(&spec, Seed(3), 2).expect("chain run");
    let orders = &run.platform.orders;
    let ended = |f: Fulfilment, status: Status| {
        orders
            .orders
            .iter()
            .filter(|o| o.fulfilment == f && o.status == status && matches!(o.source, Source::Online(_)))
            .count()
    };
    assert!(ended(Fulfilment::Pickup, Status::Collected) > 5, "pickup orders are collected");
    assert!(ended(Fulfilment::SameCity, Status::Delivered) > 3, "same-city orders are delivered");
    assert!(ended(Fulfilment::ShipFromStore, Status::Delivered) > 1, "ship-from-store orders are delivered");
    // The no-shows' orders expire and their stock returns.
    assert!(ended(Fulfilment::Pickup, Status::Expired) > 0, "no-shows expire");
    let app = &orders.stats[Source::Online(OnlineChannel::App).index()];
    assert!(app.placed > 20 && app.picked > 0);
    assert!(app.picked_within_target <= app.picked);
    // Every order is in exactly one state (checked at the end of the run as an invariant).
    assert_eq!(orders.by_status(None).iter().sum::<u64>(), orders.orders.len() as u64);
    // What the stores picked, the centre heard about (those under way at the end excepted).
    let store_picked: u64 = run.stores.iter().map(|s| s.office.orders_picked).sum();
    let centre_picked: u64 = orders.stats.iter().map(|s| s.picked).sum();
    assert!(store_picked >= centre_picked && store_picked - centre_picked <= 3, "{store_picked} vs {centre_picked}");
}

#[test]
fn during_a_partition_messages_wait_and_nothing_is_lost() {
    let spec = support::small_chain();
    let run = run_chain(&spec, Seed(11), 2).expect("chain run");
    let cut = &run.stores[1];
    assert!(cut.office.messages_held > 0, "the cut-off store's messages waited for the link");
    assert_eq!(run.stores[0].office.messages_held, 0);
    assert!(run.platform.down.held > 0, "the centres' messages to it waited too");
    // Orders routed to it during the partition were still served after it.
    assert!(cut.office.orders_accepted > 0);
    let orders = &run.platform.orders;
    assert_eq!(orders.by_status(None).iter().sum::<u64>(), orders.orders.len() as u64);
}

#[test]
fn coupons_are_claimed_redeemed_within_budget_and_settled() {
    let mut spec = support::small_chain();
    // Most shoppers are app-using members, so many hold coupons when the partition starts.
    for store in &mut spec.stores {
        for seg in &mut store.world.store.segments {
            seg.member_share = 0.9;
            seg.app_share = 0.9;
        }
    }
    let run = run_chain(&spec, Seed(5), 2).expect("chain run");
    let k = run.kpis();
    let [dairy, wifi] = &k.coupons[..] else { panic!("two campaigns") };
    assert!(dairy.issued > 10 && dairy.redeemed > 5, "{dairy:?}");
    assert!(wifi.issued > 10 && wifi.redeemed > 5, "{wifi:?}");
    // The brand-funded campaign stops at its budget of 150.00 (a coupon gives at most 5.00,
    // less on a smaller basket): redemptions past it are refused.
    assert!(wifi.budget_used <= 150.0 && wifi.budget_used > 140.0, "{wifi:?}");
    assert!(wifi.redemptions_refused > 0, "{wifi:?}");
    assert_eq!(wifi.funded_by_brands, wifi.budget_used);
    assert!((dairy.funded_by_hq - dairy.funded_by_franchisees).abs() <= 0.01 * f64::from(dairy.redeemed));
    // Every discount the tills gave reached settlement, campaign by campaign (settlement
    // also holds the online orders' coupons, and the offline losses).
    let given: f64 = run.stores.iter().map(|s| s.office.discount_given as f64 / 100.0).sum();
    let online: f64 = k.coupons.iter().map(|c| c.online_discount).sum();
    let settled: f64 =
        k.coupons.iter().map(|c| c.settled_discounts).sum::<f64>() + k.settlement.offline_losses.total - online;
    assert!((given - settled).abs() < 0.005, "tills gave {given:.2}, settlement booked {settled:.2}");
    assert!((k.chain.discounts - given).abs() < 0.005);
    // The partitioned store refuses coupons while offline (its policy).
    assert!(run.stores[1].office.coupons_refused_offline > 0, "{:?}", run.stores[1].office);
    assert!(k.settlement.reconciliation.holds, "{:?}", k.settlement.reconciliation.broken);
}

#[test]
fn a_store_that_accepts_coupons_offline_syncs_them_when_the_link_is_back() {
    let mut spec = support::small_chain();
    for store in &mut spec.stores {
        for seg in &mut store.world.store.segments {
            seg.member_share = 0.9;
            seg.app_share = 0.9;
        }
    }
    spec.stores[1].offline_coupons = storetwin_actors::chain::spec::OfflineCoupons::AcceptAndSync;
    let run = run_chain(&spec, Seed(5), 2).expect("chain run");
    let cut = &run.stores[1].office;
    assert!(cut.coupons_accepted_offline > 0, "{cut:?}");
    assert_eq!(cut.coupons_refused_offline, 0);
    // Every redemption asked for was answered (granted, refused online, or an offline
    // conflict), none twice.
    assert_eq!(cut.redemptions_asked, cut.redemptions_granted + cut.redemptions_refused + cut.offline_conflicts);
    let k = run.kpis();
    assert!(k.settlement.reconciliation.holds, "{:?}", k.settlement.reconciliation.broken);
}

/// A 1.00 pickup coupon for new members (register to get) and a 2.00 reward for a member
/// whose referred friend joins.
fn member_campaigns() -> Vec<storetwin_actors::chain::spec::CampaignSpec> {
    use storetwin_actors::Cents;
    use storetwin_actors::chain::spec::*;
    let base = support::small_chain_campaigns().remove(0);
    let welcome = CampaignSpec {
        name: "pickup-welcome".into(),
        kind: CouponKind::Pickup { off: Cents(1_00) },
        scope: CouponScope::All,
        issue: IssueChannel::RegisterToGet,
        claim_share: 1.0,
        class: StackClass::Service,
        combines_with: vec![StackClass::Product, StackClass::Order],
        order: 5,
        funding: Funding { hq_bps: 10_000, franchisee_bps: 0, brand_bps: 0 },
        ..base.clone()
    };
    let referral = CampaignSpec {
        name: "refer-a-friend".into(),
        kind: CouponKind::Cash { off: Cents(2_00) },
        issue: IssueChannel::Referral,
        claim_share: 1.0,
        class: StackClass::Order,
        combines_with: vec![StackClass::Product, StackClass::Service],
        order: 6,
        per_member_limit: 100,
        funding: Funding { hq_bps: 10_000, franchisee_bps: 0, brand_bps: 0 },
        ..base
    };
    vec![welcome, referral]
}

fn busy_members(spec: &mut storetwin_actors::chain::spec::ChainSpec) {
    for store in &mut spec.stores {
        for seg in &mut store.world.store.segments {
            seg.member_share = 0.9;
            seg.app_share = 0.9;
        }
    }
}

/// Guests online and app users at the WiFi portal register; each new member gets the
/// next id and the register-to-get pickup coupon, which online pickup orders redeem (and
/// only they); members refer friends, and a friend who joins earns the referrer the
/// referral coupon. Every end-of-run invariant holds (the run would fail otherwise).
#[test]
fn registrations_and_referrals_issue_their_coupons() {
    use storetwin_actors::chain::coupons::SerialState;
    use storetwin_actors::chain::txn::TxnSource;
    let mut spec = support::small_chain();
    spec.campaigns.extend(member_campaigns());
    spec.members.register_share = 0.5;
    spec.members.referral_share = 0.2;
    for seg in &mut spec.online {
        seg.member_share = 0.3;
        seg.fulfilment = [0.8, 0.2, 0.0];
    }
    let run = run_chain(&spec, Seed(5), 2).expect("chain run");
    let p = &run.platform;
    let r = p.members.registrations();
    let online: u64 = r.online.iter().sum();
    let in_store: u64 = r.in_store.iter().sum();
    assert!(online > 10 && in_store > 10, "{r:?}");
    assert_eq!(u64::from(p.members.population()), u64::from(spec.members.population) + r.total());
    let stores_registered: u64 = run.stores.iter().map(|s| s.office.registrations).sum();
    assert_eq!(stores_registered, in_store, "every in-store registration was answered");
    // Each registration was offered the welcome coupon (claim share 1, one per member).
    let k = run.kpis();
    let welcome = &k.coupons[2];
    assert_eq!(u64::from(welcome.issued), r.total(), "{welcome:?}");
    assert!(welcome.redeemed > 5, "{welcome:?}");
    let online_source = TxnSource::online(spec.stores.len());
    for c in p.coupons.coupons().iter().filter(|c| c.campaign.0 == 2) {
        assert!(c.member.0 >= spec.members.population, "a welcome coupon goes to a new member");
        if let SerialState::Used { txn, .. } = c.state {
            assert_eq!(txn.source, online_source, "pickup coupons are redeemed online");
            let order = &p.orders.orders[txn.seq as usize];
            assert_eq!(order.fulfilment, Fulfilment::Pickup);
            assert_eq!(order.member, Some(c.member.0));
        }
    }
    // Referrals: the reward follows the friend's registration, once per friend.
    assert!(p.counts.referrals > 20 && p.counts.referrals_joined > 5, "{:?}", p.counts);
    assert_eq!(r.referred, p.counts.referrals_joined);
    let reward = &k.coupons[3];
    assert_eq!(u64::from(reward.issued), p.counts.referrals_joined, "{reward:?}");
    assert_eq!(k.members.registrations.referred, p.counts.referrals_joined);
    assert!(k.settlement.reconciliation.holds, "{:?}", k.settlement.reconciliation.broken);
}

/// Online member orders take the best coupons of the member's wallet; what the coupon
/// centre charged each campaign is exactly what settlement booked for it, and an order
/// refunded gives its coupons back.
#[test]
fn online_orders_redeem_coupons_and_refunds_give_them_back() {
    let mut spec = support::small_chain();
    busy_members(&mut spec);
    spec.campaigns.extend(member_campaigns());
    spec.members.register_share = 0.6;
    for seg in &mut spec.online {
        seg.member_share = 0.3;
        seg.fulfilment = [0.8, 0.2, 0.0];
        seg.orders_per_hour = vec![30.0; 4];
    }
    spec.platform.pickup_no_show = 0.4;
    let run = run_chain(&spec, Seed(9), 2).expect("chain run");
    let p = &run.platform;
    assert!(p.counts.online_coupons_redeemed > 10, "{:?}", p.counts);
    assert!(p.counts.online_coupons_given_back > 0, "{:?}", p.counts);
    let k = run.kpis();
    let given_back: u32 = k.coupons.iter().map(|c| c.reversed).sum();
    assert_eq!(u64::from(given_back), p.counts.online_coupons_given_back + p.counts.till_redemptions_reversed);
    assert_eq!(
        k.coupons.iter().map(|c| u64::from(c.redeemed_online)).sum::<u64>(),
        p.counts.online_coupons_redeemed - p.counts.online_coupons_given_back
    );
    if run.stores.iter().all(|s| s.office.paid_in_flight_at_close == 0) {
        for (i, c) in k.coupons.iter().enumerate() {
            let id = storetwin_actors::chain::spec::CampaignId(i as u16);
            let counters = p.coupons.counters(id).unwrap();
            assert_eq!(p.settlement.campaign(id).amount, counters.budget_used, "{c:?}");
        }
    }
    assert!(k.settlement.reconciliation.holds, "{:?}", k.settlement.reconciliation.broken);
}

/// Two stores accept coupons while offline (one HQ-owned, one franchised), each cut off for
/// a while; coupons the centre refuses afterwards are offline losses, borne by the store's
/// owner, and no campaign pays for them.
#[test]
fn coupons_refused_after_an_offline_acceptance_are_the_owners_loss() {
    use storetwin_actors::chain::spec::{OfflineCoupons, Partition, StoreIdx};
    use storetwin_engine::SimTime;
    let mut spec = support::small_chain();
    busy_members(&mut spec);
    // Few members, so the same member shops in two stores and a serial is redeemed twice.
    spec.members.population = 300;
    for s in [1, 2] {
        spec.stores[s].offline_coupons = OfflineCoupons::AcceptAndSync;
    }
    spec.partitions.push(Partition {
        store: Some(StoreIdx(2)),
        from: SimTime::from_secs(4000),
        to: SimTime::from_secs(7000),
    });
    spec.partitions[0].to = SimTime::from_secs(7000);
    let run = run_chain(&spec, Seed(5), 2).expect("chain run");
    let k = run.kpis();
    let s = &run.platform.settlement;
    for (i, store) in run.stores.iter().enumerate().skip(1) {
        let o = &store.office;
        assert!(o.offline_conflicts > 0, "store {i}: {o:?}");
        let loss = s.offline_losses(StoreIdx(i as u16));
        if o.paid_in_flight_at_close == 0 && o.coupon_answers_due_at_close == 0 {
            assert_eq!(loss.count, o.offline_conflicts as i64, "store {i}");
        }
        let owner = if i == 2 { loss.franchisee } else { loss.hq };
        assert!(owner > storetwin_actors::Cents::ZERO && owner == loss.amount, "store {i}: {loss:?}");
        assert_eq!(loss.brand, storetwin_actors::Cents::ZERO);
    }
    let by_owner = &k.settlement.offline_losses;
    assert!(by_owner.borne_by_hq > 0.0 && by_owner.borne_by_franchisees > 0.0, "{by_owner:?}");
    assert_eq!(u64::from(by_owner.coupons), run.platform.counts.offline_losses);
    // What the coupon centre charged a campaign is what settlement charged its funders.
    if run.stores.iter().all(|s| s.office.paid_in_flight_at_close == 0) {
        for i in 0..k.coupons.len() {
            let id = storetwin_actors::chain::spec::CampaignId(i as u16);
            assert_eq!(s.campaign(id).amount, run.platform.coupons.counters(id).unwrap().budget_used);
        }
    }
    assert!(k.settlement.reconciliation.holds, "{:?}", k.settlement.reconciliation.broken);
}

/// Links of 20 s and a 60 s coupon timeout, with a minute's partition every three minutes:
/// some redemptions are asked for just before a partition starts, and their answers are
/// held. The till gives up after the timeout: the refusing store gives the coupons back
/// (the centre reverses what it redeemed), the accepting store applies them; every late
/// answer is matched once, no serial stays locked, and every invariant holds.
#[test]
fn a_till_that_times_out_waiting_for_the_centre_reconciles_the_late_answer() {
    use storetwin_actors::chain::spec::{OfflineCoupons, Partition, StoreIdx};
    use storetwin_engine::{SimDuration, SimTime};
    let mut spec = support::small_chain();
    busy_members(&mut spec);
    spec.platform.latency_min = SimDuration::from_secs(20);
    spec.platform.latency_extra_s = storetwin_actors::Dist::Constant(0.0);
    spec.platform.coupon_timeout = SimDuration::from_secs(60);
    spec.stores[2].offline_coupons = OfflineCoupons::AcceptAndSync;
    spec.partitions.clear();
    for s in [1u16, 2] {
        for k in 0..70u64 {
            let from = 300 + 180 * k + u64::from(s) * 7;
            spec.partitions.push(Partition {
                store: Some(StoreIdx(s)),
                from: SimTime::from_secs(from),
                to: SimTime::from_secs(from + 60),
            });
        }
    }
    let run = run_chain(&spec, Seed(5), 2).expect("chain run");
    let refuse = &run.stores[1].office;
    let accept = &run.stores[2].office;
    assert!(refuse.coupon_timeouts > 0 && refuse.coupons_given_up > 0, "{refuse:?}");
    assert!(accept.coupon_timeouts > 0 && accept.coupons_accepted_on_timeout > 0, "{accept:?}");
    assert_eq!(run.stores[0].office.coupon_timeouts, 0, "a store never cut off never times out");
    for o in [refuse, accept] {
        // Every coupon asked for is answered exactly once (or still on its way at close).
        assert_eq!(
            o.redemptions_asked,
            o.redemptions_granted
                + o.redemptions_refused
                + o.offline_conflicts
                + o.late_granted_released
                + o.late_refused_released
                + o.coupon_answers_due_at_close,
            "{o:?}"
        );
    }
    assert_eq!(accept.coupons_given_up, 0);
    assert_eq!(refuse.coupons_accepted_on_timeout, 0);
    // What the refusing store gave up and the centre had granted, the centre reversed.
    assert_eq!(run.platform.counts.till_redemptions_reversed, refuse.late_granted_released);
    assert!(refuse.late_granted_released > 0, "{refuse:?}");
    // No serial is left locked by a till that gave up on it.
    for i in 0..spec.campaigns.len() {
        let c = run.platform.coupons.counters(storetwin_actors::chain::spec::CampaignId(i as u16)).unwrap();
        assert_eq!(c.locked, 0, "{c:?}");
    }
    let k = run.kpis();
    assert!(k.settlement.reconciliation.holds, "{:?}", k.settlement.reconciliation.broken);
}

/// [`support::small_chain`] in which every kiosk shopper collects at the store (ship to
/// store), transfers take 20 to 40 minutes, and the north store has none of SKU 3 (rolls),
/// so its shoppers who want rolls order them at the kiosk from the other two stores.
fn ship_to_store_chain(no_show: f64) -> storetwin_actors::chain::spec::ChainSpec {
    let mut spec = support::small_chain();
    spec.platform.kiosk_collect_share = 1.0;
    spec.platform.transfer_s = storetwin_actors::Dist::uniform(1200.0, 2400.0).unwrap();
    spec.platform.pickup_no_show = no_show;
    spec.platform.pickup_hold = storetwin_engine::SimDuration::from_secs(1800);
    let rolls = &mut spec.stores[0].world.store.catalogue[3];
    rolls.shelf = 0;
    rolls.back_room = 0;
    for seg in &mut spec.stores[0].world.store.segments {
        seg.substitute = 0.0;
        seg.endless_aisle = 1.0;
    }
    spec
}

#[test]
fn a_ship_to_store_order_is_picked_sent_received_and_collected() {
    let spec = ship_to_store_chain(0.0);
    let run = run_chain(&spec, Seed(3), 2).expect("chain run");
    let orders = &run.platform.orders;
    let north = StoreIdx(0);
    let to_north: Vec<_> = orders.orders.iter().filter(|o| o.source == Source::Kiosk && o.home == north).collect();
    assert!(to_north.len() > 10, "north's shoppers order rolls at the kiosk ({})", to_north.len());
    for o in &to_north {
        // Placed at north, fulfilled elsewhere, shipped to north.
        assert_eq!(o.fulfilment, Fulfilment::ShipToStore);
        assert_ne!(o.store, Some(north), "a kiosk order is never fulfilled where it was placed");
    }
    // The whole life: placed, routed, picked, sent, received at north, collected there.
    let collected: Vec<_> = to_north.iter().filter(|o| o.status == Status::Collected).collect();
    assert!(collected.len() > 5, "{} of {} collected", collected.len(), to_north.len());
    assert!(collected.iter().all(|o| o.transfer_sent_at.is_some_and(|t| t > o.placed_at)));
    let rolls_collected = collected.iter().filter(|o| o.lines == [SkuId(3)]).count() as u32;
    assert!(rolls_collected > 5);
    // North never had rolls: the rolls it handed over came in transfers.
    let stock = &run.stores[0].stock;
    assert!(stock.received[3] >= rolls_collected && stock.handed_over[3] >= rolls_collected, "{stock:?}");

    let t = run.kpis().transfers;
    // Sent = received + in transit, for orders and for units (one unit per kiosk order).
    assert!(t.sent > 10 && t.received > 5, "{t:?}");
    assert_eq!(t.sent, t.received + t.in_transit_at_close, "{t:?}");
    assert_eq!(t.units_sent, t.units_received + t.units_in_transit_at_close, "{t:?}");
    assert_eq!(t.units_sent, t.sent);
    assert_eq!(t.received, t.collected + t.expired_into_back_room + t.waiting_at_counter_at_close, "{t:?}");
    assert_eq!(t.kiosk_deliver_orders, 0);
    // Transfer times drawn from 20 to 40 minutes, plus the links' few tens of ms.
    assert!(t.transfer_p50_s > 1200.0 && t.transfer_p99_s < 2410.0, "{t:?}");
    // The stores' books add up to the chain's.
    let sum = |f: fn(&StockAtClose) -> &Vec<u32>| {
        run.stores.iter().map(|s| f(&s.stock).iter().map(|&u| u64::from(u)).sum::<u64>()).sum::<u64>()
    };
    assert_eq!((sum(|b| &b.sent), sum(|b| &b.received)), (t.units_sent, t.units_received));
    let office_sent: u64 = run.stores.iter().map(|s| s.office.transfers_sent).sum();
    assert_eq!(office_sent, t.sent);
}

#[test]
fn a_ship_to_store_order_not_collected_expires_into_the_ordering_stores_back_room() {
    // Nobody comes back: every transfer that arrives in time expires after its 30 minutes.
    let spec = ship_to_store_chain(1.0);
    let run = run_chain(&spec, Seed(3), 1).expect("chain run");
    let t = run.kpis().transfers;
    assert_eq!(t.collected, 0);
    assert!(t.expired_into_back_room > 5, "{t:?}");
    let orders = &run.platform.orders;
    let rolls_to_north = |status: Status| {
        orders
            .orders
            .iter()
            .filter(|o| o.fulfilment == Fulfilment::ShipToStore && o.home.0 == 0 && o.status == status)
            .map(|o| o.lines.iter().filter(|s| s.0 == 3).count() as u32)
            .sum::<u32>()
    };
    let (expired, waiting) = (rolls_to_north(Status::Expired), rolls_to_north(Status::Ready));
    assert!(expired > 5, "{expired} rolls expired at north");
    // North started with no rolls. Every roll it received waits at its counter or expired
    // into its back room, and so became north's own: on its shelf, in its back room, in a
    // basket, sold, reserved for another order, handed over or sent on.
    let north = &run.stores[0].stock;
    assert_eq!(north.initial[3], 0);
    assert_eq!(north.received[3], expired + waiting, "{north:?}");
    let own = north.shelf[3]
        + north.back_room[3]
        + north.in_baskets[3]
        + north.sold[3]
        + (north.reserved[3] - waiting)
        + north.handed_over[3]
        + north.sent[3];
    assert_eq!(own, expired, "{north:?}");
    assert!(north.back_room[3] + north.shelf[3] + north.sold[3] > 0, "the expired rolls are in north's stock");
}

#[test]
fn the_share_of_kiosk_orders_to_collect_follows_the_platform_setting() {
    for (share, expect_collect) in [(0.0, false), (1.0, true)] {
        let mut spec = support::small_chain();
        spec.platform.kiosk_collect_share = share;
        let run = run_chain(&spec, Seed(9), 1).expect("chain run");
        let kiosk: Vec<_> = run.platform.orders.orders.iter().filter(|o| o.source == Source::Kiosk).collect();
        assert!(kiosk.len() > 5, "{} kiosk orders", kiosk.len());
        let to_store = kiosk.iter().filter(|o| o.fulfilment == Fulfilment::ShipToStore).count();
        assert_eq!(to_store, if expect_collect { kiosk.len() } else { 0 }, "share {share}");
        let k = run.kpis().transfers;
        assert_eq!(k.kiosk_collect_orders + k.kiosk_deliver_orders, kiosk.len() as u64);
    }
}

#[test]
fn the_online_orders_are_the_same_whatever_the_stores_do_with_them() {
    // Common random numbers: a variant with fewer pickers (so kiosk transfers leave and
    // arrive at other times, and the centres send other messages when) sees the same
    // online orders.
    let spec = support::small_chain();
    let mut fewer = spec.clone();
    for store in &mut fewer.stores {
        store.pickers = 1;
    }
    let online = |spec: &storetwin_actors::chain::spec::ChainSpec| {
        let run = run_chain(spec, Seed(4), 1).expect("chain run");
        run.platform
            .orders
            .orders
            .iter()
            .filter(|o| matches!(o.source, Source::Online(_)))
            .map(|o| (o.placed_at, o.home, o.lines.clone(), o.fulfilment, o.member, o.method))
            .collect::<Vec<_>>()
    };
    let (a, b) = (online(&spec), online(&fewer));
    assert!(a.len() > 20);
    let first_difference = a.iter().zip(&b).position(|(x, y)| x != y);
    assert_eq!(first_difference, None, "online order {first_difference:?} differs");
    assert_eq!(a.len(), b.len());
}
