//! Properties of `extends` merging by name: a variant that names existing items with a
//! subset of their keys gives the base with exactly those keys replaced, and where a
//! changed item appears in the variant does not matter.

mod common;

use std::fmt::Write as _;
use std::path::Path;

use common::{MINI, render, temp_dir};
use proptest::prelude::*;
use storetwin_actors::Cents;
use storetwin_actors::store::spec::WorldSpec;

/// One SKU of the base (capacity 10, category dairy) and its keys' values.
#[derive(Clone, Debug)]
struct Sku {
    price_cents: i64,
    shelf: u32,
    back_room: u32,
    reorder_at: u32,
    popularity: u32,
}

/// The keys a variant changes of one SKU (`None`: left as the base has it).
#[derive(Clone, Debug)]
struct Change {
    sku: usize,
    price_cents: Option<i64>,
    shelf: Option<u32>,
    back_room: Option<u32>,
    reorder_at: Option<u32>,
    popularity: Option<u32>,
}

fn sku() -> impl Strategy<Value = Sku> {
    (1i64..100_000, 0u32..=10, 0u32..1000, 0u32..=10, 1u32..6).prop_map(
        |(price_cents, shelf, back_room, reorder_at, popularity)| Sku {
            price_cents,
            shelf,
            back_room,
            reorder_at,
            popularity,
        },
    )
}

fn change(sku: usize) -> impl Strategy<Value = Change> {
    (
        prop::option::of(1i64..100_000),
        prop::option::of(0u32..=10),
        prop::option::of(0u32..1000),
        prop::option::of(0u32..=10),
        prop::option::of(1u32..6),
    )
        .prop_map(move |(price_cents, shelf, back_room, reorder_at, popularity)| Change {
            sku,
            price_cents,
            shelf,
            back_room,
            reorder_at,
            popularity,
        })
}

/// A base of 1 to 8 extra SKUs, changes to a subset of them, and that subset's changes
/// in two orders.
fn case() -> impl Strategy<Value = (Vec<Sku>, Vec<Change>, Vec<Change>)> {
    prop::collection::vec(sku(), 1..8)
        .prop_flat_map(|skus| {
            let n = skus.len();
            let changes = prop::sample::subsequence((0..n).collect::<Vec<_>>(), 0..=n)
                .prop_flat_map(|chosen| chosen.into_iter().map(change).collect::<Vec<_>>());
            (Just(skus), changes)
        })
        .prop_flat_map(|(skus, changes)| {
            let shuffled = Just(changes.clone()).prop_shuffle();
            (Just(skus), Just(changes), shuffled)
        })
}

fn price(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn base_text(skus: &[Sku]) -> String {
    let mut text = MINI.to_owned();
    for (i, s) in skus.iter().enumerate() {
        let _ = write!(
            text,
            "\n[[sku]]\nname = \"Extra {i}\"\ncategory = \"dairy\"\nprice = \"{}\"\ncost = \"0.10\"\nshelf = {}\n\
             shelf_capacity = 10\nback_room = {}\nreorder_at = {}\npopularity = {}\n",
            price(s.price_cents),
            s.shelf,
            s.back_room,
            s.reorder_at,
            s.popularity
        );
    }
    text
}

fn variant_text(changes: &[Change]) -> String {
    let mut text = "extends = \"a.toml\"\n".to_owned();
    for c in changes {
        let _ = write!(text, "\n[[sku]]\nname = \"Extra {}\"\n", c.sku);
        if let Some(p) = c.price_cents {
            let _ = writeln!(text, "price = \"{}\"", price(p));
        }
        for (key, v) in
            [("shelf", c.shelf), ("back_room", c.back_room), ("reorder_at", c.reorder_at), ("popularity", c.popularity)]
        {
            if let Some(v) = v {
                let _ = writeln!(text, "{key} = {v}");
            }
        }
    }
    text
}

fn load_in(dir: &Path, name: &str, text: &str) -> WorldSpec {
    std::fs::write(dir.join(name), text).expect("write");
    storetwin_scenarios::load(&dir.join(name)).unwrap_or_else(|e| panic!("{}\n{text}", render(&e))).world
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn a_variant_naming_items_replaces_exactly_the_keys_it_gives((skus, changes, shuffled) in case()) {
        let dir = temp_dir("merge-props");
        let base = load_in(&dir, "a.toml", &base_text(&skus));
        let merged = load_in(&dir, "b.toml", &variant_text(&changes));
        let mut expected = base.clone();
        let first = expected.store.catalogue.len() - skus.len();
        for c in &changes {
            let s = &mut expected.store.catalogue[first + c.sku];
            if let Some(p) = c.price_cents { s.price = Cents(p); }
            if let Some(v) = c.shelf { s.shelf = v; }
            if let Some(v) = c.back_room { s.back_room = v; }
            if let Some(v) = c.reorder_at { s.reorder_at = v; }
            if let Some(v) = c.popularity { s.popularity = f64::from(v); }
        }
        prop_assert_eq!(&merged, &expected);
        // The same changes in another order: the same world.
        let reordered = load_in(&dir, "c.toml", &variant_text(&shuffled));
        prop_assert_eq!(&reordered, &merged);
    }
}
