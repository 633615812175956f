//! Cleaning a JSON Schema for OpenAI structured outputs in strict mode.
//!
//! Strict mode accepts only a subset of JSON Schema (see the OpenAI section of WIRE.md):
//! the root is an object, every object sets `additionalProperties: false`, every property is
//! required (an optional one becomes a union with `null`), there is no `default`, `allOf`,
//! `not`, `if/then/else` or `patternProperties`, and `$ref` may not carry sibling keys.
//! schemars produces richer schemas, so [`strict_schema_for`] generates one and
//! [`make_strict`] rewrites it, the way the official Python SDK converts model schemas.
//!
//! ```
//! use link_openai::schema::strict_schema_for;
//!
//! #[derive(serde::Deserialize, link_core::schemars::JsonSchema)]
//! struct Answer {
//!     /// The answer.
//!     text: String,
//!     /// How sure the model is, if it says.
//!     confidence: Option<f64>,
//! }
//!
//! let schema = strict_schema_for::<Answer>().unwrap();
//! assert_eq!(schema["additionalProperties"], false);
//! let required = schema["required"].as_array().unwrap();
//! assert!(required.contains(&"text".into()) && required.contains(&"confidence".into()));
//! assert_eq!(schema["properties"]["confidence"]["type"], serde_json::json!(["number", "null"]));
//! ```

use link_core::{Error, Result};
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

/// Deepest object nesting strict mode accepts.
pub const MAX_NESTING: usize = 10;
/// Most properties (over all objects) strict mode accepts.
pub const MAX_PROPERTIES: usize = 5000;

/// Keywords that change what a schema accepts and that strict mode cannot express: a schema
/// using them is refused rather than silently loosened or tightened.
const UNSUPPORTED: &[&str] = &[
    "not",
    "if",
    "then",
    "else",
    "patternProperties",
    "prefixItems",
    "dependentSchemas",
    "dependentRequired",
    "unevaluatedProperties",
];

/// Keywords strict mode understands; everything else (`default`, `examples`, `minLength`,
/// `uniqueItems`, `$schema`, ...) is dropped, since an unknown keyword may get the whole
/// request refused with `invalid_json_schema`.
const KEPT: &[&str] = &[
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "anyOf",
    "$ref",
    "description",
    "title",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
];

/// String formats strict mode supports; other formats (schemars' `uint32`, `double`, ...) go.
const STRING_FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
];

/// The JSON Schema of `T` (as schemars derives it for deserialising), cleaned for strict mode.
///
/// Unlike [`make_strict`] on an arbitrary schema, an optional property is made nullable only
/// where `T` accepts `null` (an `Option`): a `#[serde(default)]` field of another type becomes
/// required as it is, because serde does not turn `null` into the default, so an answer with
/// `null` there would not deserialise.
///
/// Fails with [`Error::Config`] when `T` uses something strict mode cannot express (a map,
/// an arbitrary JSON value, `not`, a tuple, ...).
pub fn strict_schema_for<T: JsonSchema + ?Sized>() -> Result<Value> {
    let schema = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<T>();
    strict(schema.to_value(), Optional::AsIs)
}

/// Rewrites any JSON Schema (draft 2020-12 or draft-07 style) for strict mode.
///
/// Every object gets `additionalProperties: false` and all its properties in `required`;
/// properties that were optional become unions with `null`; `default` and other unsupported
/// annotations are dropped; `oneOf` becomes `anyOf` (strict mode has no `oneOf`; the value is
/// still checked when it is deserialised); a single `allOf` is merged into its parent;
/// `$ref`s with sibling keys are inlined; `definitions` move to `$defs` and unused ones go.
///
/// For the schema of a Rust type use [`strict_schema_for`], which leaves `#[serde(default)]`
/// fields non-nullable (serde does not turn `null` into the default).
pub fn make_strict(schema: Value) -> Result<Value> {
    strict(schema, Optional::Nullable)
}

/// What strict mode does with a property that was optional.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Optional {
    /// It may be `null` (the usual way to say "absent" when every key must be sent).
    Nullable,
    /// Only if its schema already allows `null`; otherwise it is simply required.
    AsIs,
}

fn strict(schema: Value, optional: Optional) -> Result<Value> {
    let Value::Object(mut root) = schema else {
        return Err(config("the root schema must be a JSON object"));
    };
    let mut defs = root
        .remove("$defs")
        .and_then(into_object)
        .unwrap_or_default();
    defs.extend(
        root.remove("definitions")
            .and_then(into_object)
            .unwrap_or_default(),
    );
    let mut cleaner = Cleaner {
        defs: &defs,
        inlining: Vec::new(),
        properties: 0,
        optional,
    };
    let mut cleaned_defs = Map::new();
    for (name, def) in &defs {
        cleaned_defs.insert(name.clone(), Value::Object(cleaner.clean(def.clone(), 0)?));
    }
    // A root that is only a `$ref` points at the real root object.
    let mut root = if root.contains_key("$ref") {
        cleaner.inline_ref(root, 0)?
    } else {
        cleaner.clean(Value::Object(root), 0)?
    };
    if cleaner.properties > MAX_PROPERTIES {
        return Err(config(format!(
            "the schema has {} properties (strict mode allows {MAX_PROPERTIES})",
            cleaner.properties
        )));
    }
    check_root(&root)?;
    prune_unused(&root, &mut cleaned_defs);
    if !cleaned_defs.is_empty() {
        root.insert("$defs".into(), Value::Object(cleaned_defs));
    }
    Ok(Value::Object(root))
}

fn check_root(root: &Map<String, Value>) -> Result<()> {
    if root.get("type") != Some(&json!("object")) || root.contains_key("anyOf") {
        return Err(config(
            "the root schema must be `type: object` (not a union)",
        ));
    }
    Ok(())
}

struct Cleaner<'a> {
    /// The original definitions, for inlining `$ref`s.
    defs: &'a Map<String, Value>,
    /// Definitions being inlined right now, so a recursive type cannot inline forever.
    inlining: Vec<String>,
    /// Properties seen so far, for the strict-mode limit.
    properties: usize,
    /// What optional properties become.
    optional: Optional,
}

impl Cleaner<'_> {
    /// Cleans one schema; `depth` counts the objects around it.
    fn clean(&mut self, schema: Value, depth: usize) -> Result<Map<String, Value>> {
        let mut obj = match schema {
            Value::Object(obj) => obj,
            Value::Bool(_) => {
                return Err(config(
                    "`true`/`false` schemas (any JSON value) cannot be expressed in strict mode",
                ));
            }
            other => return Err(config(format!("a schema must be an object, found {other}"))),
        };
        if let Some(key) = UNSUPPORTED.iter().find(|k| obj.contains_key(**k)) {
            return Err(config(format!("`{key}` is not supported in strict mode")));
        }
        if let Some(all) = obj.remove("allOf") {
            return self.merge_all_of(obj, all, depth);
        }
        if obj.contains_key("$ref") && obj.len() > 1 {
            return self.inline_ref(obj, depth);
        }
        if let Some(one) = obj.remove("oneOf") {
            if obj.contains_key("anyOf") {
                return Err(config(
                    "`oneOf` beside `anyOf` is not supported in strict mode",
                ));
            }
            obj.insert("anyOf".into(), one);
        }
        obj.retain(|key, _| KEPT.contains(&key.as_str()));
        self.clean_keywords(&mut obj, depth)?;
        Ok(obj)
    }

    fn clean_keywords(&mut self, obj: &mut Map<String, Value>, depth: usize) -> Result<()> {
        rewrite_ref(obj);
        drop_unsupported_format(obj);
        if let Some(Value::Array(branches)) = obj.remove("anyOf") {
            let cleaned = branches
                .into_iter()
                .map(|b| self.clean(b, depth).map(Value::Object))
                .collect::<Result<Vec<_>>>()?;
            obj.insert("anyOf".into(), Value::Array(cleaned));
        }
        if let Some(items) = obj.remove("items") {
            let items = self.clean(items, depth)?;
            obj.insert("items".into(), Value::Object(items));
        }
        if is_object_schema(obj) {
            self.clean_object(obj, depth + 1)?;
        }
        Ok(())
    }

    fn clean_object(&mut self, obj: &mut Map<String, Value>, depth: usize) -> Result<()> {
        if depth > MAX_NESTING {
            return Err(config(format!(
                "objects nest deeper than {MAX_NESTING} levels (the strict-mode limit)"
            )));
        }
        match obj.get("additionalProperties") {
            None | Some(Value::Bool(false)) => {}
            Some(_) => {
                return Err(config(
                    "maps and free-form objects (`additionalProperties`) cannot be expressed in strict mode",
                ));
            }
        }
        let required: Vec<String> = match obj.get("required") {
            Some(Value::Array(names)) => names
                .iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let properties = obj
            .remove("properties")
            .and_then(into_object)
            .unwrap_or_default();
        let mut cleaned = Map::new();
        for (name, schema) in properties {
            self.properties += 1;
            let mut schema = self.clean(schema, depth)?;
            if !required.contains(&name) && self.optional == Optional::Nullable {
                schema = nullable(schema);
            }
            cleaned.insert(name, Value::Object(schema));
        }
        let names: Vec<Value> = cleaned.keys().cloned().map(Value::String).collect();
        obj.insert("properties".into(), Value::Object(cleaned));
        obj.insert("required".into(), Value::Array(names));
        obj.insert("additionalProperties".into(), Value::Bool(false));
        Ok(())
    }

    /// A single `allOf` is how some generators attach a description to a `$ref`: merge it.
    fn merge_all_of(
        &mut self,
        mut obj: Map<String, Value>,
        all: Value,
        depth: usize,
    ) -> Result<Map<String, Value>> {
        let Value::Array(mut parts) = all else {
            return Err(config("`allOf` must be an array"));
        };
        if parts.len() != 1 {
            return Err(config(
                "`allOf` with more than one schema is not supported in strict mode",
            ));
        }
        let Value::Object(inner) = parts.remove(0) else {
            return Err(config("an `allOf` entry must be a schema object"));
        };
        for (key, value) in inner {
            obj.entry(key).or_insert(value);
        }
        self.clean(Value::Object(obj), depth)
    }

    /// Strict mode refuses `$ref` with sibling keys (a description, say): inline the target,
    /// the sibling keys winning. A recursive reference keeps the bare `$ref` instead.
    fn inline_ref(
        &mut self,
        mut obj: Map<String, Value>,
        depth: usize,
    ) -> Result<Map<String, Value>> {
        let Some(Value::String(reference)) = obj.remove("$ref") else {
            return Err(config("`$ref` must be a string"));
        };
        let Some(name) = def_name(&reference) else {
            return Err(config(format!("cannot resolve `$ref` {reference:?}")));
        };
        if self.inlining.iter().any(|n| n == name) {
            let mut bare = Map::new();
            bare.insert("$ref".into(), Value::String(reference.clone()));
            return self.clean(Value::Object(bare), depth);
        }
        let Some(Value::Object(target)) = self.defs.get(name) else {
            return Err(config(format!("`$ref` {reference:?} names no definition")));
        };
        for (key, value) in target.clone() {
            obj.entry(key).or_insert(value);
        }
        self.inlining.push(name.to_owned());
        let cleaned = self.clean(Value::Object(obj), depth);
        self.inlining.pop();
        cleaned
    }
}

/// Drops definitions nothing refers to any more (inlining leaves some behind): they would
/// only cost prompt tokens.
fn prune_unused(root: &Map<String, Value>, defs: &mut Map<String, Value>) {
    let mut used = Vec::new();
    let mut pending = Vec::new();
    collect_refs(&Value::Object(root.clone()), &mut pending);
    while let Some(name) = pending.pop() {
        if used.contains(&name) {
            continue;
        }
        if let Some(def) = defs.get(&name) {
            collect_refs(def, &mut pending);
        }
        used.push(name);
    }
    defs.retain(|name, _| used.contains(name));
}

fn collect_refs(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(obj) => {
            if let Some(name) = obj.get("$ref").and_then(Value::as_str).and_then(def_name) {
                into.push(name.to_owned());
            }
            obj.values().for_each(|v| collect_refs(v, into));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, into)),
        _ => {}
    }
}

/// Makes `schema` also accept `null`, unless it already does.
fn nullable(mut schema: Map<String, Value>) -> Map<String, Value> {
    if admits_null(&schema) {
        return schema;
    }
    if let Some(Value::Array(branches)) = schema.get_mut("anyOf") {
        branches.push(json!({"type": "null"}));
        return schema;
    }
    let simple = !schema.contains_key("const") && !schema.contains_key("$ref");
    match schema.get_mut("type") {
        Some(Value::String(t)) if simple => {
            let t = std::mem::take(t);
            schema.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(types)) if simple => types.push(json!("null")),
        _ => return wrap_nullable(schema),
    }
    if let Some(Value::Array(values)) = schema.get_mut("enum") {
        values.push(Value::Null);
    }
    schema
}

/// `{"anyOf": [schema, {"type": "null"}]}`, the description staying on the outside.
fn wrap_nullable(mut schema: Map<String, Value>) -> Map<String, Value> {
    let description = schema.remove("description");
    let mut outer = Map::new();
    outer.insert("anyOf".into(), json!([schema, {"type": "null"}]));
    if let Some(description) = description {
        outer.insert("description".into(), description);
    }
    outer
}

fn admits_null(schema: &Map<String, Value>) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) if t == "null" => return true,
        Some(Value::Array(types)) if types.iter().any(|t| t == "null") => return true,
        _ => {}
    }
    match schema.get("anyOf") {
        Some(Value::Array(branches)) => branches
            .iter()
            .any(|b| b.as_object().is_some_and(admits_null)),
        _ => false,
    }
}

fn is_object_schema(obj: &Map<String, Value>) -> bool {
    match obj.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(types)) => types.iter().any(|t| t == "object"),
        _ => obj.contains_key("properties"),
    }
}

/// `definitions` are moved to `$defs`, so references follow.
fn rewrite_ref(obj: &mut Map<String, Value>) {
    if let Some(Value::String(reference)) = obj.get_mut("$ref")
        && let Some(name) = reference.strip_prefix("#/definitions/")
    {
        *reference = format!("#/$defs/{name}");
    }
}

fn drop_unsupported_format(obj: &mut Map<String, Value>) {
    let is_string = obj.get("type").is_some_and(|t| match t {
        Value::String(t) => t == "string",
        Value::Array(types) => types.iter().any(|t| t == "string"),
        _ => false,
    });
    let supported = obj
        .get("format")
        .and_then(Value::as_str)
        .is_some_and(|f| STRING_FORMATS.contains(&f));
    if !(is_string && supported) {
        obj.remove("format");
    }
}

fn def_name(reference: &str) -> Option<&str> {
    reference
        .strip_prefix("#/$defs/")
        .or_else(|| reference.strip_prefix("#/definitions/"))
}

fn into_object(value: Value) -> Option<Map<String, Value>> {
    match value {
        Value::Object(obj) => Some(obj),
        _ => None,
    }
}

fn config(message: impl Into<String>) -> Error {
    Error::Config {
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn persona_schema_is_strict() {
        let schema = strict_schema_for::<link_core::Persona>().unwrap();
        let props = schema["properties"].as_object().unwrap();
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(required.len(), props.len());
        assert!(!props.contains_key("card_extensions"));
        assert_eq!(props["living"]["type"], json!(["boolean", "null"]));
        assert_eq!(props["safety_notes"]["type"], json!(["string", "null"]));
        let kinds = props["kind"]["anyOf"].as_array().unwrap();
        assert!(kinds.iter().any(|k| k["const"] == "real_person"));
        assert!(
            props["kind"].get("$ref").is_none(),
            "a $ref with a description is inlined"
        );
        assert!(schema.get("$schema").is_none());
        assert!(
            schema.get("$defs").is_none(),
            "inlined definitions are pruned"
        );
    }

    #[test]
    fn optional_fields_become_nullable_and_required() {
        let schema = make_strict(json!({
            "type": "object",
            "properties": {
                "a": {"type": "integer", "format": "uint32", "minimum": 0, "default": 3},
                "b": {"$ref": "#/definitions/B"},
                "c": {"enum": ["x", "y"], "type": "string"},
                "d": {"const": "k"}
            },
            "required": [],
            "definitions": {
                "B": {"type": "object", "properties": {"z": {"type": "string"}}},
                "Unused": {"type": "string"}
            }
        }))
        .unwrap();
        let p = &schema["properties"];
        assert_eq!(p["a"], json!({"type": ["integer", "null"], "minimum": 0}));
        assert_eq!(p["b"]["anyOf"][0]["$ref"], "#/$defs/B");
        assert_eq!(p["c"]["enum"], json!(["x", "y", null]));
        assert_eq!(p["d"]["anyOf"][1], json!({"type": "null"}));
        assert!(schema["$defs"].get("Unused").is_none());
        assert_eq!(schema["$defs"]["B"]["required"], json!(["z"]));
        assert_eq!(schema["$defs"]["B"]["additionalProperties"], false);
    }

    #[test]
    fn recursive_refs_with_siblings_do_not_loop() {
        let schema = make_strict(json!({
            "type": "object",
            "properties": {"root": {"$ref": "#/$defs/Node", "description": "top"}},
            "required": ["root"],
            "$defs": {"Node": {"type": "object", "properties": {
                "child": {"$ref": "#/$defs/Node", "description": "next"}
            }}}
        }))
        .unwrap();
        let child = &schema["properties"]["root"]["properties"]["child"];
        assert_eq!(child["anyOf"][0], json!({"$ref": "#/$defs/Node"}));
    }

    #[test]
    fn single_all_of_and_root_refs_are_resolved() {
        let schema = make_strict(json!({
            "$ref": "#/definitions/Root",
            "definitions": {
                "Root": {"type": "object", "properties": {
                    "p": {"allOf": [{"$ref": "#/definitions/P"}], "description": "a p"}
                }, "required": ["p"]},
                "P": {"type": "string", "enum": ["a", "b"]}
            }
        }))
        .unwrap();
        assert_eq!(schema["type"], "object");
        assert_eq!(
            schema["properties"]["p"],
            json!({"type": "string", "enum": ["a", "b"], "description": "a p"})
        );
    }

    #[test]
    fn inexpressible_schemas_are_refused() {
        let cases = [
            json!({"type": "array", "items": {"type": "string"}}),
            json!({"type": "object", "properties": {"m": {"type": "object", "additionalProperties": {"type": "string"}}}}),
            json!({"type": "object", "properties": {"n": {"not": {"type": "string"}}}}),
            json!({"type": "object", "properties": {"v": true}}),
            json!({"type": "object", "properties": {"x": {"allOf": [{"type": "string"}, {"type": "string"}]}}}),
            json!({"type": "object", "properties": {"r": {"$ref": "#/$defs/Missing", "description": "?"}}}),
        ];
        for case in cases {
            assert!(
                matches!(make_strict(case.clone()), Err(Error::Config { .. })),
                "{case}"
            );
        }
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_refused() {
        let mut schema = json!({"type": "object", "properties": {"leaf": {"type": "string"}}});
        for _ in 1..MAX_NESTING {
            schema = json!({"type": "object", "properties": {"inner": schema}});
        }
        assert!(
            make_strict(schema.clone()).is_ok(),
            "{MAX_NESTING} levels are allowed"
        );
        let deeper = json!({"type": "object", "properties": {"inner": schema}});
        assert!(matches!(make_strict(deeper), Err(Error::Config { .. })));
    }
}
