//! What each KPI of a comparison is, for the people who read it: the group it is listed
//! under, its name and unit, which way is better, and where it comes in its group.
//!
//! The names are the keys of [`flat`]: `StoreKpis::flat`'s (`footfall`, `sales`,
//! `queue[L1].wait_mean_s`, `lane[L1].utilisation`, `kiosk[kiosk].reneged`,
//! `crowd.slowed_s_per_shopper`, `zone[front aisle].peak_density`, ...) and each zone's dwell
//! and conversion (`zone[aisles 1-2].dwell_s`, `zone[aisles 1-2].conversion`). The console
//! table of `storetwin compare`, its JSON and `compare.html` all describe and order KPIs
//! from here, so they read alike. A key this file does not know (a KPI added later) is
//! still listed, under "other", with its key as its name.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use storetwin_actors::store::summary::StoreKpis;

use crate::stats::{self, Estimate};

/// The unit of money. The scenario format names no currency: prices are written in the
/// major units of the store's own currency, and so are all money KPIs.
pub const CURRENCY: &str = "currency units";

/// The KPIs of one run by name: [`StoreKpis::flat`] and each zone's dwell per visitor and
/// conversion.
pub fn flat(kpis: &StoreKpis) -> BTreeMap<String, f64> {
    let mut out = kpis.flat();
    for z in &kpis.zones {
        out.insert(format!("zone[{}].dwell_s", z.name), z.dwell_s_per_visitor);
        out.insert(format!("zone[{}].conversion", z.name), z.conversion);
    }
    out
}

/// The groups KPIs are listed under, in the order they are listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    Footfall,
    Sales,
    Queues,
    Lanes,
    Zones,
    /// How crowded the floor was: time lost to crowds, density per zone.
    Crowding,
    Sensors,
    Other,
}

impl Group {
    /// The heading of the group.
    pub fn title(self) -> &'static str {
        match self {
            Group::Footfall => "footfall & conversion",
            Group::Sales => "sales",
            Group::Queues => "queues",
            Group::Lanes => "lanes",
            Group::Zones => "zones",
            Group::Crowding => "crowding",
            Group::Sensors => "sensors",
            Group::Other => "other",
        }
    }
}

/// What a KPI's value is, which decides how it is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// People, items or orders (a mean across replications may have decimals).
    Count,
    /// Major units of the store's currency ([`CURRENCY`]).
    Money,
    /// A share between 0 and 1, written in percent (differences in percentage points).
    Fraction,
    Seconds,
    /// Any other number.
    Number,
}

impl Unit {
    /// What a value is multiplied by to be written (fractions as percentages).
    pub fn scale(self) -> f64 {
        if self == Unit::Fraction { 100.0 } else { 1.0 }
    }

    /// Decimals when there is no interval to size them by (one replication, or a
    /// difference that is exactly the same in every replication).
    pub fn default_decimals(self) -> usize {
        match self {
            Unit::Count => 0,
            Unit::Fraction | Unit::Seconds => 1,
            Unit::Money | Unit::Number => 2,
        }
    }

    /// Written after a value on the page ("12.5 s", "97.9%").
    pub fn suffix(self) -> &'static str {
        match self {
            Unit::Seconds => " s",
            Unit::Fraction => "%",
            _ => "",
        }
    }

    /// A mean across replications as written: with "± half-width" of its 95% confidence
    /// interval when there are several ("12.3 ± 0.41"), decimals sized by the interval.
    pub fn plus_minus(self, e: &Estimate) -> String {
        let e = e.scaled(self.scale());
        let d = stats::decimals(&e, self.default_decimals(), false);
        if e.n > 1 {
            format!("{} ± {}", stats::fixed(e.mean, d), stats::fixed(e.ci95, d))
        } else {
            stats::fixed(e.mean, d)
        }
    }

    /// Written after a difference on the page: fractions differ in percentage points.
    pub fn diff_suffix(self) -> &'static str {
        if self == Unit::Fraction { " pp" } else { self.suffix() }
    }
}

/// Which way a KPI is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
    /// Neither way is good or bad in itself (visit length, utilisation, sensed counts).
    Neither,
}

/// What a KPI with a subject is of; also the order of subjects within a group (a lane's
/// own queue, then shared lines, then kiosks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum SubjectKind {
    Queue,
    /// A line shared by several lanes.
    Line,
    Kiosk,
    Lane,
    Zone,
}

impl SubjectKind {
    fn of(prefix: &str, subject: &str, shared_lines: &BTreeSet<String>) -> SubjectKind {
        match prefix {
            "queue" if shared_lines.contains(subject) => SubjectKind::Line,
            "queue" => SubjectKind::Queue,
            "kiosk" => SubjectKind::Kiosk,
            "lane" => SubjectKind::Lane,
            _ => SubjectKind::Zone,
        }
    }

    /// The noun a title puts before the subject's name ("queue L1", "zone checkout").
    fn noun(self) -> &'static str {
        match self {
            SubjectKind::Queue | SubjectKind::Line => "queue ",
            SubjectKind::Lane => "lane ",
            SubjectKind::Zone => "zone ",
            // Kiosks carry the word in their short name already.
            SubjectKind::Kiosk => "",
        }
    }
}

/// One KPI, described.
#[derive(Clone, Debug, PartialEq)]
pub struct Kpi {
    /// Its name in [`flat`].
    pub key: String,
    pub group: Group,
    /// The queue, lane or zone it is of, if it is of one.
    pub subject: Option<String>,
    /// What is measured, without its subject or unit: "footfall", "mean wait".
    pub measure: String,
    pub unit: Unit,
    /// The unit as written after a name: "s", "%", "shoppers", "currency units".
    pub unit_text: String,
    pub better: Better,
    /// What the subject is (a kiosk's queue is listed after the checkout queues).
    kind: Option<SubjectKind>,
    /// Where the KPI comes among the store-wide KPIs of its group, or among its
    /// subject's KPIs.
    rank: usize,
}

/// The store-wide KPIs: key, group, measure, unit, unit text ("¤" is the currency) and
/// which way is better, in the order they are listed within their group.
const STORE: [(&str, Group, &str, Unit, &str, Better); 25] = [
    ("footfall", Group::Footfall, "footfall", Unit::Count, "shoppers", Better::Higher),
    ("buyers", Group::Footfall, "buyers", Unit::Count, "shoppers", Better::Higher),
    ("conversion", Group::Footfall, "conversion", Unit::Fraction, "%", Better::Higher),
    ("basket_mean_items", Group::Footfall, "basket", Unit::Number, "items per buyer", Better::Higher),
    ("mean_visit_s", Group::Footfall, "mean visit", Unit::Seconds, "s", Better::Neither),
    ("sales", Group::Sales, "sales", Unit::Money, "¤", Better::Higher),
    ("sales_per_m2", Group::Sales, "sales per m²", Unit::Money, "¤/m²", Better::Higher),
    ("lost_value", Group::Sales, "lost sales", Unit::Money, "¤", Better::Lower),
    ("lost_items", Group::Sales, "lost sales", Unit::Count, "items", Better::Lower),
    ("impulse_adds", Group::Sales, "impulse buys", Unit::Count, "items", Better::Higher),
    ("kiosk_orders", Group::Sales, "kiosk orders", Unit::Count, "orders", Better::Neither),
    ("wait_mean_s", Group::Queues, "all queues: mean wait", Unit::Seconds, "s", Better::Lower),
    ("wait_p90_s", Group::Queues, "all queues: p90 wait", Unit::Seconds, "s", Better::Lower),
    ("wait_max_s", Group::Queues, "all queues: longest wait", Unit::Seconds, "s", Better::Lower),
    ("balked", Group::Queues, "balked", Unit::Count, "shoppers", Better::Lower),
    ("reneged", Group::Queues, "reneged", Unit::Count, "shoppers", Better::Lower),
    ("balk_rate", Group::Queues, "balk rate", Unit::Fraction, "% of footfall", Better::Lower),
    ("renege_rate", Group::Queues, "renege rate", Unit::Fraction, "% of footfall", Better::Lower),
    ("crowd.slowed_s_per_shopper", Group::Crowding, "slowed by crowds, per shopper", Unit::Seconds, "s", Better::Lower),
    (
        "crowd.blocked_s_per_shopper",
        Group::Crowding,
        "blocked by full cells, per shopper",
        Unit::Seconds,
        "s",
        Better::Lower,
    ),
    ("crowd.to_first_shelf_s", Group::Crowding, "door to first shelf", Unit::Seconds, "s", Better::Lower),
    ("crowd.entry_waits", Group::Crowding, "waited outside a full entrance", Unit::Count, "shoppers", Better::Lower),
    ("footfall_sensed", Group::Sensors, "footfall, door counters", Unit::Count, "shoppers", Better::Neither),
    ("wifi_visitors_sensed", Group::Sensors, "visitors, WiFi probes", Unit::Count, "shoppers", Better::Neither),
    ("mean_visit_s_sensed", Group::Sensors, "mean visit, WiFi probes", Unit::Seconds, "s", Better::Neither),
];

/// The KPIs of a queue, lane or zone: group, the key's prefix, the measure's key, its
/// name, unit, unit text and which way is better, in their order.
const PER_SUBJECT: [(Group, &str, &str, &str, Unit, &str, Better); 9] = [
    (Group::Queues, "queue", "wait_mean_s", "mean wait", Unit::Seconds, "s", Better::Lower),
    (Group::Queues, "queue", "wait_p90_s", "p90 wait", Unit::Seconds, "s", Better::Lower),
    (Group::Queues, "kiosk", "wait_mean_s", "mean wait", Unit::Seconds, "s", Better::Lower),
    (Group::Queues, "kiosk", "reneged", "gave up waiting", Unit::Count, "shoppers", Better::Lower),
    (Group::Lanes, "lane", "utilisation", "utilisation", Unit::Fraction, "%", Better::Neither),
    (Group::Zones, "zone", "dwell_s", "dwell per visitor", Unit::Seconds, "s", Better::Neither),
    (Group::Zones, "zone", "conversion", "conversion", Unit::Fraction, "%", Better::Higher),
    (Group::Crowding, "zone", "mean_density", "mean density", Unit::Number, "people/m²", Better::Lower),
    (Group::Crowding, "zone", "peak_density", "peak density", Unit::Number, "people/m²", Better::Lower),
];

/// Subject names longer than this are shortened (with "…") in labels.
pub const SUBJECT_CHARS: usize = 22;

impl Kpi {
    /// Describes `key`. `shared_lines` are the names of the queues that are lines shared by
    /// several lanes.
    pub fn of(key: &str, shared_lines: &BTreeSet<String>) -> Kpi {
        let kpi = |group, subject: Option<(&str, &str)>, measure: &str, unit, unit_text: &str, better, rank| Kpi {
            key: key.to_string(),
            group,
            kind: subject.map(|(prefix, s)| SubjectKind::of(prefix, s, shared_lines)),
            subject: subject.map(|(_, s)| s.to_string()),
            measure: measure.to_string(),
            unit,
            unit_text: unit_text.replace('¤', CURRENCY),
            better,
            rank,
        };
        if let Some(rank) = STORE.iter().position(|s| s.0 == key) {
            let (_, group, measure, unit, unit_text, better) = STORE[rank];
            return kpi(group, None, measure, unit, unit_text, better, rank);
        }
        if let Some((prefix, rest)) = key.split_once('[')
            && let Some((subject, what)) = rest.rsplit_once("].")
            && let Some(rank) = PER_SUBJECT.iter().position(|m| m.1 == prefix && m.2 == what)
        {
            let (group, _, _, measure, unit, unit_text, better) = PER_SUBJECT[rank];
            return kpi(group, Some((prefix, subject)), measure, unit, unit_text, better, rank);
        }
        // A KPI added to `StoreKpis::flat` after this file was written.
        let (unit, unit_text) = if key.ends_with("_s") { (Unit::Seconds, "s") } else { (Unit::Number, "") };
        kpi(Group::Other, None, key, unit, unit_text, Better::Neither, 0)
    }

    /// The subject's name as listed: a shared line of many lanes as "line A–Z", a kiosk
    /// with the word "kiosk" (unless its name has it), and a long name cut to
    /// [`SUBJECT_CHARS`].
    pub fn short_subject(&self) -> Option<String> {
        let kiosk = self.kind == Some(SubjectKind::Kiosk);
        self.subject.as_deref().map(|s| {
            let s = queue_label(s);
            let s = if kiosk && !s.to_lowercase().contains("kiosk") { format!("kiosk {s}") } else { s };
            shorten(&s, SUBJECT_CHARS)
        })
    }

    /// The name within its group, without unit: "footfall", "L1: mean wait".
    pub fn name(&self) -> String {
        match self.short_subject() {
            Some(s) => format!("{s}: {}", self.measure),
            None => self.measure.clone(),
        }
    }

    /// The name within its group with its unit: "footfall (shoppers)", "L1: mean wait (s)".
    pub fn label(&self) -> String {
        with_unit(self.name(), &self.unit_text)
    }

    /// The name as a page writes it, whose figures carry " s" and "%" themselves: with
    /// its unit only when the figures do not say it ("sales (currency units)", "balk rate
    /// (% of footfall)", but "mean wait").
    pub fn page_label(&self) -> String {
        if self.unit_text == self.unit.suffix().trim() { self.name() } else { self.label() }
    }

    /// The name with its unit where no group heading says what its subject is:
    /// "queue L11: mean wait (s)", "zone checkout: conversion (%)", "kiosk: gave up waiting
    /// (shoppers)".
    pub fn title(&self) -> String {
        let noun = self.kind.map_or("", SubjectKind::noun);
        match self.short_subject() {
            Some(s) => with_unit(format!("{noun}{s}: {}", self.measure), &self.unit_text),
            None => self.label(),
        }
    }

    /// The order KPIs are listed in: by group; within it the store-wide KPIs first, then
    /// by subject (a lane's own queue before shared lines, kiosks last, then names in
    /// natural order: L2 before L10), then the subject's KPIs in their order.
    pub fn listing_order(&self, other: &Kpi) -> Ordering {
        let subject = |k: &Kpi| k.subject.as_ref().map(|s| (k.kind, s.clone()));
        self.group
            .cmp(&other.group)
            .then_with(|| match (subject(self), subject(other)) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some((la, a)), Some((lb, b))) => la.cmp(&lb).then_with(|| natural_cmp(&a, &b)),
            })
            .then(self.rank.cmp(&other.rank))
            .then_with(|| natural_cmp(&self.key, &other.key))
    }
}

/// Short display name of a queue: a shared line of many lanes as "line A…Z".
pub fn queue_label(name: &str) -> String {
    match name.strip_prefix("line ") {
        Some(lanes) if lanes.matches('+').count() >= 2 => {
            let first = lanes.split('+').next().unwrap_or(lanes);
            let last = lanes.rsplit('+').next().unwrap_or(lanes);
            format!("line {first}\u{2013}{last}")
        }
        _ => name.to_string(),
    }
}

/// `name (unit)`, or just the name when there is no unit.
fn with_unit(name: String, unit: &str) -> String {
    if unit.is_empty() { name } else { format!("{name} ({unit})") }
}

/// `s` cut to at most `max` characters, ending in "…" when cut.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The names of the queues of `kpis` that are lines shared by several lanes.
pub fn shared_lines<'a>(kpis: impl IntoIterator<Item = &'a StoreKpis>) -> BTreeSet<String> {
    kpis.into_iter().flat_map(|k| &k.queues).filter(|q| q.kind == "line").map(|q| q.name.clone()).collect()
}

/// Compares names as people do: runs of digits by their value, the rest by letters
/// regardless of case ("L2" < "L10" < "line front" < "SCO1").
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (chunks(a), chunks(b));
    loop {
        match (x.next(), y.next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) => {
                let order = match (p.bytes().all(|c| c.is_ascii_digit()), q.bytes().all(|c| c.is_ascii_digit())) {
                    (true, true) => {
                        let (p, q) = (p.trim_start_matches('0'), q.trim_start_matches('0'));
                        p.len().cmp(&q.len()).then_with(|| p.cmp(q))
                    }
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => p.to_lowercase().cmp(&q.to_lowercase()),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// `s` split into runs of ASCII digits and runs of anything else.
fn chunks(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let digit = first.is_ascii_digit();
        let end = rest.find(|c: char| c.is_ascii_digit() != digit).unwrap_or(rest.len());
        let (chunk, tail) = rest.split_at(end);
        rest = tail;
        Some(chunk)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(keys: &[&str], lines: &[&str]) -> Vec<String> {
        let lines: BTreeSet<String> = lines.iter().map(|s| s.to_string()).collect();
        let mut kpis: Vec<Kpi> = keys.iter().map(|k| Kpi::of(k, &lines)).collect();
        kpis.sort_by(|a, b| a.listing_order(b));
        kpis.into_iter().map(|k| k.key).collect()
    }

    #[test]
    fn names_sort_as_people_count() {
        let mut names = vec!["L10", "SCO2", "L2", "line front", "L1", "SCO10", "GO1", "aisles 10-12", "aisles 3-6"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(names, ["aisles 3-6", "aisles 10-12", "GO1", "L1", "L2", "L10", "line front", "SCO2", "SCO10"]);
        assert_ne!(natural_cmp("L007", "L7"), Ordering::Equal, "equal values, different names: still a total order");
        assert_eq!(natural_cmp("L99999999999999999999999", "L100000000000000000000000"), Ordering::Less);
        assert_eq!(natural_cmp("", "L1"), Ordering::Less);
    }

    #[test]
    fn kpis_are_listed_by_group_then_store_wide_then_subject_in_natural_order() {
        let keys = [
            "lane[L10].utilisation",
            "queue[line front].wait_mean_s",
            "queue[L10].wait_p90_s",
            "queue[L10].wait_mean_s",
            "queue[L2].wait_mean_s",
            "wait_mean_s",
            "zone[aisles 10-12].dwell_s",
            "zone[aisles 1-2].conversion",
            "zone[aisles 1-2].dwell_s",
            "footfall_sensed",
            "sales",
            "footfall",
            "lane[L2].utilisation",
            "crowding_index",
            "zone[aisles 10-12].mean_density",
            "kiosk[kiosk].reneged",
            "crowd.slowed_s_per_shopper",
            "zone[aisles 1-2].peak_density",
            "kiosk[kiosk].wait_mean_s",
        ];
        assert_eq!(
            sorted(&keys, &["line front"]),
            [
                "footfall",
                "sales",
                "wait_mean_s",
                "queue[L2].wait_mean_s",
                "queue[L10].wait_mean_s",
                "queue[L10].wait_p90_s",
                "queue[line front].wait_mean_s",
                "kiosk[kiosk].wait_mean_s",
                "kiosk[kiosk].reneged",
                "lane[L2].utilisation",
                "lane[L10].utilisation",
                "zone[aisles 1-2].dwell_s",
                "zone[aisles 1-2].conversion",
                "zone[aisles 10-12].dwell_s",
                "crowd.slowed_s_per_shopper",
                "zone[aisles 1-2].peak_density",
                "zone[aisles 10-12].mean_density",
                "footfall_sensed",
                "crowding_index",
            ]
        );
        // A shared line sorts after every lane's own queue, whatever its name.
        assert_eq!(
            sorted(&["queue[SCO line].wait_mean_s", "queue[T9].wait_mean_s"], &["SCO line"]),
            ["queue[T9].wait_mean_s", "queue[SCO line].wait_mean_s"]
        );
    }

    #[test]
    fn a_shared_line_of_many_lanes_is_named_by_its_first_and_last_lane() {
        assert_eq!(queue_label("line SCO1+SCO2+SCO3"), "line SCO1\u{2013}SCO3");
        assert_eq!(queue_label("line A+B"), "line A+B");
        assert_eq!(queue_label("L1"), "L1");
    }

    #[test]
    fn labels_carry_units_and_short_subjects() {
        let none = BTreeSet::new();
        let k = Kpi::of("queue[line SCO1+SCO2+SCO3+SCO4+SCO5+SCO6].wait_p90_s", &none);
        assert_eq!((k.group, k.unit, k.better), (Group::Queues, Unit::Seconds, Better::Lower));
        assert_eq!(k.label(), "line SCO1\u{2013}SCO6: p90 wait (s)");
        assert_eq!(k.title(), "queue line SCO1\u{2013}SCO6: p90 wait (s)");
        assert_eq!(Kpi::of("sales", &none).label(), "sales (currency units)");
        assert_eq!(Kpi::of("sales_per_m2", &none).label(), "sales per m² (currency units/m²)");
        assert_eq!(Kpi::of("conversion", &none).label(), "conversion (%)");
        let zone = Kpi::of("zone[the very long name of a zone by the door].conversion", &none);
        assert_eq!(zone.title(), "zone the very long name of…: conversion (%)");
        assert_eq!(zone.short_subject().map(|s| s.chars().count()), Some(SUBJECT_CHARS));
        let lane = Kpi::of("lane[front].utilisation", &none);
        assert_eq!((lane.group, lane.title()), (Group::Lanes, "lane front: utilisation (%)".to_string()));
        let kiosk = Kpi::of("kiosk[kiosk].reneged", &none);
        assert_eq!((kiosk.group, kiosk.unit, kiosk.better), (Group::Queues, Unit::Count, Better::Lower));
        assert_eq!(kiosk.label(), "kiosk: gave up waiting (shoppers)");
        assert_eq!(kiosk.title(), "kiosk: gave up waiting (shoppers)", "not \"kiosk kiosk\"");
        assert_eq!(Kpi::of("kiosk[K1].wait_mean_s", &none).title(), "kiosk K1: mean wait (s)");
        let density = Kpi::of("zone[front aisle].peak_density", &none);
        assert_eq!((density.group, density.unit, density.better), (Group::Crowding, Unit::Number, Better::Lower));
        assert_eq!(density.label(), "front aisle: peak density (people/m²)");
        assert_eq!(density.title(), "zone front aisle: peak density (people/m²)");
        assert_eq!(density.page_label(), density.label(), "the figures do not say people/m²");
        let slowed = Kpi::of("crowd.slowed_s_per_shopper", &none);
        assert_eq!((slowed.group, slowed.label()), (Group::Crowding, "slowed by crowds, per shopper (s)".to_string()));
        assert_eq!(slowed.page_label(), "slowed by crowds, per shopper", "seconds are written with the figures");
        assert_eq!(Kpi::of("crowd.entry_waits", &none).label(), "waited outside a full entrance (shoppers)");
        assert_eq!(Kpi::of("crowd.to_first_shelf_s", &none).unit, Unit::Seconds);
        let new = Kpi::of("crowding_s", &none);
        assert_eq!((new.group, new.label()), (Group::Other, "crowding_s (s)".to_string()));
    }
}
