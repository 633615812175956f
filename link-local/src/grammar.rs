//! The grammar that makes the local model write a valid persona.
//!
//! It starts from the core extraction schema ([`link_core::extraction::schema`], the one the
//! cloud extractors start from too), keeps its field order (name first, so every other field
//! is written knowing who it is about) and tightens it for a small model: required non-empty
//! strings and length bounds well inside [`link_core::persona::limits`], and a short list of
//! example lines. llama.cpp's `json_schema_to_grammar` turns the result into GBNF, so the
//! output always parses.

use link_core::persona::limits;
use link_core::{Error, Result, extraction};
use serde_json::{Map, Value, json};

/// How one field is bounded in the grammar, in characters.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bound {
    /// A required, non-empty string of at most this many characters.
    Text(usize),
    /// A string or null, at most this many characters.
    OptionalText(usize),
    /// A list of 1 to `items` non-empty strings of at most `chars` characters.
    Lines { items: usize, chars: usize },
    /// Whatever the persona schema says (enums, booleans).
    AsSchema,
}

/// How each persona field is bounded (the order the model writes them in is the core schema's).
pub(crate) const FIELDS: &[(&str, Bound)] = &[
    ("name", Bound::Text(60)),
    ("kind", Bound::AsSchema),
    ("living", Bound::AsSchema),
    ("description", Bound::Text(400)),
    ("personality", Bound::Text(240)),
    ("speaking_style", Bound::Text(240)),
    ("setting", Bound::Text(240)),
    ("knowledge", Bound::Text(240)),
    ("must_not_know", Bound::Text(240)),
    ("greeting", Bound::Text(240)),
    (
        "example_lines",
        Bound::Lines {
            items: 3,
            chars: 150,
        },
    ),
    ("safety_notes", Bound::OptionalText(200)),
];

// The grammar bounds must stay inside what `Persona::validate` accepts.
const _: () = {
    assert!(60 <= limits::NAME && 400 <= limits::DESCRIPTION && 240 <= limits::TRAIT);
    assert!(240 <= limits::GREETING && 3 <= limits::EXAMPLE_LINES);
    assert!(150 <= limits::EXAMPLE_LINE && 200 <= limits::SAFETY_NOTES);
};

/// The most example lines the grammar lets the model write.
pub(crate) fn max_example_lines() -> usize {
    FIELDS
        .iter()
        .find_map(|(_, bound)| match bound {
            Bound::Lines { items, .. } => Some(*items),
            _ => None,
        })
        .unwrap_or(limits::EXAMPLE_LINES)
}

/// The bounded persona schema, as JSON text with the properties in the core schema's order.
pub(crate) fn persona_schema() -> Result<String> {
    let schema = extraction::schema();
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| internal("the extraction schema has no properties"))?;
    let order = extraction::field_order(&schema);
    if let Some(stale) = FIELDS.iter().find(|(f, _)| !properties.contains_key(*f)) {
        return Err(internal(format!("`{}` is not a persona field", stale.0)));
    }
    // serde_json sorts object keys, so the ordered object is written by hand.
    let mut props = Vec::with_capacity(order.len());
    for name in &order {
        let bound = FIELDS
            .iter()
            .find_map(|(f, bound)| (f == name).then_some(*bound))
            .ok_or_else(|| internal(format!("Persona field `{name}` has no grammar bound")))?;
        let original = properties
            .get(*name)
            .ok_or_else(|| internal(format!("the extraction schema lost field `{name}`")))?;
        props.push(format!("{}:{}", json!(name), bounded(original, bound)));
    }
    let required = order;
    Ok(format!(
        r#"{{"type":"object","properties":{{{}}},"required":{},"additionalProperties":false}}"#,
        props.join(","),
        json!(required)
    ))
}

/// The GBNF grammar (root rule `root`) for a persona.
pub(crate) fn persona_grammar() -> Result<String> {
    let schema = persona_schema()?;
    llama_cpp_2::json_schema_to_grammar(&schema)
        .map_err(|e| internal(format!("json_schema_to_grammar failed: {e}")))
}

fn bounded(original: &Value, bound: Bound) -> Value {
    let text = |max: usize| json!({"type": "string", "minLength": 1, "maxLength": max});
    match bound {
        Bound::Text(max) => text(max),
        Bound::OptionalText(max) => {
            json!({"anyOf": [{"type": "string", "minLength": 1, "maxLength": max}, {"type": "null"}]})
        }
        Bound::Lines { items, chars } => {
            json!({"type": "array", "items": text(chars), "minItems": 1, "maxItems": items})
        }
        Bound::AsSchema => without_docs(original),
    }
}

/// The field's schema (the core one has no `$ref`, so it stands alone) without descriptions,
/// which the grammar cannot use.
fn without_docs(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                if key != "description" && key != "title" {
                    out.insert(key.clone(), without_docs(value));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => items.iter().map(without_docs).collect(),
        other => other.clone(),
    }
}

fn internal(message: impl std::fmt::Display) -> Error {
    Error::Config {
        message: format!("persona grammar: {message}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_schema_keeps_field_order_and_bounds() {
        let text = persona_schema().unwrap();
        let name = text.find("\"name\"").unwrap();
        let greeting = text.find("\"greeting\"").unwrap();
        assert!(name < greeting, "name must come first: {text}");
        let schema: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(schema["properties"]["name"]["minLength"], 1);
        assert_eq!(schema["properties"]["example_lines"]["maxItems"], 3);
        assert_eq!(schema["required"].as_array().unwrap().len(), FIELDS.len());
        // The kind enum is inlined with every variant.
        let kind = schema["properties"]["kind"].to_string();
        for variant in [
            "fictional",
            "historical",
            "real_person",
            "original",
            "archetype",
        ] {
            assert!(kind.contains(variant), "{variant} missing from {kind}");
        }
        assert!(!text.contains("$ref"));
    }

    #[test]
    fn every_persona_field_has_a_bound() {
        let schema = extraction::schema();
        let props = schema["properties"].as_object().unwrap();
        assert_eq!(props.len(), FIELDS.len());
    }

    #[test]
    fn the_grammar_schema_is_the_core_schema_bounded() {
        let core = extraction::schema();
        let order = extraction::field_order(&core);
        let text = persona_schema().unwrap();
        let bounded: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(extraction::field_order(&bounded), order);
        // The written property order is the core's too (serde_json would sort it).
        let positions: Vec<usize> = order
            .iter()
            .map(|f| text.find(&format!("\"{f}\":{{")).unwrap())
            .collect();
        assert!(positions.is_sorted(), "{text}");
        // Fields the grammar does not bound keep the core schema's values.
        let variants = |s: &Value| {
            s["properties"]["kind"]["oneOf"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["const"].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(variants(&bounded), variants(&core));
        assert_eq!(
            bounded["properties"]["living"]["type"],
            core["properties"]["living"]["type"]
        );
    }

    #[test]
    fn the_grammar_writes_the_fields_in_the_core_order() {
        let gbnf = persona_grammar().unwrap();
        let root = gbnf.lines().find(|l| l.starts_with("root ::=")).unwrap();
        let positions: Vec<usize> = extraction::field_order(&extraction::schema())
            .iter()
            .map(|f| {
                let rule = format!("{}-kv", f.replace('_', "-"));
                root.find(&rule)
                    .unwrap_or_else(|| panic!("{rule} not in {root}"))
            })
            .collect();
        assert!(positions.is_sorted(), "{root}");
    }

    #[test]
    fn the_grammar_is_generated_and_bounded() {
        let gbnf = persona_grammar().unwrap();
        assert!(gbnf.contains("root ::="), "{gbnf}");
        assert!(gbnf.contains("\\\"name\\\""), "{gbnf}");
        // Length bounds become counted repetitions.
        assert!(gbnf.contains("{0,59}") || gbnf.contains("{1,60}"), "{gbnf}");
    }
}
