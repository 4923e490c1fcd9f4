//! The JSON Schema of the scenario format, for editors (`storetwin schema`).
//!
//! Generated from the types of [`crate::format`] with schemars: their doc comments are
//! the descriptions, `deny_unknown_fields` becomes `additionalProperties: false`, and
//! the hand-written schemas of prices, times of day, distributions, legend entries and
//! placements say what those accept. Semantic rules (shares summing to 1, names that
//! must exist, a walkable floor) are beyond a schema and checked by [`crate::load`].
//!
//! Two shapes of file are described. A complete scenario (no `extends`) must give every
//! required key, and its named arrays may hold groups ([`crate::format::ItemForms`]'s
//! `names` and `count`, [`crate::format::DeviceGroup`]'s `cells`). A file with `extends`
//! is a change: every key is optional (a table gives only what it changes, an item of a
//! named array only its `name` and the keys it changes), and items may also be `remove`d
//! or placed `after` another. The root describes the change shape (so that an editor
//! offers every key and its description in both), and says `if` there is no `extends`,
//! the file is also a `CompleteScenario`; each definition `X` whose change shape differs
//! has it as `XChange`.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::format::{DeviceGroup, ItemForms, PAY_S_DEFAULTS, ScenarioFile};

/// The definitions of the items of named arrays.
const ITEM_DEFS: &[&str] = &["Sku", "Segment", "Lane", "Device", "Disruption", "Zone"];

/// The JSON Schema (2020-12) of a scenario file, pretty-printed.
pub fn json_schema() -> String {
    let schema = schema_value();
    serde_json::to_string_pretty(&schema).expect("a JSON Schema is plain JSON and always serialises")
}

fn to_value(schema: schemars::Schema) -> Value {
    serde_json::to_value(schema).expect("a schemars schema is JSON")
}

fn schema_value() -> Value {
    let mut root = to_value(schemars::schema_for!(ScenarioFile));
    let forms = to_value(schemars::schema_for!(ItemForms));
    let group = to_value(schemars::schema_for!(DeviceGroup));
    let form = |key: &str| forms["properties"][key].clone();
    let mut defs = match root.as_object_mut().and_then(|r| r.remove("$defs")) {
        Some(Value::Object(defs)) => defs,
        _ => Map::new(),
    };

    // Complete files: items of named arrays may be groups.
    for name in ITEM_DEFS {
        let Some(def) = defs.get_mut(*name) else { continue };
        def["properties"]["names"] = form("names");
        def["properties"]["count"] = form("count");
        def["properties"]["first"] = form("first");
        let mut either = vec![("name", "names")];
        if *name == "Device" {
            def["properties"]["cells"] = group["properties"]["cells"].clone();
            either.push(("at", "cells"));
        }
        for (one, other) in either {
            let required = def["required"].as_array_mut().map(std::mem::take).unwrap_or_default();
            if !required.iter().any(|r| r == one) {
                def["required"] = Value::Array(required);
                continue;
            }
            def["required"] = Value::Array(required.into_iter().filter(|r| r != one).collect());
            let alternatives = json!({ "anyOf": [{ "required": [one] }, { "required": [other] }] });
            match def.get_mut("allOf").and_then(Value::as_array_mut) {
                Some(all) => all.push(alternatives),
                None => def["allOf"] = json!([alternatives]),
            }
        }
    }
    // A payment method left out of `pay_s` takes its default.
    if let Some(pay) = defs.get_mut("PaySeconds") {
        for (method, seconds) in PAY_S_DEFAULTS {
            pay["properties"][method]["default"] = json!(seconds);
        }
    }

    // Changes: every definition that requires something (or holds one that does) gets a
    // relaxed twin.
    let mut relaxed: BTreeSet<String> = defs
        .iter()
        .filter(|(name, def)| ITEM_DEFS.contains(&name.as_str()) || has_required(def))
        .map(|(name, _)| name.clone())
        .collect();
    loop {
        let more: Vec<String> = defs
            .iter()
            .filter(|(name, def)| !relaxed.contains(*name) && refers_to(def, &relaxed))
            .map(|(name, _)| name.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        relaxed.extend(more);
    }
    let mut changes = Map::new();
    for name in &relaxed {
        let mut def = defs[name].clone();
        relax(&mut def, &relaxed);
        if ITEM_DEFS.contains(&name.as_str()) {
            def["properties"]["remove"] = form("remove");
            def["properties"]["after"] = form("after");
        }
        changes.insert(format!("{name}Change"), def);
    }

    let root_map = root.as_object_mut().expect("the root schema is an object");
    let required = root_map.remove("required").unwrap_or_else(|| json!([]));
    let properties = root_map.get("properties").cloned().unwrap_or_else(|| json!({}));
    defs.insert(
        "CompleteScenario".to_owned(),
        json!({
            "description": "A scenario without `extends`: every required key is given, and no item is removed or placed.",
            "type": "object",
            "properties": properties,
            "required": required,
        }),
    );
    if let Some(properties) = root_map.get_mut("properties") {
        relax(properties, &relaxed);
    }
    let description = root_map.get("description").and_then(Value::as_str).unwrap_or_default().to_owned();
    root_map.insert(
        "description".to_owned(),
        json!(format!(
            "{description}\n\nA file with `extends` is a change to the file it names: every key is optional. Without \
             `extends` it is a complete scenario (`CompleteScenario`)."
        )),
    );
    root_map.insert("if".to_owned(), json!({ "required": ["extends"] }));
    root_map.insert("else".to_owned(), json!({ "$ref": "#/$defs/CompleteScenario" }));
    defs.extend(changes);
    root_map.insert("$defs".to_owned(), Value::Object(defs));
    root
}

fn has_required(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.contains_key("required") || map.values().any(has_required),
        Value::Array(items) => items.iter().any(has_required),
        _ => false,
    }
}

fn def_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/$defs/")
}

fn refers_to(value: &Value, names: &BTreeSet<String>) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(k, v)| match (k.as_str(), v) {
            ("$ref", Value::String(r)) => def_name(r).is_some_and(|n| names.contains(n)),
            _ => refers_to(v, names),
        }),
        Value::Array(items) => items.iter().any(|v| refers_to(v, names)),
        _ => false,
    }
}

/// Drops every `required` and points references to relaxed definitions at their twins.
fn relax(value: &mut Value, relaxed: &BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            map.remove("required");
            for (key, v) in map.iter_mut() {
                match (key.as_str(), &*v) {
                    ("$ref", Value::String(r)) => {
                        if let Some(name) = def_name(r).filter(|n| relaxed.contains(*n)) {
                            *v = json!(format!("#/$defs/{name}Change"));
                        }
                    }
                    _ => relax(v, relaxed),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| relax(v, relaxed)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Value {
        serde_json::from_str(&json_schema()).expect("the schema is JSON")
    }

    fn strings(v: &Value) -> Vec<&str> {
        v.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
    }

    #[test]
    fn the_schema_names_every_section_and_refuses_unknown_keys() {
        let schema = schema();
        let properties = schema["properties"].as_object().expect("the root has properties");
        let mut keys: Vec<&str> = properties.keys().map(String::as_str).collect();
        let mut sections = crate::scenario::SECTIONS.to_vec();
        keys.sort_unstable();
        sections.sort_unstable();
        assert_eq!(keys, sections, "SECTIONS must list the keys of ScenarioFile");
        assert_eq!(schema["additionalProperties"], Value::Bool(false));
        let run = &schema["$defs"]["Run"];
        assert_eq!(run["additionalProperties"], Value::Bool(false));
        assert!(run["properties"]["seed"]["description"].as_str().is_some_and(|d| d.contains("Seed")), "{run}");
        // Required sections: only for a complete scenario, i.e. without `extends`.
        assert!(schema.get("required").is_none());
        assert_eq!(schema["if"], json!({ "required": ["extends"] }));
        assert_eq!(schema["else"]["$ref"], "#/$defs/CompleteScenario");
        let required = strings(&schema["$defs"]["CompleteScenario"]["required"]);
        assert!(required.contains(&"run") && !required.contains(&"device"), "{required:?}");
    }

    #[test]
    fn complete_files_may_group_items_and_changes_may_remove_and_place_them() {
        let schema = schema();
        let defs = &schema["$defs"];
        let lane = &defs["Lane"];
        for key in ["names", "count"] {
            assert!(lane["properties"][key]["description"].is_string(), "Lane.{key}: {lane}");
        }
        assert!(lane["properties"]["remove"].is_null() && lane["properties"]["after"].is_null());
        assert!(!strings(&lane["required"]).contains(&"name"), "a group has `names` instead");
        assert_eq!(lane["allOf"][0]["anyOf"], json!([{ "required": ["name"] }, { "required": ["names"] }]));
        assert_eq!(defs["Lane"]["properties"]["count"]["minimum"], 1);
        let device = &defs["Device"];
        assert!(device["properties"]["cells"]["description"].is_string(), "{device}");
        assert!(!strings(&device["required"]).contains(&"at"));
        // Changes: nothing is required; items may be removed or placed.
        let change = &defs["LaneChange"];
        assert!(!has_required(change), "{change}");
        assert!(change["properties"]["remove"]["description"].as_str().is_some_and(|d| d.contains("removes")));
        assert!(change["properties"]["after"]["description"].is_string());
        assert_eq!(change["properties"]["pay_s"]["$ref"], "#/$defs/PaySecondsChange");
        assert_eq!(schema["properties"]["lane"]["items"]["$ref"], "#/$defs/LaneChange");
        assert_eq!(defs["CompleteScenario"]["properties"]["lane"]["items"]["$ref"], "#/$defs/Lane");
        assert!(defs["DisruptionChange"]["properties"]["name"].is_object());
        // A distribution given in a change may give only the parameters it changes.
        assert!(!has_required(&defs["DistributionChange"]));
    }

    #[test]
    fn pay_s_names_only_the_methods_used_and_the_defaults_are_stated() {
        let schema = schema();
        let pay = &schema["$defs"]["PaySeconds"];
        assert!(pay.get("required").is_none(), "{pay}");
        for (method, seconds) in PAY_S_DEFAULTS {
            assert_eq!(pay["properties"][method]["default"], json!(seconds), "{method}");
            let description = pay["properties"][method]["description"].as_str().unwrap_or_default();
            assert!(description.contains(&format!("Default {seconds}")), "{method}: {description}");
        }
    }

    #[test]
    fn every_reference_resolves() {
        fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
            match v {
                Value::Object(map) => map.iter().for_each(|(k, v)| match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(v, out),
                }),
                Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let schema = schema();
        let mut all = Vec::new();
        refs(&schema, &mut all);
        assert!(all.len() > 40, "{}", all.len());
        for r in all {
            let name = def_name(r).unwrap_or_else(|| panic!("{r} is not a definition"));
            assert!(schema["$defs"][name].is_object(), "{r} does not resolve");
        }
    }
}
