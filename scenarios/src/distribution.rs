//! Random quantities as scenario files write them: a bare number (a constant), or a
//! table naming the distribution and its parameters:
//!
//! ```toml
//! dwell_s = { dist = "lognormal", mean = 20, sd = 12 }
//! patience_s = { dist = "exponential", mean = 300 }
//! speed_mps = { dist = "normal", mean = 1.2, sd = 0.2 }
//! base_s = { dist = "uniform", low = 10, high = 20 }
//! per_item_s = 3.5
//! basket = { dist = "empirical", values = [1, 2, 5], weights = [5, 3, 2] }
//! ```
//!
//! Each distribution takes exactly its own parameters; the values are checked by the
//! constructors of [`Dist`], so a scenario never holds a distribution that cannot be
//! sampled.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use storetwin_actors::Dist;

/// A distribution in a scenario file, checked and built.
#[derive(Clone, Debug, PartialEq)]
pub struct Distribution(pub Dist);

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Name {
    Constant,
    Exponential,
    Lognormal,
    Normal,
    Uniform,
    Empirical,
}

impl Name {
    fn text(self) -> &'static str {
        match self {
            Name::Constant => "constant",
            Name::Exponential => "exponential",
            Name::Lognormal => "lognormal",
            Name::Normal => "normal",
            Name::Uniform => "uniform",
            Name::Empirical => "empirical",
        }
    }

    fn parameters(self) -> &'static [&'static str] {
        match self {
            Name::Constant => &["value"],
            Name::Exponential => &["mean"],
            Name::Lognormal | Name::Normal => &["mean", "sd"],
            Name::Uniform => &["low", "high"],
            Name::Empirical => &["values", "weights"],
        }
    }
}

/// Every parameter any distribution takes; [`build`] checks which belong to which.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    dist: Name,
    value: Option<f64>,
    mean: Option<f64>,
    sd: Option<f64>,
    low: Option<f64>,
    high: Option<f64>,
    values: Option<Vec<f64>>,
    weights: Option<Vec<f64>>,
}

fn build(t: Table) -> Result<Dist, String> {
    let given: [(&str, bool); 7] = [
        ("value", t.value.is_some()),
        ("mean", t.mean.is_some()),
        ("sd", t.sd.is_some()),
        ("low", t.low.is_some()),
        ("high", t.high.is_some()),
        ("values", t.values.is_some()),
        ("weights", t.weights.is_some()),
    ];
    let name = t.dist;
    let takes = name.parameters();
    let list = takes.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(" and ");
    for (param, present) in given {
        if present && !takes.contains(&param) {
            return Err(format!(
                "`{param}` is not a parameter of the {} distribution, which takes {list}",
                name.text()
            ));
        }
    }
    let missing = |p: &str| format!("the {} distribution needs `{p}` (it takes {list})", name.text());
    let result = match name {
        Name::Constant => Dist::constant(t.value.ok_or_else(|| missing("value"))?),
        Name::Exponential => Dist::exponential(t.mean.ok_or_else(|| missing("mean"))?),
        Name::Lognormal => Dist::lognormal(t.mean.ok_or_else(|| missing("mean"))?, t.sd.ok_or_else(|| missing("sd"))?),
        Name::Normal => Dist::normal(t.mean.ok_or_else(|| missing("mean"))?, t.sd.ok_or_else(|| missing("sd"))?),
        Name::Uniform => Dist::uniform(t.low.ok_or_else(|| missing("low"))?, t.high.ok_or_else(|| missing("high"))?),
        Name::Empirical => {
            Dist::empirical(t.values.ok_or_else(|| missing("values"))?, t.weights.ok_or_else(|| missing("weights"))?)
        }
    };
    result.map_err(|e| format!("{} distribution: {e}", name.text()))
}

impl<'de> Deserialize<'de> for Distribution {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Distribution, D::Error> {
        deserializer.deserialize_any(DistributionVisitor)
    }
}

struct DistributionVisitor;

impl<'de> Visitor<'de> for DistributionVisitor {
    type Value = Distribution;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a distribution like { dist = \"exponential\", mean = 30 }")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Distribution, E> {
        Dist::constant(v).map(Distribution).map_err(|e| E::custom(format!("constant: {e}")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Distribution, E> {
        self.visit_f64(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Distribution, E> {
        self.visit_f64(v as f64)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Distribution, A::Error> {
        let table = Table::deserialize(de::value::MapAccessDeserializer::new(map))?;
        build(table).map(Distribution).map_err(de::Error::custom)
    }
}

impl JsonSchema for Distribution {
    fn schema_name() -> Cow<'static, str> {
        "Distribution".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let two = |name: &str, a: &str, b: &str, about: &str| {
            json_schema!({
                "type": "object",
                "description": about,
                "properties": { "dist": { "const": name }, a: { "type": "number" }, b: { "type": "number" } },
                "required": ["dist", a, b],
                "additionalProperties": false
            })
        };
        json_schema!({
            "description": "A random quantity: a number (a constant) or a named distribution with its parameters.",
            "anyOf": [
                { "type": "number", "description": "A constant." },
                {
                    "type": "object",
                    "description": "Always `value`.",
                    "properties": { "dist": { "const": "constant" }, "value": { "type": "number" } },
                    "required": ["dist", "value"],
                    "additionalProperties": false
                },
                {
                    "type": "object",
                    "description": "Exponential with the given mean (> 0).",
                    "properties": { "dist": { "const": "exponential" }, "mean": { "type": "number", "exclusiveMinimum": 0 } },
                    "required": ["dist", "mean"],
                    "additionalProperties": false
                },
                two("lognormal", "mean", "sd", "Lognormal with the mean (> 0) and standard deviation of the quantity itself."),
                two("normal", "mean", "sd", "Normal with the given mean and standard deviation (>= 0)."),
                two("uniform", "low", "high", "Uniform between low and high (low <= high)."),
                {
                    "type": "object",
                    "description": "One of `values`, with probabilities proportional to `weights`.",
                    "properties": {
                        "dist": { "const": "empirical" },
                        "values": { "type": "array", "items": { "type": "number" }, "minItems": 1 },
                        "weights": { "type": "array", "items": { "type": "number", "minimum": 0 }, "minItems": 1 }
                    },
                    "required": ["dist", "values", "weights"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deserializer::from_node;
    use crate::document::parse;
    use crate::error::ProblemKind;
    use crate::path::at;
    use crate::source::FileId;

    fn dist(text: &str) -> Result<Dist, (ProblemKind, String)> {
        let root = parse(FileId(0), &format!("d = {text}\n")).expect("valid TOML");
        let node = root.get(&at!["d"]).expect("d is there");
        from_node::<Distribution>(node, &at!["d"]).map(|d| d.0).map_err(|i| (i.kind, i.message))
    }

    #[test]
    fn every_named_distribution_is_built() {
        assert_eq!(dist("4"), Ok(Dist::Constant(4.0)));
        assert_eq!(dist("2.5"), Ok(Dist::Constant(2.5)));
        assert_eq!(dist("{ dist = \"constant\", value = 3 }"), Ok(Dist::Constant(3.0)));
        assert_eq!(dist("{ dist = \"exponential\", mean = 30 }"), Ok(Dist::Exponential { mean: 30.0 }));
        assert_eq!(
            dist("{ dist = \"normal\", mean = 1.2, sd = 0.2 }"),
            Dist::normal(1.2, 0.2).map_err(|_| unreachable!())
        );
        assert_eq!(
            dist("{ dist = \"lognormal\", mean = 20, sd = 5 }"),
            Dist::lognormal(20.0, 5.0).map_err(|_| unreachable!())
        );
        assert_eq!(dist("{ dist = \"uniform\", low = 1, high = 2 }"), Ok(Dist::Uniform { low: 1.0, high: 2.0 }));
        assert!(matches!(
            dist("{ dist = \"empirical\", values = [1, 2], weights = [3, 1] }"),
            Ok(Dist::Empirical { .. })
        ));
    }

    #[test]
    fn wrong_parameters_are_named() {
        let (kind, message) = dist("{ dist = \"exponential\", mean = 3, sd = 1 }").expect_err("sd is foreign");
        assert_eq!(kind, ProblemKind::BadValue);
        assert!(message.contains("`sd` is not a parameter of the exponential distribution"), "{message}");
        let (_, message) = dist("{ dist = \"lognormal\", mean = 3 }").expect_err("sd is missing");
        assert!(message.contains("needs `sd`"), "{message}");
        let (_, message) = dist("{ dist = \"exponential\", mean = 0 }").expect_err("mean must be positive");
        assert!(message.contains("mean must be positive"), "{message}");
        let (_, message) = dist("{ dist = \"uniform\", low = 3, high = 1 }").expect_err("low above high");
        assert!(message.contains("must not exceed"), "{message}");
        let (kind, message) = dist("{ dist = \"poisson\", mean = 3 }").expect_err("unknown name");
        assert_eq!(kind, ProblemKind::BadValue);
        assert!(message.contains("poisson"), "{message}");
        let (kind, _) = dist("{ dist = \"normal\", mean = 3, sdd = 1 }").expect_err("unknown key");
        assert_eq!(kind, ProblemKind::UnknownKey);
        let (kind, message) = dist("\"fast\"").expect_err("a string");
        assert_eq!(kind, ProblemKind::WrongType);
        assert!(message.starts_with("expected a number or a distribution"), "{message}");
    }
}
