//! A chain of stores and its centres, run as shards.

mod support;

use storetwin_actors::chain::orders::{Source, Status};
use storetwin_actors::chain::run::run_chain;
use storetwin_actors::chain::spec::{Fulfilment, OnlineChannel};
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
    let spec = support::small_chain();
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
    // A tenth of pickup customers never come: their orders expire and the stock returns.
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
    // Every discount the tills gave reached settlement, campaign by campaign.
    let given: f64 = run.stores.iter().map(|s| s.office.discount_given as f64 / 100.0).sum();
    let settled: f64 = k.coupons.iter().map(|c| c.settled_discounts).sum();
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
