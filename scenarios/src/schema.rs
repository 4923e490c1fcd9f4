//! The JSON Schema of the scenario format, for editors (`storetwin schema`).
//!
//! Generated from the types of [`crate::format`] with schemars: their doc comments are
//! the descriptions, `deny_unknown_fields` becomes `additionalProperties: false`, and
//! the hand-written schemas of prices, times of day, distributions, legend entries and
//! placements say what those accept. Semantic rules (shares summing to 1, names that
//! must exist, a walkable floor) are beyond a schema and checked by [`crate::load`].

use crate::format::ScenarioFile;

/// The JSON Schema (2020-12) of a scenario file, pretty-printed.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(ScenarioFile);
    serde_json::to_string_pretty(&schema).expect("a JSON Schema is plain JSON and always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_names_every_section_and_refuses_unknown_keys() {
        let schema: serde_json::Value = serde_json::from_str(&json_schema()).expect("the schema is JSON");
        let properties = schema["properties"].as_object().expect("the root has properties");
        let mut keys: Vec<&str> = properties.keys().map(String::as_str).collect();
        let mut sections = crate::scenario::SECTIONS.to_vec();
        keys.sort_unstable();
        sections.sort_unstable();
        assert_eq!(keys, sections, "SECTIONS must list the keys of ScenarioFile");
        assert_eq!(schema["additionalProperties"], serde_json::Value::Bool(false));
        let run = &schema["$defs"]["Run"];
        assert_eq!(run["additionalProperties"], serde_json::Value::Bool(false));
        assert!(run["properties"]["seed"]["description"].as_str().is_some_and(|d| d.contains("Seed")), "{run}");
        let required: Vec<&str> =
            schema["required"].as_array().expect("required keys").iter().filter_map(|v| v.as_str()).collect();
        assert!(required.contains(&"run") && !required.contains(&"device"), "{required:?}");
    }
}
