//! The grammar that makes the local model write a valid persona.
//!
//! It starts from the `Persona` JSON schema (schemars, the same one the cloud extractors use),
//! then tightens it for a small model: fixed field order (name first, so every other field is
//! written knowing who it is about), required non-empty strings and length bounds well inside
//! [`link_core::persona::limits`], and a short list of example lines. llama.cpp's
//! `json_schema_to_grammar` turns the result into GBNF, so the output always parses.

use link_core::persona::limits;
use link_core::{Error, Persona, Result};
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

/// Every persona field in the order the model writes it, with its bound.
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

/// The bounded persona schema, as JSON text with the properties in [`FIELDS`] order.
pub(crate) fn persona_schema() -> Result<String> {
    let schema = serde_json::to_value(schemars::schema_for!(Persona)).map_err(internal)?;
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| internal("the Persona schema has no properties"))?;
    let defs = schema.get("$defs").and_then(Value::as_object);
    if let Some(unknown) = properties
        .keys()
        .find(|k| !FIELDS.iter().any(|(f, _)| f == k))
    {
        return Err(internal(format!(
            "Persona field `{unknown}` has no grammar bound"
        )));
    }
    // serde_json may sort object keys, so the ordered object is written by hand.
    let mut props = Vec::with_capacity(FIELDS.len());
    for (name, bound) in FIELDS {
        let original = properties
            .get(*name)
            .ok_or_else(|| internal(format!("the Persona schema lost field `{name}`")))?;
        let field = bounded(original, *bound, defs)?;
        props.push(format!("{}:{}", json!(name), field));
    }
    let required: Vec<&str> = FIELDS.iter().map(|(f, _)| *f).collect();
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

fn bounded(original: &Value, bound: Bound, defs: Option<&Map<String, Value>>) -> Result<Value> {
    let text = |max: usize| json!({"type": "string", "minLength": 1, "maxLength": max});
    Ok(match bound {
        Bound::Text(max) => text(max),
        Bound::OptionalText(max) => {
            json!({"anyOf": [{"type": "string", "minLength": 1, "maxLength": max}, {"type": "null"}]})
        }
        Bound::Lines { items, chars } => {
            json!({"type": "array", "items": text(chars), "minItems": 1, "maxItems": items})
        }
        Bound::AsSchema => inline_refs(original, defs)?,
    })
}

/// Replaces `{"$ref": "#/$defs/X"}` by the definition, so the field stands alone; the
/// descriptions are dropped since the grammar cannot use them.
fn inline_refs(value: &Value, defs: Option<&Map<String, Value>>) -> Result<Value> {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                let name = reference.trim_start_matches("#/$defs/");
                let def = defs
                    .and_then(|d| d.get(name))
                    .ok_or_else(|| internal(format!("unresolved schema reference {reference}")))?;
                return inline_refs(def, defs);
            }
            let mut out = Map::new();
            for (key, value) in map {
                if key != "description" && key != "title" {
                    out.insert(key.clone(), inline_refs(value, defs)?);
                }
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items.iter().map(|v| inline_refs(v, defs)).collect(),
        other => Ok(other.clone()),
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
        let schema = serde_json::to_value(schemars::schema_for!(Persona)).unwrap();
        let props = schema["properties"].as_object().unwrap();
        assert_eq!(props.len(), FIELDS.len());
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
