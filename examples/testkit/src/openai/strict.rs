//! OpenAI's strict structured-output rules (WIRE.md): what makes the API answer 400
//! `invalid_json_schema` before generating anything.

use std::collections::BTreeSet;

use serde_json::Value;

/// Every way `response_format` breaks OpenAI's strict structured-output rules (WIRE.md).
pub fn response_format_violations(format: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if format["type"] != "json_schema" {
        problems.push("response_format.type must be json_schema".into());
    }
    let spec = &format["json_schema"];
    let name = spec["name"].as_str().unwrap_or_default();
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !name_ok {
        problems.push(format!("json_schema.name {name:?} is invalid"));
    }
    if spec["strict"] != true {
        problems.push("json_schema.strict must be true".into());
    }
    problems.extend(strict_schema_violations(&spec["schema"]));
    problems
}

/// Every way `schema` breaks the strict-mode subset: root object, closed objects, all
/// properties required, no unsupported keywords, resolvable bare `$ref`s, limits.
pub fn strict_schema_violations(schema: &Value) -> Vec<String> {
    let mut walker = Walker {
        root: schema,
        problems: Vec::new(),
        properties: 0,
    };
    if schema["type"] != "object" {
        walker.problems.push("root: type must be \"object\"".into());
    }
    if schema.get("anyOf").is_some() {
        walker
            .problems
            .push("root: anyOf is not allowed at the root".into());
    }
    walker.walk(schema, "#", 0);
    if let Some(defs) = schema.get("$defs").and_then(Value::as_object) {
        for (name, def) in defs {
            walker.walk(def, &format!("#/$defs/{name}"), 0);
        }
    }
    if walker.properties > 5000 {
        walker
            .problems
            .push(format!("{} properties (max 5000)", walker.properties));
    }
    walker.problems
}

/// Walks a schema, collecting every rule it breaks.
struct Walker<'a> {
    root: &'a Value,
    problems: Vec<String>,
    properties: usize,
}

/// Keywords strict mode refuses.
const FORBIDDEN: &[&str] = &[
    "allOf",
    "not",
    "if",
    "then",
    "else",
    "patternProperties",
    "default",
    "oneOf",
    "prefixItems",
];
/// The JSON types strict mode knows.
const TYPES: &[&str] = &[
    "string", "number", "integer", "boolean", "object", "array", "null",
];

impl Walker<'_> {
    fn walk(&mut self, schema: &Value, at: &str, depth: usize) {
        let Some(obj) = schema.as_object() else {
            self.problems
                .push(format!("{at}: a schema must be an object"));
            return;
        };
        for key in FORBIDDEN {
            if obj.contains_key(*key) {
                self.problems
                    .push(format!("{at}: `{key}` is not supported"));
            }
        }
        if at != "#" && obj.contains_key("$defs") {
            self.problems.push(format!("{at}: $defs only at the root"));
        }
        if let Some(reference) = obj.get("$ref") {
            self.check_ref(reference, obj.len(), at);
            return;
        }
        self.check_types(obj.get("type"), at);
        if let Some(branches) = obj.get("anyOf") {
            match branches.as_array() {
                Some(branches) if !branches.is_empty() => {
                    for (i, b) in branches.iter().enumerate() {
                        self.walk(b, &format!("{at}/anyOf/{i}"), depth);
                    }
                }
                _ => self
                    .problems
                    .push(format!("{at}: anyOf must be a non-empty array")),
            }
        }
        if let Some(items) = obj.get("items") {
            self.walk(items, &format!("{at}/items"), depth);
        }
        let is_object = match obj.get("type") {
            Some(Value::String(t)) => t == "object",
            Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
            _ => obj.contains_key("properties"),
        };
        if is_object {
            self.check_object(obj, at, depth + 1);
        }
    }

    fn check_ref(&mut self, reference: &Value, keys: usize, at: &str) {
        if keys > 1 {
            self.problems
                .push(format!("{at}: $ref must not have sibling keys"));
        }
        let Some(reference) = reference.as_str() else {
            self.problems.push(format!("{at}: $ref must be a string"));
            return;
        };
        if reference == "#" {
            return;
        }
        let resolved = reference
            .strip_prefix("#/$defs/")
            .and_then(|name| self.root.get("$defs")?.get(name));
        if resolved.is_none() {
            self.problems
                .push(format!("{at}: $ref {reference:?} does not resolve"));
        }
    }

    fn check_types(&mut self, ty: Option<&Value>, at: &str) {
        let names: Vec<&Value> = match ty {
            None => return,
            Some(Value::Array(ts)) => ts.iter().collect(),
            Some(t) => vec![t],
        };
        for t in names {
            if !t.as_str().is_some_and(|t| TYPES.contains(&t)) {
                self.problems.push(format!("{at}: unknown type {t}"));
            }
        }
    }

    fn check_object(&mut self, obj: &serde_json::Map<String, Value>, at: &str, depth: usize) {
        if depth > 10 {
            self.problems
                .push(format!("{at}: nested deeper than 10 levels"));
        }
        if obj.get("additionalProperties") != Some(&Value::Bool(false)) {
            self.problems
                .push(format!("{at}: additionalProperties must be false"));
        }
        let empty = serde_json::Map::new();
        let props = obj
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let keys: BTreeSet<&str> = props.keys().map(String::as_str).collect();
        let required: BTreeSet<&str> = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if keys != required {
            self.problems.push(format!(
                "{at}: required {required:?} must list every property {keys:?}"
            ));
        }
        self.properties += props.len();
        for (name, prop) in props {
            self.walk(prop, &format!("{at}/properties/{name}"), depth);
        }
    }
}
