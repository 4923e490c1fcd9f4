//! Small worlds built in code for the actors' tests (scenario files are the `scenarios`
//! crate's business; these tests must not depend on it).

#![allow(dead_code)]

use storetwin_actors::store::spec::*;
use storetwin_actors::{Cents, Dist};
use storetwin_engine::{SimDuration, SimTime};

/// A floor from ASCII art: `#` wall, `.` floor, `E` entrance, `X` exit, `a`..`z` shelves
/// of categories 0..25, `1`..`9` lanes 0..8.
pub fn floor(art: &str, cell_m: f64) -> FloorSpec {
    let rows: Vec<&str> = art.lines().map(str::trim).filter(|r| !r.is_empty()).collect();
    let width = rows[0].len() as u16;
    let mut cells = Vec::new();
    for row in &rows {
        assert_eq!(row.len() as u16, width, "ragged test floor");
        for ch in row.chars() {
            cells.push(match ch {
                '#' => CellKind::Wall,
                '.' => CellKind::Floor,
                'E' => CellKind::Entrance,
                'X' => CellKind::Exit,
                'a'..='z' => CellKind::Shelf(CategoryId(ch as u16 - 'a' as u16)),
                '1'..='9' => CellKind::Lane(LaneId(ch as u16 - '1' as u16)),
                other => panic!("unknown test floor char {other:?}"),
            });
        }
    }
    FloorSpec { width, height: rows.len() as u16, cell_m, cells, zones: Vec::new() }
}

pub fn c(v: f64) -> Dist {
    Dist::constant(v).unwrap()
}

pub fn segment(basket: Dist, patience: Dist, balk_at: u32) -> SegmentSpec {
    SegmentSpec {
        name: "all".into(),
        share: 1.0,
        basket,
        dwell_s: c(0.0),
        speed_mps: c(1.0),
        member_share: 0.3,
        app_share: 0.4,
        price_sensitivity: 0.5,
        patience_s: patience,
        balk_at,
        substitute: 0.5,
        endless_aisle: 0.2,
        payment: PaymentMix { mobile_qr: 0.25, card: 0.25, cash: 0.25, prepaid: 0.25 },
    }
}

pub fn lane(name: &str, kind: LaneKind, line: Option<u16>, service: Dist) -> LaneSpec {
    LaneSpec {
        name: name.into(),
        kind,
        line,
        open_at_start: true,
        base_s: service,
        per_item_s: c(0.0),
        pay_s: [c(0.0), c(0.0), c(0.0), c(0.0)],
    }
}

pub fn sku(name: &str, category: u16, cents: i64, shelf: u32) -> SkuSpec {
    SkuSpec {
        name: name.into(),
        category: CategoryId(category),
        price: Cents(cents),
        cost: Cents(cents / 2),
        shelf,
        shelf_capacity: shelf.max(1),
        back_room: 0,
        reorder_at: 0,
        popularity: 1.0,
        unit_weight_g: DEFAULT_UNIT_WEIGHT_G,
    }
}

/// M/M/c: Poisson arrivals at `per_hour`, one shared line feeding `c` staffed lanes with
/// exponential service of mean `service_s`; no balking or reneging; the walk from the
/// door to the line is a constant, so arrivals at the line are Poisson too.
pub fn mmc(c_lanes: usize, per_hour: f64, service_s: f64, hours: usize) -> WorldSpec {
    let art = "
        #######
        #Ea...#
        #.....#
        #123.X#
        #######";
    let lanes = (0..c_lanes)
        .map(|i| lane(&format!("L{}", i + 1), LaneKind::Staffed, Some(0), Dist::exponential(service_s).unwrap()))
        .collect();
    WorldSpec {
        open_at_s: 8 * 3600,
        duration: SimDuration::from_secs(hours as u64 * 3600),
        store: StoreSpec {
            name: "mmc".into(),
            floor: floor(art, 1.0),
            categories: vec![CategorySpec { name: "a".into(), popularity: 1.0 }],
            catalogue: vec![sku("thing", 0, 100, 4_000_000_000)],
            segments: vec![segment(c(1.0), c(1e9), u32::MAX)],
            arrivals_per_hour: vec![per_hour; hours],
            lanes,
            lines: vec![SharedLineSpec { name: "line".into(), capacity: None }],
            lane_policy: LanePolicy { open_when_queue: None, close_when_idle: None },
            devices: Vec::new(),
            disruptions: Vec::new(),
            replenishment: ReplenishmentSpec { staff: 1, trip: c(300.0), round: None },
            max_density_per_m2: storetwin_actors::store::crowd::DEFAULT_MAX_DENSITY,
        },
    }
}

/// A small but complete store: shelves of four categories, own-queue lanes and a shared
/// self-checkout line, every device kind, a price change and a POS outage.
pub fn small_store() -> WorldSpec {
    let art = "
        ##############
        #E..a..b..c..#
        #...a..b..c..#
        #............#
        #..dddd......#
        #............#
        #1.2.3.4.....#
        #...........X#
        ##############";
    let floor = floor(art, 1.5);
    let service = Dist::lognormal(40.0, 20.0).unwrap();
    let mut lanes = vec![
        lane("L1", LaneKind::Staffed, None, service.clone()),
        lane("L2", LaneKind::Staffed, None, service.clone()),
        lane("S1", LaneKind::SelfCheckout, Some(0), service.clone()),
        lane("S2", LaneKind::SelfCheckout, Some(0), service.clone()),
    ];
    for l in &mut lanes {
        l.per_item_s = Dist::uniform(2.0, 4.0).unwrap();
        l.pay_s = [c(5.0), c(10.0), c(25.0), c(8.0)];
    }
    let device = |name: &str, kind: DeviceKind, x: u16, y: u16| DeviceSpec {
        name: name.into(),
        kind,
        cell: Cell { x, y },
        failures: None,
    };
    let mut wifi = device(
        "wifi-1",
        DeviceKind::WifiProbe {
            range_m: 12.0,
            detect: 0.4,
            detect_app: 0.9,
            noise_m: 3.0,
            interval: SimDuration::from_secs(30),
        },
        6,
        4,
    );
    wifi.failures = Some(FailureSpec { mtbf: SimDuration::from_secs(4 * 3600), mttr: SimDuration::from_secs(600) });
    let devices = vec![
        device("door", DeviceKind::DoorCounter { miss: 0.03, double: 0.01 }, 1, 1),
        device("camera", DeviceKind::FaceCamera { range_m: 3.0, recognise: 0.8 }, 2, 1),
        device("beacon", DeviceKind::Beacon { range_m: 4.0 }, 7, 3),
        wifi,
        device("esl-b", DeviceKind::Esl { latency: SimDuration::from_secs(120) }, 8, 1),
        device("shelf-a", DeviceKind::SmartShelf { noise_units: 0.5 }, 5, 1),
        device("kiosk", DeviceKind::Kiosk, 12, 3),
    ];
    let mut catalogue = vec![
        sku("milk", 0, 129, 30),
        sku("yoghurt", 0, 89, 20),
        sku("bread", 1, 249, 25),
        sku("rolls", 1, 199, 25),
        sku("apples", 2, 299, 40),
        sku("pasta", 3, 149, 60),
        sku("rice", 3, 219, 60),
    ];
    catalogue[0].back_room = 60;
    catalogue[0].reorder_at = 8;
    catalogue[0].shelf_capacity = 30;
    let mut seg = segment(Dist::lognormal(4.0, 2.0).unwrap(), Dist::exponential(300.0).unwrap(), 6);
    seg.dwell_s = Dist::uniform(5.0, 20.0).unwrap();
    seg.speed_mps = Dist::normal(1.1, 0.2).unwrap();
    let zones = vec![ZoneSpec { name: "fresh".into(), cells: (1..13).map(|x| Cell { x, y: 3 }).collect() }];
    WorldSpec {
        open_at_s: 9 * 3600,
        duration: SimDuration::from_secs(4 * 3600),
        store: StoreSpec {
            name: "small".into(),
            floor: FloorSpec { zones, ..floor },
            categories: ["dairy", "bakery", "fruit", "dry"]
                .iter()
                .map(|n| CategorySpec { name: (*n).into(), popularity: 1.0 })
                .collect(),
            catalogue,
            segments: vec![seg],
            arrivals_per_hour: vec![60.0, 120.0, 90.0, 30.0],
            lanes,
            lines: vec![SharedLineSpec { name: "sco".into(), capacity: Some(8) }],
            lane_policy: LanePolicy { open_when_queue: None, close_when_idle: None },
            devices,
            disruptions: vec![
                Disruption {
                    at: SimTime::from_secs(3600),
                    until: None,
                    what: DisruptionKind::PriceChange { sku: SkuId(2), price: Cents(349) },
                },
                Disruption {
                    at: SimTime::from_secs(5400),
                    until: Some(SimTime::from_secs(6600)),
                    what: DisruptionKind::PosOutage(LaneId(0)),
                },
            ],
            replenishment: ReplenishmentSpec {
                staff: 1,
                trip: Dist::uniform(120.0, 300.0).unwrap(),
                round: Some(SimDuration::from_secs(1800)),
            },
            max_density_per_m2: storetwin_actors::store::crowd::DEFAULT_MAX_DENSITY,
        },
    }
}

/// Two coupon campaigns: 5.00 off a basket for WiFi-portal logins (brand-funded, with a
/// budget of 150.00), and 10% off dairy for QR-poster scans (HQ and franchisee halves),
/// which combine.
pub fn small_chain_campaigns() -> Vec<storetwin_actors::chain::spec::CampaignSpec> {
    use storetwin_actors::chain::spec::*;
    let day = SimDuration::from_secs(86_400);
    vec![
        CampaignSpec {
            name: "dairy-10pct".into(),
            kind: CouponKind::Percent { bps: 1000, max_off: None },
            scope: CouponScope::Category(CategoryId(0)),
            issue: IssueChannel::QrPoster,
            claim_share: 0.5,
            validity: Validity::AfterClaim(day),
            class: StackClass::Product,
            combines_with: vec![StackClass::Order],
            order: 0,
            per_member_limit: 1,
            total_limit: None,
            budget_total: None,
            budget_daily: None,
            funding: Funding { hq_bps: 5000, franchisee_bps: 5000, brand_bps: 0 },
            activate_at: SimTime::ZERO,
            pauses: Vec::new(),
            stop_at: None,
            stores: None,
        },
        CampaignSpec {
            name: "wifi-5-off".into(),
            kind: CouponKind::Cash { off: Cents(500) },
            scope: CouponScope::All,
            issue: IssueChannel::WifiPortal,
            claim_share: 0.8,
            validity: Validity::AfterClaim(day),
            class: StackClass::Order,
            combines_with: vec![StackClass::Product],
            order: 1,
            per_member_limit: 2,
            total_limit: None,
            budget_total: Some(Cents(15_000)),
            budget_daily: None,
            funding: Funding { hq_bps: 0, franchisee_bps: 0, brand_bps: 10_000 },
            activate_at: SimTime::ZERO,
            pauses: Vec::new(),
            stop_at: None,
            stores: None,
        },
    ]
}

/// Three copies of [`small_store`] in a town (1-2 km apart), a platform with 20-30 ms
/// links, app and web orders, and the two campaigns of [`small_chain_campaigns`].
pub fn small_chain() -> storetwin_actors::chain::spec::ChainSpec {
    use storetwin_actors::chain::spec::*;
    let base = small_store();
    let catalogue = base
        .store
        .catalogue
        .iter()
        .map(|s| CatalogueItem {
            name: s.name.clone(),
            category: s.category,
            price: s.price,
            cost: s.cost,
            popularity: s.popularity,
        })
        .collect();
    let stores = ["north", "centre", "south"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut world = base.clone();
            world.store.name = (*name).into();
            for sku in &mut world.store.catalogue {
                sku.back_room += 40;
            }
            ChainStoreSpec {
                name: (*name).into(),
                world,
                location_km: (0.0, i as f64 * 1.5),
                pickers: 2,
                pickup_staff: 1,
                franchise_bps: (i == 2).then_some(6000),
                offline_coupons: OfflineCoupons::Refuse,
            }
        })
        .collect();
    let online = |name: &str, channel, per_hour: f64| OnlineSegmentSpec {
        name: name.into(),
        channel,
        orders_per_hour: vec![per_hour; 4],
        basket: Dist::uniform(1.0, 4.0).unwrap(),
        fulfilment: [0.5, 0.3, 0.2],
        member_share: 0.6,
        payment: PaymentMix { mobile_qr: 0.7, card: 0.3, cash: 0.0, prepaid: 0.0 },
    };
    ChainSpec {
        name: "small chain".into(),
        open_at_s: base.open_at_s,
        duration: base.duration,
        categories: base.store.categories.iter().map(|c| c.name.clone()).collect(),
        catalogue,
        stores,
        platform: PlatformSpec {
            latency_min: SimDuration::from_millis(20),
            latency_extra_s: Dist::uniform(0.0, 0.01).unwrap(),
            stock_sync_every: SimDuration::from_secs(300),
            pick_base_s: Dist::uniform(60.0, 120.0).unwrap(),
            pick_per_line_s: Dist::uniform(20.0, 60.0).unwrap(),
            pick_target: SimDuration::from_secs(900),
            pickup_hold: SimDuration::from_secs(3600),
            collect_after_s: Dist::uniform(300.0, 2400.0).unwrap(),
            pickup_no_show: 0.1,
            pickup_service_s: Dist::uniform(30.0, 90.0).unwrap(),
            courier_s: Dist::uniform(1200.0, 2400.0).unwrap(),
            ship_s: Dist::uniform(3600.0, 7200.0).unwrap(),
            coupon_timeout: SimDuration::from_secs(5),
            kiosk_collect_share: 0.5,
            transfer_s: Dist::uniform(1800.0, 3600.0).unwrap(),
            settlement: SettlementSpec { fee_bps: [60, 120, 0, 0] },
        },
        members: MemberSpec {
            population: 5_000,
            levels: vec![
                MemberLevel { name: "silver".into(), share: 0.8, points_per_unit: 1 },
                MemberLevel { name: "gold".into(), share: 0.2, points_per_unit: 2 },
            ],
            point_value: Cents(1),
            redeem_share: 0.2,
            redeem_max_bps: 2000,
            register_share: 0.0,
            referral_share: 0.0,
            referral_join_after_s: Dist::exponential(1800.0).unwrap(),
        },
        online: vec![online("app", OnlineChannel::App, 12.0), online("web", OnlineChannel::Web, 6.0)],
        campaigns: small_chain_campaigns(),
        partitions: vec![Partition {
            store: Some(StoreIdx(1)),
            from: SimTime::from_secs(3600),
            to: SimTime::from_secs(4500),
        }],
        courier_delays: Vec::new(),
        flash: None,
        demand: Vec::new(),
    }
}

/// [`small_store`] open for a whole 12-hour day with a weekday's arrivals (a lunch peak and
/// an evening peak, busy up to closing) and shelves that last the day.
pub fn weekday_like() -> WorldSpec {
    let mut spec = small_store();
    spec.duration = SimDuration::from_secs(12 * 3600);
    spec.store.arrivals_per_hour = vec![40.0, 60.0, 80.0, 120.0, 140.0, 100.0, 80.0, 90.0, 120.0, 150.0, 130.0, 110.0];
    for sku in &mut spec.store.catalogue {
        sku.shelf = 10_000;
        sku.shelf_capacity = 10_000;
    }
    spec
}
