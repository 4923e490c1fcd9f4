//! Property tests of the coupon centre and of checkout's best combination
//! (`actors/src/chain/coupons.rs`): random campaigns, baskets and call sequences against
//! the rules stated there, checked with bookkeeping of the test's own (what each call
//! answered) rather than the centre's counters, and the search against brute force.

use std::collections::BTreeMap;

use proptest::prelude::*;
use storetwin_actors::Cents;
use storetwin_actors::chain::coupons::*;
use storetwin_actors::chain::members::MemberId;
use storetwin_actors::chain::settlement::split_discount;
use storetwin_actors::chain::spec::*;
use storetwin_actors::chain::txn::{TxnId, TxnSource};
use storetwin_actors::store::spec::{CategoryId, SkuId};
use storetwin_engine::{SimDuration, SimTime};

const SKUS: u32 = 6;
const CATEGORIES: u16 = 3;
const STORES: u16 = 3;

fn secs(s: u64) -> SimTime {
    SimTime::from_secs(s)
}

/// Transaction `seq` of store 0: any order id will do, the centre needs them unique only.
fn txn_id(seq: u64) -> TxnId {
    TxnId::new(TxnSource(0), seq)
}

fn base_campaign() -> CampaignSpec {
    CampaignSpec {
        name: "c".into(),
        kind: CouponKind::Cash { off: Cents(1_00) },
        scope: CouponScope::All,
        issue: IssueChannel::QrPoster,
        claim_share: 1.0,
        validity: Validity::AfterClaim(DAY),
        class: StackClass::Order,
        combines_with: Vec::new(),
        order: 0,
        per_member_limit: 1,
        total_limit: None,
        budget_total: None,
        budget_daily: None,
        funding: Funding { hq_bps: 10_000, franchisee_bps: 0, brand_bps: 0 },
        activate_at: SimTime::ZERO,
        pauses: Vec::new(),
        stop_at: None,
        stores: None,
    }
}

/// Amounts in cents, half of them whole units (so that combinations tie often).
fn amount(most: i64) -> impl Strategy<Value = Cents> {
    prop_oneof![(0..=most / 100).prop_map(|u| Cents(u * 100)), (0..most).prop_map(Cents)]
}

fn kind() -> impl Strategy<Value = CouponKind> {
    prop_oneof![
        amount(5000).prop_map(|off| CouponKind::Cash { off }),
        (prop_oneof![(0u32..=20).prop_map(|b| b * 500), 0u32..=10_000], prop::option::of(amount(3000)))
            .prop_map(|(bps, max_off)| CouponKind::Percent { bps, max_off }),
        (amount(20_000), amount(5000)).prop_map(|(spend, off)| CouponKind::Threshold { spend, off }),
        amount(1000).prop_map(|off| CouponKind::Parking { off }),
        amount(1000).prop_map(|off| CouponKind::Pickup { off }),
    ]
}

fn scope() -> impl Strategy<Value = CouponScope> {
    prop_oneof![
        Just(CouponScope::All),
        (0..CATEGORIES).prop_map(|c| CouponScope::Category(CategoryId(c))),
        (0..SKUS).prop_map(|s| CouponScope::Sku(SkuId(s))),
    ]
}

fn class() -> impl Strategy<Value = StackClass> {
    prop_oneof![Just(StackClass::Product), Just(StackClass::Order), Just(StackClass::Service)]
}

fn classes() -> impl Strategy<Value = Vec<StackClass>> {
    prop::array::uniform3(prop::bool::weighted(0.75)).prop_map(|on| {
        [StackClass::Product, StackClass::Order, StackClass::Service]
            .into_iter()
            .zip(on)
            .filter(|c| c.1)
            .map(|c| c.0)
            .collect()
    })
}

fn funding() -> impl Strategy<Value = Funding> {
    (0u32..=10_000, 0u32..=10_000).prop_map(|(a, b)| {
        let (lo, hi) = (a.min(b), a.max(b));
        Funding { hq_bps: lo, franchisee_bps: hi - lo, brand_bps: 10_000 - hi }
    })
}

fn stores() -> impl Strategy<Value = Option<Vec<StoreIdx>>> {
    prop::option::weighted(0.3, prop::collection::btree_set(0..STORES, 1..3))
        .prop_map(|s| s.map(|s| s.into_iter().map(StoreIdx).collect()))
}

/// A campaign as checkout sees it (no limits or lifecycle).
fn checkout_campaign() -> impl Strategy<Value = CampaignSpec> {
    (kind(), scope(), class(), classes(), 0u32..3, stores()).prop_map(
        |(kind, scope, class, combines_with, order, stores)| {
            let class = match kind {
                CouponKind::Parking { .. } | CouponKind::Pickup { .. } => StackClass::Service,
                _ => class,
            };
            CampaignSpec { kind, scope, class, combines_with, order, stores, ..base_campaign() }
        },
    )
}

fn basket() -> impl Strategy<Value = Vec<BasketLine>> {
    prop::collection::vec((0..SKUS, amount(4000), 1u32..3), 0..5).prop_map(|lines| {
        lines
            .into_iter()
            .map(|(sku, price, qty)| BasketLine {
                sku: SkuId(sku),
                category: CategoryId((sku % u32::from(CATEGORIES)) as u16),
                unit_price: price,
                qty,
            })
            .collect()
    })
}

fn checkout() -> impl Strategy<Value = Checkout> {
    let channel = prop_oneof![
        Just(SaleChannel::InStore),
        Just(SaleChannel::Online(Fulfilment::Pickup)),
        Just(SaleChannel::Online(Fulfilment::SameCity)),
    ];
    (prop::option::weighted(0.9, 0..STORES), channel, 0u64..200).prop_map(|(store, channel, now)| Checkout {
        store: store.map(StoreIdx),
        channel,
        now: secs(now),
    })
}

/// Campaigns, a basket, the coupons held (`count` of them) and the checkout.
fn case(
    count: std::ops::Range<usize>,
) -> impl Strategy<Value = (Vec<CampaignSpec>, Vec<BasketLine>, Vec<HeldCoupon>, Checkout)> {
    (
        prop::collection::vec(checkout_campaign(), 1..8),
        basket(),
        prop::collection::vec((0u16..16, 0u64..60, 0u64..400), count),
        checkout(),
    )
        .prop_map(|(campaigns, basket, held, checkout)| {
            let held = held
                .into_iter()
                .enumerate()
                .map(|(i, (c, from, len))| HeldCoupon {
                    serial: Serial(i as u32),
                    campaign: CampaignId(c % campaigns.len() as u16),
                    valid_from: secs(from),
                    valid_to: secs(from + len),
                })
                .collect();
            (campaigns, basket, held, checkout)
        })
}

/// What any applied combination must satisfy: nothing below zero (each line, so each
/// scope and the total), the sums agree, and lines outside every coupon's scope are
/// untouched.
fn check_amounts(a: &Applied, lines: &[BasketLine], campaigns: &[CampaignSpec]) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.left.len(), lines.len());
    for (line, left) in lines.iter().zip(&a.left) {
        prop_assert!(Cents::ZERO <= *left && *left <= line.amount(), "line {:?} left {}", line, left);
        let touched = a.coupons.iter().any(|c| match campaigns[usize::from(c.campaign.0)].scope {
            CouponScope::All => true,
            CouponScope::Category(k) => k == line.category,
            CouponScope::Sku(s) => s == line.sku,
        });
        if !touched {
            prop_assert_eq!(*left, line.amount());
        }
    }
    let discount = a.coupons.iter().map(|c| c.discount).fold(Cents::ZERO, |x, y| x + y);
    let left = a.left.iter().copied().fold(Cents::ZERO, |x, y| x + y);
    let subtotal = lines.iter().map(|l| l.amount()).fold(Cents::ZERO, |x, y| x + y);
    prop_assert_eq!((a.subtotal, a.discount, a.to_pay), (subtotal, discount, subtotal - discount));
    prop_assert_eq!(left, a.to_pay);
    prop_assert!(a.to_pay >= Cents::ZERO);
    prop_assert!(a.coupons.iter().all(|c| c.discount >= Cents::ZERO));
    Ok(())
}

/// How the documented tie rule ranks a combination (smaller first): discount (largest
/// first), number of coupons, then each coupon's evaluation order, expiry and serial.
type ChoiceKey = (std::cmp::Reverse<Cents>, usize, Vec<(u32, CampaignId, SimTime, Serial)>);

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// The best combination is allowed, never takes anything below zero, equals applying
    /// its coupons in evaluation order, and is at least as good as every allowed subset of
    /// the held coupons (every single coupon and pair among them), by brute force.
    #[test]
    fn best_combination_is_allowed_exact_and_best((campaigns, lines, held, checkout) in case(0..7)) {
        let best = best_combination(&lines, &held, &campaigns, &checkout);
        check_amounts(&best, &lines, &campaigns)?;
        prop_assert!(best.coupons.iter().all(|c| c.discount > Cents::ZERO), "a coupon that gives nothing: {:?}", best);
        let chosen: Vec<HeldCoupon> =
            best.coupons.iter().map(|c| *held.iter().find(|h| h.serial == c.serial).unwrap()).collect();
        let replay = apply_in_order(&lines, &chosen, &campaigns, &checkout);
        prop_assert_eq!(replay.as_ref(), Ok(&best));
        let keys: Vec<_> = best.coupons.iter().map(|c| (campaigns[usize::from(c.campaign.0)].order, c.campaign)).collect();
        prop_assert!(keys.windows(2).all(|w| w[0] < w[1]), "not in evaluation order: {:?}", keys);

        // The documented choice among all allowed subsets: the largest discount, then the
        // fewest coupons, then the coupons first in evaluation order (one campaign's
        // coupons ordered by expiry, then serial).
        let mut first: Option<ChoiceKey> = None;
        for subset in 0u32..1 << held.len() {
            let coupons: Vec<HeldCoupon> = (0..held.len()).filter(|i| subset & (1 << i) != 0).map(|i| held[i]).collect();
            if let Ok(a) = apply_in_order(&lines, &coupons, &campaigns, &checkout) {
                check_amounts(&a, &lines, &campaigns)?;
                prop_assert!(a.discount <= best.discount, "{:?} beats the best {:?}", a, best);
                let mut order: Vec<_> = coupons
                    .iter()
                    .map(|h| (campaigns[usize::from(h.campaign.0)].order, h.campaign, h.valid_to, h.serial))
                    .collect();
                order.sort_unstable();
                let key = (std::cmp::Reverse(a.discount), coupons.len(), order);
                if first.as_ref().is_none_or(|f| key < *f) {
                    first = Some(key);
                }
            }
        }
        let first = first.expect("the empty combination is always allowed");
        prop_assert_eq!(first.0.0, best.discount);
        let serials: Vec<Serial> = first.2.iter().map(|k| k.3).collect();
        prop_assert_eq!(serials, best.coupons.iter().map(|c| c.serial).collect::<Vec<_>>());

        let mut reversed = held.clone();
        reversed.reverse();
        prop_assert_eq!(best_combination(&lines, &reversed, &campaigns, &checkout), best);
    }

    /// With more coupons than the search takes, the answer is still allowed and exact.
    #[test]
    fn many_coupons_still_give_an_allowed_combination((mut campaigns, lines, _, checkout) in case(0..1)) {
        campaigns.truncate(1);
        let template = campaigns[0].clone();
        let campaigns: Vec<CampaignSpec> =
            (0..16).map(|i| CampaignSpec { order: i % 4, combines_with: vec![StackClass::Product, StackClass::Order, StackClass::Service], ..template.clone() }).collect();
        let held: Vec<HeldCoupon> = (0..16u16)
            .map(|c| HeldCoupon { serial: Serial(u32::from(c)), campaign: CampaignId(c), valid_from: SimTime::ZERO, valid_to: secs(1000) })
            .collect();
        let best = best_combination(&lines, &held, &campaigns, &checkout);
        check_amounts(&best, &lines, &campaigns)?;
        prop_assert!(best.coupons.len() <= MAX_SEARCHED);
        let chosen: Vec<HeldCoupon> = best.coupons.iter().map(|c| held[usize::from(c.campaign.0)]).collect();
        prop_assert_eq!(apply_in_order(&lines, &chosen, &campaigns, &checkout), Ok(best));
    }

    /// The split the centre charges funders by (the settlement's) is exact: the parts sum
    /// to the discount, each within a cent of its share, and a funder with no share pays
    /// nothing.
    #[test]
    fn funder_shares_sum_exactly(funding in funding(), discount in 0i64..10_000_000) {
        let parts = split_discount(Cents(discount), funding).unwrap();
        prop_assert_eq!(parts.hq + parts.franchisee + parts.brand, Cents(discount));
        for (part, bps) in [(parts.hq, funding.hq_bps), (parts.franchisee, funding.franchisee_bps), (parts.brand, funding.brand_bps)] {
            let error = i128::from(part.0) * 10_000 - i128::from(discount) * i128::from(bps);
            prop_assert!(error.abs() < 10_000, "part {} of {} at {} bps", part, discount, bps);
            if bps == 0 {
                prop_assert_eq!(part, Cents::ZERO);
            }
        }
    }

    /// A campaign issues exactly while it is activated, outside its pauses and before its
    /// stop (read from the spec's fields here), and `next_transition` is the next change.
    #[test]
    fn issues_only_while_running(
        activate in 0u64..100,
        pauses in prop::collection::vec((0u64..150, 0u64..40), 0..3),
        stop in prop::option::of(0u64..200),
        times in prop::collection::vec(0u64..220, 1..30),
    ) {
        let spec = CampaignSpec {
            activate_at: secs(activate),
            pauses: pauses.iter().map(|&(from, len)| (secs(from), secs(from + len))).collect(),
            stop_at: stop.map(secs),
            per_member_limit: u32::MAX,
            ..base_campaign()
        };
        let mut centre = CouponCentre::new(std::slice::from_ref(&spec)).unwrap();
        let mut sorted = times.clone();
        sorted.sort_unstable();
        for t in sorted {
            let running = t >= activate
                && stop.is_none_or(|s| t < s)
                && !pauses.iter().any(|&(from, len)| from <= t && t < from + len);
            let claimed = centre.claim(CampaignId(0), MemberId(0), None, secs(t));
            prop_assert_eq!(claimed.is_ok(), running, "at {} s: {:?}", t, claimed);
            if !running {
                prop_assert_eq!(claimed, Err(ClaimRefused::NotRunning));
            }
            let now = spec.status(secs(t));
            match spec.next_transition(secs(t)) {
                Some(next) => {
                    prop_assert!(next > secs(t));
                    prop_assert_ne!(spec.status(next), now);
                    prop_assert_eq!(spec.status(SimTime::from_nanos(next.as_nanos() - 1)), now);
                }
                None => prop_assert!((t..400).all(|u| spec.status(secs(u)) == now)),
            }
        }
        centre.check_invariants().unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// The centre under random call sequences.

/// A campaign of the centre tests: small limits and budgets, lifecycle and validity.
fn centre_campaign() -> impl Strategy<Value = CampaignSpec> {
    (
        prop_oneof![
            (0i64..2000).prop_map(|off| CouponKind::Cash { off: Cents(off) }),
            (0u32..=10_000, prop::option::of(0i64..2000))
                .prop_map(|(bps, max_off)| CouponKind::Percent { bps, max_off: max_off.map(Cents) }),
        ],
        (0u32..4, prop::option::of(0u32..10)),
        (prop::option::of(0i64..5000), prop::option::of(0i64..2000)),
        funding(),
        (0u64..7200, prop::collection::vec((0u64..86_400, 0u64..14_400), 0..3), prop::option::of(0u64..200_000)),
        prop_oneof![
            (1u64..200_000).prop_map(|d| Validity::AfterClaim(SimDuration::from_secs(d))),
            (0u64..100_000, 0u64..200_000)
                .prop_map(|(from, len)| Validity::Window { from: secs(from), to: secs(from + len) }),
        ],
        stores(),
    )
        .prop_map(
            |(
                kind,
                (per_member_limit, total_limit),
                (budget_total, budget_daily),
                funding,
                (activate, pauses, stop),
                validity,
                stores,
            )| {
                CampaignSpec {
                    kind,
                    per_member_limit,
                    total_limit,
                    budget_total: budget_total.map(Cents),
                    budget_daily: budget_daily.map(Cents),
                    funding,
                    activate_at: secs(activate),
                    pauses: pauses.into_iter().map(|(from, len)| (secs(from), secs(from + len))).collect(),
                    stop_at: stop.map(secs),
                    validity,
                    stores,
                    ..base_campaign()
                }
            },
        )
}

#[derive(Clone, Debug)]
enum Op {
    Claim {
        campaign: u16,
        member: u32,
        store: Option<u16>,
    },
    /// `as_holder`: the member locking is the coupon's own.
    Lock {
        serial: u32,
        txn: u64,
        member: u32,
        as_holder: bool,
        store: Option<u16>,
    },
    Redeem {
        serial: u32,
        txn: u64,
        discount: i64,
    },
    Release {
        serial: u32,
        txn: u64,
    },
    /// The order is cancelled: give back whatever it holds of the serial.
    Cancel {
        serial: u32,
        txn: u64,
    },
    Expire,
    Advance(u64),
}

fn op(serials: u32) -> impl Strategy<Value = Op> {
    let store = prop::option::weighted(0.9, 0..STORES);
    prop_oneof![
        3 => (0u16..3, 0u32..4, store.clone()).prop_map(|(campaign, member, store)| Op::Claim { campaign, member, store }),
        4 => (0..serials, 0u64..5, 0u32..4, prop::bool::weighted(0.9), store)
            .prop_map(|(serial, txn, member, as_holder, store)| Op::Lock { serial, txn, member, as_holder, store }),
        4 => (0..serials, 0u64..5, -100i64..2500).prop_map(|(serial, txn, discount)| Op::Redeem { serial, txn, discount }),
        2 => (0..serials, 0u64..5).prop_map(|(serial, txn)| Op::Release { serial, txn }),
        1 => (0..serials, 0u64..5).prop_map(|(serial, txn)| Op::Cancel { serial, txn }),
        1 => Just(Op::Expire),
        2 => (0u64..30_000).prop_map(Op::Advance),
    ]
}

/// What the test itself learnt from the answers.
#[derive(Default)]
struct Book {
    /// The winning txn and discount of each serial redeemed.
    winners: BTreeMap<u32, (TxnId, Cents)>,
    /// Per campaign: issued, budget used, budget used per day.
    issued: [u32; 3],
    used: [Cents; 3],
    daily: BTreeMap<(u16, u32), Cents>,
    /// Per (campaign, member): claims and redemptions.
    claims: BTreeMap<(u16, u32), u32>,
    redeemed: BTreeMap<(u16, u32), u32>,
    /// The last txn whose release of each serial was answered `Ok`.
    last_released: BTreeMap<u32, TxnId>,
    /// The budget day each standing redemption was charged to.
    won_day: BTreeMap<u32, u32>,
}

/// Runs one call (`times` times in a row, as retries) and checks its answers against the
/// rules and the book. The repeated calls must answer alike.
fn run(
    centre: &mut CouponCentre,
    book: &mut Book,
    now: &mut SimTime,
    op: &Op,
    times: usize,
) -> Result<(), TestCaseError> {
    let campaigns = centre.campaigns().to_vec();
    match *op {
        Op::Claim { campaign, member, store } => {
            let id = CampaignId(campaign);
            let store = store.map(StoreIdx);
            let answer = centre.claim(id, MemberId(member), store, *now);
            if let Ok(serial) = answer {
                let spec = &campaigns[usize::from(campaign)];
                prop_assert_eq!(spec.status(*now), BatchStatus::Running);
                prop_assert!(spec.runs_in(store));
                prop_assert_eq!(serial.0, centre.coupons().len() as u32 - 1, "serials are dense, in issue order");
                book.issued[usize::from(campaign)] += 1;
                *book.claims.entry((campaign, member)).or_default() += 1;
                prop_assert!(spec.total_limit.is_none_or(|l| book.issued[usize::from(campaign)] <= l));
                prop_assert!(book.claims[&(campaign, member)] <= spec.per_member_limit);
            }
        }
        Op::Lock { serial, txn, member, as_holder, store } => {
            let member = match (as_holder, centre.coupon(Serial(serial))) {
                (true, Some(c)) => c.member,
                _ => MemberId(member),
            };
            let first = centre.lock(Serial(serial), txn_id(txn), member, store.map(StoreIdx), *now);
            for _ in 1..times {
                prop_assert_eq!(centre.lock(Serial(serial), txn_id(txn), member, store.map(StoreIdx), *now), first);
            }
            if first.is_ok() {
                let coupon = centre.coupon(Serial(serial)).unwrap();
                prop_assert_eq!(coupon.member, member);
                prop_assert!(
                    matches!(coupon.state, SerialState::Locked { txn: t } | SerialState::Used { txn: t, .. } if t == txn_id(txn)),
                    "lock answered Ok but the coupon is {:?}",
                    coupon.state
                );
                prop_assert!(campaigns[usize::from(coupon.campaign.0)].runs_in(store.map(StoreIdx)));
                prop_assert_ne!(book.last_released.get(&serial), Some(&txn_id(txn)), "a lock after its own release");
                if let Some(&(winner, _)) = book.winners.get(&serial) {
                    prop_assert_eq!(winner, txn_id(txn), "a second order holds a used coupon");
                }
            }
        }
        Op::Redeem { serial, txn, discount } => {
            let first = centre.redeem(Serial(serial), txn_id(txn), Cents(discount), *now);
            for _ in 1..times {
                prop_assert_eq!(centre.redeem(Serial(serial), txn_id(txn), Cents(discount), *now), first);
            }
            if let Ok(r) = first {
                prop_assert_eq!(r.funded.hq + r.funded.franchisee + r.funded.brand, r.discount);
                prop_assert!(r.discount >= Cents::ZERO);
                match book.winners.get(&serial) {
                    Some(&(winner, d)) => prop_assert_eq!((winner, d), (txn_id(txn), r.discount), "two winners"),
                    None => {
                        prop_assert_eq!(r.discount, Cents(discount));
                        book.winners.insert(serial, (txn_id(txn), r.discount));
                        book.won_day.insert(serial, day_of(*now));
                        let coupon = *centre.coupon(Serial(serial)).unwrap();
                        let c = coupon.campaign.0;
                        let spec = &campaigns[usize::from(c)];
                        book.used[usize::from(c)] += r.discount;
                        *book.daily.entry((c, day_of(*now))).or_default() += r.discount;
                        *book.redeemed.entry((c, coupon.member.0)).or_default() += 1;
                        prop_assert!(
                            spec.budget_total.is_none_or(|b| book.used[usize::from(c)] <= b),
                            "total budget overspent"
                        );
                        prop_assert!(
                            spec.budget_daily.is_none_or(|b| book.daily[&(c, day_of(*now))] <= b),
                            "daily budget overspent"
                        );
                        prop_assert!(book.redeemed[&(c, coupon.member.0)] <= spec.per_member_limit, "member limit");
                    }
                }
            }
        }
        Op::Release { serial, txn } => {
            let first = centre.release(Serial(serial), txn_id(txn), *now);
            for _ in 1..times {
                prop_assert_eq!(centre.release(Serial(serial), txn_id(txn), *now), first);
            }
            prop_assert_eq!(
                first.is_err(),
                book.winners.get(&serial).is_some_and(|w| w.0 == txn_id(txn))
                    || centre.coupon(Serial(serial)).is_none()
            );
            if first.is_ok() {
                book.last_released.insert(serial, txn_id(txn));
            }
        }
        Op::Cancel { serial, txn } => {
            let before = centre.coupon(Serial(serial)).copied();
            let first = centre.cancel(Serial(serial), txn_id(txn), *now);
            for _ in 1..times {
                // Whatever the first gave back is given back once: a repeat finds nothing.
                prop_assert_eq!(centre.cancel(Serial(serial), txn_id(txn), *now), first.map(|_| Cancelled::Nothing));
            }
            let Some(before) = before else {
                prop_assert!(first.is_err());
                return Ok(());
            };
            book.last_released.insert(serial, txn_id(txn));
            match (book.winners.get(&serial).copied(), first) {
                (Some((winner, d)), Ok(Cancelled::Reversed(r))) if winner == txn_id(txn) => {
                    prop_assert_eq!(r.discount, d);
                    prop_assert_eq!(r.funded.hq + r.funded.franchisee + r.funded.brand, d);
                    let c = before.campaign.0;
                    book.winners.remove(&serial);
                    let day = book.won_day.remove(&serial).expect("a winner has its day");
                    book.used[usize::from(c)] -= d;
                    *book.daily.get_mut(&(c, day)).expect("charged") -= d;
                    *book.redeemed.get_mut(&(c, before.member.0)).expect("counted") -= 1;
                    let after = centre.coupon(Serial(serial)).unwrap().state;
                    prop_assert!(matches!(after, SerialState::Issued | SerialState::Expired), "{after:?}");
                    prop_assert_eq!(after == SerialState::Expired, *now >= before.valid_to);
                }
                (Some((winner, _)), answer) if winner == txn_id(txn) => {
                    return Err(TestCaseError::fail(format!("the winner's cancel answered {answer:?}")));
                }
                (_, Ok(Cancelled::Released)) => {
                    prop_assert_eq!(before.state, SerialState::Locked { txn: txn_id(txn) });
                }
                (_, Ok(Cancelled::Nothing)) => {
                    prop_assert!(
                        !matches!(before.state, SerialState::Locked { txn: t } if t == txn_id(txn)),
                        "a holder's cancel gave nothing back"
                    );
                    prop_assert_eq!(centre.coupon(Serial(serial)).unwrap().state, before.state);
                }
                (_, answer) => return Err(TestCaseError::fail(format!("cancel answered {answer:?}"))),
            }
        }
        Op::Expire => {
            centre.expire(*now);
            prop_assert!(
                centre.coupons().iter().all(|c| c.state != SerialState::Issued || *now < c.valid_to),
                "a free coupon past its validity after the sweep"
            );
        }
        Op::Advance(s) => *now = now.saturating_add(SimDuration::from_secs(s)),
    }
    for (c, used) in book.used.iter().enumerate().take(campaigns.len()) {
        let k = centre.counters(CampaignId(c as u16)).unwrap();
        prop_assert_eq!(k.budget_used, *used, "the budget is charged once per winner");
        prop_assert_eq!(k.issued, book.issued[c]);
        prop_assert_eq!(
            k.redeemed as usize,
            book.winners.keys().filter(|s| centre.coupon(Serial(**s)).unwrap().campaign.0 as usize == c).count()
        );
    }
    if let Err((name, detail)) = centre.check_invariants() {
        return Err(TestCaseError::fail(format!("{name}: {detail}")));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Random claims, locks, redemptions, releases, cancels, sweeps and time steps over
    /// three campaigns: limits (per member, total) and budgets (total, daily) hold after
    /// every call, there is one standing winner per serial (a cancel reverses its own
    /// redemption exactly once, budget and day included), and funders' parts sum to each
    /// discount.
    #[test]
    fn limits_and_budgets_hold_under_any_calls(
        campaigns in prop::collection::vec(centre_campaign(), 3),
        ops in prop::collection::vec(op(24), 0..150),
    ) {
        let mut centre = CouponCentre::new(&campaigns).unwrap();
        let (mut book, mut now) = (Book::default(), SimTime::ZERO);
        for op in &ops {
            run(&mut centre, &mut book, &mut now, op, 1)?;
        }
    }

    /// The same, with every call repeated 1–4 times in a row (a retry after a lost reply),
    /// and coupons claimed up front so that orders compete for them: each repeat answers
    /// as the first, and the budget is charged once per serial.
    #[test]
    fn retried_calls_answer_alike_and_charge_once(
        campaigns in prop::collection::vec(centre_campaign(), 3),
        ops in prop::collection::vec((op(8), 1usize..5), 0..150),
    ) {
        let campaigns: Vec<CampaignSpec> = campaigns
            .into_iter()
            .map(|c| CampaignSpec { activate_at: SimTime::ZERO, pauses: Vec::new(), per_member_limit: 4, stores: None, ..c })
            .collect();
        let mut centre = CouponCentre::new(&campaigns).unwrap();
        let (mut book, mut now) = (Book::default(), SimTime::ZERO);
        for member in 0..4 {
            for campaign in 0..3 {
                run(&mut centre, &mut book, &mut now, &Op::Claim { campaign, member, store: Some(0) }, 1)?;
            }
        }
        for (op, times) in &ops {
            run(&mut centre, &mut book, &mut now, op, *times)?;
        }
    }
}
