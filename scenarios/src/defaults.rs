//! No hidden defaults: every value loading used because the scenario does not give it.
//!
//! A key the format lets a planner leave out still decides the run (`lane.open_at_start`,
//! `replenishment.round_s`, a payment method's seconds, a device that never fails). Loading
//! records each one it filled in, with the key as the planner would write it and the value
//! used, in [`crate::Scenario::defaults`]; `storetwin validate` prints them.
//!
//! Keys name an item of an array by its name, `lane[L7].open_at_start`
//! (`sku["Bananas 1 kg"].popularity` when the name is not a bare word), or by its position
//! when it has none (`disruption[2].until`, counted from 0 in the merged scenario). Leaving
//! out a whole list (no `[[device]]`, no `[lines]`, no `[[store.zone]]`) is not a default:
//! the scenario simply has none.

use crate::document::{Node, Value};
use crate::format::{
    DEFAULT_OPEN_AT_START, DEFAULT_POPULARITY, DEFAULT_REPLICATIONS, DEFAULT_ROUND_S, DEFAULT_UNIT_WEIGHT_G,
    PAY_S_DEFAULTS, ScenarioFile,
};

/// A value a scenario did not give, which loading used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedDefault {
    /// Where the value would be written, as a planner writes it: `replenishment.round_s`,
    /// `lane[L7].pay_s.cash` (an item of an array by its name, or by its position from 0
    /// if it has none).
    pub key: String,
    /// The value used, as it would be written in the file (`3600`, `true`), or in words
    /// where the file cannot write it (`none`, `unbounded`).
    pub value: String,
    /// What the value means for the run.
    pub note: &'static str,
}

/// The defaults the merged document `root` (read as `file`) relies on, in file order.
pub(crate) fn applied(root: &Node, file: &ScenarioFile) -> Vec<AppliedDefault> {
    let mut out = Defaults(Vec::new());
    let has = |node: Option<&Node>, key: &str| node.and_then(Node::as_table).is_some_and(|t| t.contains_key(key));
    let section = |key: &str| root.as_table().and_then(|t| t.get(key)).map(|e| &e.node);
    let items = |key: &str| match section(key).map(|n| &n.value) {
        Some(Value::Array(items)) => items.as_slice(),
        _ => &[],
    };

    if !has(section("run"), "replications") {
        out.add("run.replications".into(), DEFAULT_REPLICATIONS.to_string(), "one replication");
    }
    if !has(section("store"), "max_density_per_m2") {
        out.add(
            "store.max_density_per_m2".into(),
            number(storetwin_actors::store::crowd::DEFAULT_MAX_DENSITY),
            "most people per m² of floor; walking slows with density (Weidmann)",
        );
    }
    for (i, (node, sku)) in items("sku").iter().zip(&file.sku).enumerate() {
        if !has(Some(node), "popularity") {
            out.add(
                item("sku", &sku.name, i, "popularity"),
                number(DEFAULT_POPULARITY),
                "as popular as any other SKU of its category left at 1",
            );
        }
        if !has(Some(node), "unit_weight_g") {
            out.add(
                item("sku", &sku.name, i, "unit_weight_g"),
                DEFAULT_UNIT_WEIGHT_G.to_string(),
                "grams a unit weighs: a real smart shelf's weight reading in units",
            );
        }
    }
    for (i, (node, segment)) in items("segment").iter().zip(&file.segment).enumerate() {
        let payment = node.as_table().and_then(|t| t.get("payment")).map(|e| &e.node);
        for (method, _) in PAY_S_DEFAULTS {
            if !has(payment, method) {
                let key = item("segment", &segment.name, i, &format!("payment.{method}"));
                out.add(key, "0".into(), "nobody in the segment pays this way");
            }
        }
    }
    for (name, line) in &file.lines {
        if line.capacity.is_none() {
            let key = format!("lines.{}.capacity", bare_or_quoted(name));
            out.add(key, "unbounded".into(), "the line never turns a shopper away");
        }
    }
    for (i, (node, lane)) in items("lane").iter().zip(&file.lane).enumerate() {
        if lane.line.is_none() {
            out.add(item("lane", &lane.name, i, "line"), "none".into(), "the lane has its own queue");
        }
        if !has(Some(node), "open_at_start") {
            let value = DEFAULT_OPEN_AT_START.to_string();
            out.add(item("lane", &lane.name, i, "open_at_start"), value, "open when the store opens");
        }
        for ((method, seconds), given) in PAY_S_DEFAULTS.into_iter().zip(lane.pay_s.methods()) {
            if given.is_none() {
                let key = item("lane", &lane.name, i, &format!("pay_s.{method}"));
                out.add(key, number(seconds), "seconds to pay this way (the format's default)");
            }
        }
    }
    if file.lane_policy.open_when_queue.is_none() {
        out.add("lane_policy.open_when_queue".into(), "none".into(), "the policy never opens a closed lane");
    }
    if file.lane_policy.close_when_idle_s.is_none() {
        out.add("lane_policy.close_when_idle_s".into(), "none".into(), "the policy never closes a lane it opened");
    }
    for (i, device) in file.device.iter().enumerate() {
        if device.failures.is_none() {
            out.add(item("device", &device.name, i, "failures"), "none".into(), "never fails at random");
        }
    }
    for (i, d) in file.disruption.iter().enumerate() {
        if d.price_change.is_none() && d.until.is_none() {
            let key = match &d.name {
                Some(name) => item("disruption", name, i, "until"),
                None => format!("disruption[{i}].until"),
            };
            out.add(key, file.run.close.to_string(), "lasts until closing");
        }
    }
    if !has(section("replenishment"), "round_s") {
        out.add(
            "replenishment.round_s".into(),
            DEFAULT_ROUND_S.to_string(),
            "staff walk the floor every hour, restocking shelves no smart shelf watches",
        );
    }
    out.0
}

struct Defaults(Vec<AppliedDefault>);

impl Defaults {
    fn add(&mut self, key: String, value: String, note: &'static str) {
        self.0.push(AppliedDefault { key, value, note });
    }
}

/// `lane[L7].open_at_start`; an item with an empty name by its position.
pub(crate) fn item(array: &str, name: &str, index: usize, key: &str) -> String {
    if name.is_empty() { format!("{array}[{index}].{key}") } else { format!("{array}[{}].{key}", bare_or_quoted(name)) }
}

/// A name as is if it is a bare word that is not a number, quoted otherwise.
pub(crate) fn bare_or_quoted(name: &str) -> String {
    let bare = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !name.chars().all(|c| c.is_ascii_digit());
    if bare && !name.is_empty() { name.to_owned() } else { format!("{name:?}") }
}

/// A number as a planner writes it: `5`, `2.5`.
pub(crate) fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_as_a_planner_writes_them() {
        assert_eq!(item("lane", "L7", 6, "open_at_start"), "lane[L7].open_at_start");
        assert_eq!(item("sku", "Bananas 1 kg", 0, "popularity"), "sku[\"Bananas 1 kg\"].popularity");
        assert_eq!(item("lane", "3", 2, "line"), "lane[\"3\"].line");
        assert_eq!(item("lane", "", 2, "line"), "lane[2].line");
        assert_eq!((number(5.0), number(2.5)), ("5".to_owned(), "2.5".to_owned()));
    }
}
