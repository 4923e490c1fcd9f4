//! The JSON Schema of the scenario format, for editors (`storetwin schema`).
//!
//! Two schemas: of a store scenario ([`json_schema`], from [`crate::format`]) and of a
//! chain file ([`chain_json_schema`], from [`crate::chain::format`]). Each is generated
//! from its types with schemars: their doc comments are
//! the descriptions, `deny_unknown_fields` becomes `additionalProperties: false`, and
//! the hand-written schemas of prices, times of day, distributions, legend entries and
//! placements say what those accept. Semantic rules (shares summing to 1, names that
//! must exist, a walkable floor) are beyond a schema and checked by [`crate::load`].
//!
//! Two shapes of file are described. A complete file (no `extends`) must give every
//! required key, and its named arrays may hold groups ([`crate::format::ItemForms`]'s
//! `names`, `count` and `first`, [`crate::format::DeviceGroup`]'s `cells`). A file with `extends`
//! is a change: every key is optional (a table gives only what it changes, an item of a
//! named array only its `name` and the keys it changes), and items may also be `remove`d
//! or placed `after` another. The root describes the change shape (so that an editor
//! offers every key and its description in both), and says `if` there is no `extends`,
//! the file is also a `CompleteScenario` (`CompleteChain`); each definition `X` whose
//! change shape differs has it as `XChange`.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::chain::format::ChainFile;
use crate::file_kind::FileKind;
use crate::format::{DeviceGroup, ItemForms, PAY_S_DEFAULTS, ScenarioFile};

/// The definitions of the items of a store scenario's named arrays.
const ITEM_DEFS: &[&str] = &["Sku", "Segment", "Lane", "Device", "Disruption", "Zone"];

/// The definitions of the items of a chain file's named arrays.
const CHAIN_ITEM_DEFS: &[&str] = &[
    "ChainStore",
    "ChainSku",
    "Online",
    "Coupon",
    "MemberLevelFile",
    "PartitionFile",
    "CourierDelayFile",
    "PreorderFile",
];

/// The JSON Schema (2020-12) of a store scenario file, pretty-printed.
pub fn json_schema() -> String {
    json_schema_for(FileKind::Store)
}

/// The JSON Schema (2020-12) of a chain file, pretty-printed.
pub fn chain_json_schema() -> String {
    json_schema_for(FileKind::Chain)
}

/// The JSON Schema (2020-12) of a file of this kind, pretty-printed.
pub fn json_schema_for(kind: FileKind) -> String {
    let schema = schema_value(kind);
    serde_json::to_string_pretty(&schema).expect("a JSON Schema is plain JSON and always serialises")
}

fn to_value(schema: schemars::Schema) -> Value {
    serde_json::to_value(schema).expect("a schemars schema is JSON")
}

fn schema_value(kind: FileKind) -> Value {
    let (mut root, item_defs, complete, what) = match kind {
        FileKind::Store => (to_value(schemars::schema_for!(ScenarioFile)), ITEM_DEFS, "CompleteScenario", "scenario"),
        FileKind::Chain => (to_value(schemars::schema_for!(ChainFile)), CHAIN_ITEM_DEFS, "CompleteChain", "chain file"),
    };
    let forms = to_value(schemars::schema_for!(ItemForms));
    let group = to_value(schemars::schema_for!(DeviceGroup));
    let form = |key: &str| forms["properties"][key].clone();
    let mut defs = match root.as_object_mut().and_then(|r| r.remove("$defs")) {
        Some(Value::Object(defs)) => defs,
        _ => Map::new(),
    };

    // Complete files: items of named arrays may be groups.
    for name in item_defs {
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
        .filter(|(name, def)| item_defs.contains(&name.as_str()) || has_required(def))
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
        if item_defs.contains(&name.as_str()) {
            def["properties"]["remove"] = form("remove");
            def["properties"]["after"] = form("after");
        }
        changes.insert(format!("{name}Change"), def);
    }

    let root_map = root.as_object_mut().expect("the root schema is an object");
    let required = root_map.remove("required").unwrap_or_else(|| json!([]));
    let properties = root_map.get("properties").cloned().unwrap_or_else(|| json!({}));
    defs.insert(
        complete.to_owned(),
        json!({
            "description": format!("A {what} without `extends`: every required key is given, and no item is removed or placed."),
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
             `extends` it is a complete {what} (`{complete}`)."
        )),
    );
    root_map.insert("if".to_owned(), json!({ "required": ["extends"] }));
    root_map.insert("else".to_owned(), json!({ "$ref": format!("#/$defs/{complete}") }));
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
    fn the_chain_schema_names_every_section_and_has_both_shapes() {
        let schema: Value = serde_json::from_str(&chain_json_schema()).expect("the schema is JSON");
        let mut keys: Vec<&str> =
            schema["properties"].as_object().expect("properties").keys().map(String::as_str).collect();
        let mut sections = crate::chain::SECTIONS.to_vec();
        keys.sort_unstable();
        sections.sort_unstable();
        assert_eq!(keys, sections, "chain::SECTIONS must list the keys of ChainFile");
        assert_eq!(schema["additionalProperties"], Value::Bool(false));
        assert_eq!(schema["else"]["$ref"], "#/$defs/CompleteChain");
        let required = strings(&schema["$defs"]["CompleteChain"]["required"]);
        for key in ["run", "chain", "store", "platform", "members"] {
            assert!(required.contains(&key), "{key}: {required:?}");
        }
        assert!(!required.contains(&"coupon") && !required.contains(&"sku"), "{required:?}");
        let defs = &schema["$defs"];
        let store = &defs["ChainStore"];
        for key in ["names", "count", "first", "arrivals_scale", "open_lanes", "franchise"] {
            assert!(store["properties"][key].is_object(), "ChainStore.{key}: {store}");
        }
        let change = &defs["ChainStoreChange"];
        assert!(!has_required(change) && change["properties"]["remove"].is_object(), "{change}");
        assert_eq!(schema["properties"]["store"]["items"]["$ref"], "#/$defs/ChainStoreChange");
        assert!(defs["Duration"]["pattern"].is_string());
        // The store schema is unchanged in its shape.
        assert_eq!(
            serde_json::from_str::<Value>(&json_schema()).expect("JSON")["else"]["$ref"],
            "#/$defs/CompleteScenario"
        );
    }

    /// Every key a file writes is a property the schema (followed through `$ref`, `items`,
    /// `anyOf` and `allOf`) describes at that place.
    fn keys_described(schema: &Value, at: &Value, node: &crate::document::Node, path: &str, missing: &mut Vec<String>) {
        use crate::document::Value as V;
        let resolve = |s: &Value| {
            let mut s = s.clone();
            while let Some(r) = s.get("$ref").and_then(Value::as_str).map(str::to_owned) {
                s = schema["$defs"][def_name(&r).expect("a definition")].clone();
            }
            s
        };
        // The alternatives a value may be, nested `anyOf`s flattened.
        let mut alternatives: Vec<Value> = Vec::new();
        let mut open = vec![resolve(at)];
        while let Some(s) = open.pop() {
            match s.get("anyOf").and_then(Value::as_array) {
                Some(list) => open.extend(list.iter().map(&resolve)),
                None => alternatives.push(s),
            }
        }
        match &node.value {
            V::Table(table) => {
                for (key, entry) in table {
                    // A property, or a value of a map (`additionalProperties` as a schema).
                    let described = alternatives.iter().find_map(|a| {
                        a["properties"]
                            .get(key)
                            .cloned()
                            .or_else(|| a.get("additionalProperties").filter(|v| v.is_object()).cloned())
                    });
                    match described {
                        Some(sub) => keys_described(schema, &sub, &entry.node, &format!("{path}.{key}"), missing),
                        None if alternatives.iter().any(|a| a.get("properties").is_some()) => {
                            missing.push(format!("{path}.{key}"));
                        }
                        None => {}
                    }
                }
            }
            V::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(sub) = alternatives.iter().find_map(|a| a.get("items").cloned()) {
                        keys_described(schema, &sub, item, &format!("{path}[{i}]"), missing);
                    }
                }
            }
            _ => {}
        }
    }

    #[test]
    fn the_schemas_describe_every_key_of_the_bundled_files() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for (name, kind) in [
            ("chain-3-stores.toml", FileKind::Chain),
            ("chain-100-stores.toml", FileKind::Chain),
            ("weekday.toml", FileKind::Store),
        ] {
            let schema: Value = serde_json::from_str(&json_schema_for(kind)).expect("JSON");
            let text = std::fs::read_to_string(dir.join(name)).expect("readable");
            let root = crate::document::parse(crate::source::FileId(0), &text).expect("valid TOML");
            let complete =
                schema["$defs"][if kind == FileKind::Chain { "CompleteChain" } else { "CompleteScenario" }].clone();
            let mut missing = Vec::new();
            keys_described(&schema, &complete, &root, "", &mut missing);
            keys_described(&schema, &schema, &root, "", &mut missing);
            assert!(missing.is_empty(), "{name}: keys the schema does not describe: {missing:?}");
        }
        // The check can fail: a key no type has is found, however deep.
        let schema: Value = serde_json::from_str(&chain_json_schema()).expect("JSON");
        let text = "[[store]]\nname = 'a'\nlocation_km = { x = 1, z = 2 }\n[platform.latency]\nmax = '1s'\n";
        let root = crate::document::parse(crate::source::FileId(0), text).expect("valid TOML");
        let mut missing = Vec::new();
        keys_described(&schema, &schema, &root, "", &mut missing);
        assert_eq!(missing, [".platform.latency.max", ".store[0].location_km.z"]);
    }

    #[test]
    fn the_chain_schema_describes_the_load_section() {
        let schema: Value = serde_json::from_str(&chain_json_schema()).expect("JSON");
        let defs = &schema["$defs"];
        assert_eq!(
            defs["CompleteChain"]["properties"]["load"]["anyOf"][0]["$ref"], "#/$defs/LoadFile",
            "{}",
            defs["CompleteChain"]["properties"]["load"]
        );
        let alternatives = defs["ExecutorFile"]["oneOf"].as_array().cloned().unwrap_or_default();
        let executors: Vec<&str> = alternatives.iter().filter_map(|a| a["const"].as_str()).collect();
        assert_eq!(
            executors,
            ["ramping-arrival-rate", "constant-arrival-rate", "ramping-shoppers", "constant-shoppers"]
        );
        assert!(defs["LoadDuration"]["pattern"].is_string());
        assert_eq!(defs["Threshold"]["anyOf"][0]["type"], "string");
        let text = "[load]\nsummary_trend_stats = ['avg']\n[load.scenarios.surge]\nexecutor = 'ramping-arrival-rate'\n\
                    journey = 'grab_online'\nstages = [{ duration = '30s', target = 1 }]\nmax_shoppers = 5\n\
                    [load.thresholds]\ngrab_latency = ['p(95)<1s', { threshold = 'p(99)<2s', abort_on_fail = true, \
                    delay_abort_eval = '1s' }]\n";
        let root = crate::document::parse(crate::source::FileId(0), text).expect("valid TOML");
        let mut missing = Vec::new();
        keys_described(&schema, &schema, &root, "", &mut missing);
        assert!(missing.is_empty(), "{missing:?}");
        // And the check can fail inside a scenario and a threshold's long form.
        let text = "[load.scenarios.surge]\nstartRate = 1\n[load.thresholds]\nx = [{ abort = true }]\n";
        let root = crate::document::parse(crate::source::FileId(0), text).expect("valid TOML");
        keys_described(&schema, &schema, &root, "", &mut missing);
        assert_eq!(missing, [".load.scenarios.surge.startRate", ".load.thresholds.x[0].abort"]);
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
        for kind in [FileKind::Store, FileKind::Chain] {
            let schema: Value = serde_json::from_str(&json_schema_for(kind)).expect("the schema is JSON");
            let mut all = Vec::new();
            refs(&schema, &mut all);
            assert!(all.len() > 40, "{}", all.len());
            for r in all {
                let name = def_name(r).unwrap_or_else(|| panic!("{r} is not a definition"));
                assert!(schema["$defs"][name].is_object(), "{kind:?}: {r} does not resolve");
            }
        }
    }
}
