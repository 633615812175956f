//! `strict_schema_for` on many shapes of Rust type, each checked by the strict-mode validator
//! the fake OpenAI uses, and round-tripped through serde where the model's output must parse.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

mod common;

use std::collections::HashMap;

use common::strict_schema_violations;
use link_core::schemars::JsonSchema;
use link_core::{Error, Persona};
use link_openai::schema::{make_strict, strict_schema_for};
use serde::Deserialize;
use serde_json::json;

/// Where a character lives.
#[derive(Deserialize, JsonSchema)]
struct Place {
    /// The city.
    city: String,
    /// The country, if known.
    country: Option<String>,
}

/// How a character fights.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Style {
    /// Not at all.
    Pacifist,
    /// With a weapon.
    Armed { weapon: String },
}

/// A tree of places, to exercise recursion.
#[derive(Deserialize, JsonSchema)]
struct Region {
    name: String,
    /// Smaller regions inside.
    parts: Vec<Region>,
    parent: Option<Box<Region>>,
}

#[derive(Deserialize, JsonSchema)]
struct Everything {
    /// Home.
    home: Place,
    /// Maybe a second home.
    holiday: Option<Place>,
    /// Past homes.
    history: Vec<Place>,
    style: Style,
    age: u32,
    height: f64,
    #[serde(default)]
    nicknames: Vec<String>,
    #[serde(default = "default_mood")]
    mood: String,
    region: Region,
    tag: Option<Style>,
}

fn default_mood() -> String {
    "calm".into()
}

#[test]
fn rich_types_clean_to_valid_strict_schemas() {
    for (name, schema) in [
        ("Persona", strict_schema_for::<Persona>().unwrap()),
        (
            "extraction::schema",
            make_strict(link_core::extraction::schema()).unwrap(),
        ),
        ("Everything", strict_schema_for::<Everything>().unwrap()),
        ("Region", strict_schema_for::<Region>().unwrap()),
    ] {
        let problems = strict_schema_violations(&schema);
        assert!(problems.is_empty(), "{name}: {problems:#?}\n{schema:#}");
    }
}

#[test]
fn uncleaned_schemars_output_is_caught_by_the_validator() {
    let raw = serde_json::to_value(link_core::schemars::schema_for!(Everything)).unwrap();
    assert!(!strict_schema_violations(&raw).is_empty());
}

/// Every property the strict schema lets the model set to `null`, with its path.
fn nullable_paths(schema: &serde_json::Value, path: &str, into: &mut Vec<String>) {
    let Some(properties) = schema["properties"].as_object() else {
        return;
    };
    for (name, property) in properties {
        let here = format!("{path}/{name}");
        let types = &property["type"];
        let null_type =
            types == "null" || types.as_array().is_some_and(|t| t.contains(&json!("null")));
        let null_branch = property["anyOf"]
            .as_array()
            .is_some_and(|b| b.contains(&json!({"type": "null"})));
        if null_type || null_branch {
            into.push(here.clone());
        }
        nullable_paths(property, &here, into);
    }
}

#[test]
fn a_model_answer_with_null_wherever_the_strict_schema_allows_it_deserialises() {
    let schema = strict_schema_for::<Everything>().unwrap();
    let mut nullable = Vec::new();
    nullable_paths(&schema, "", &mut nullable);
    nullable_paths(&schema["$defs"]["Place"], "/Place", &mut nullable);
    nullable_paths(&schema["$defs"]["Region"], "/Region", &mut nullable);
    nullable.sort();
    assert_eq!(
        nullable,
        [
            "/Place/country",
            "/Region/parent",
            "/holiday",
            "/home/country",
            "/tag"
        ],
        "exactly the Option fields may be null"
    );
    // Under strict mode the model sends every key: here null in every place the schema allows.
    let answer = json!({
        "home": {"city": "London", "country": null},
        "holiday": null,
        "history": [{"city": "Bath", "country": null}],
        "style": {"armed": {"weapon": "cane"}},
        "age": 40, "height": 1.83,
        "nicknames": [],
        "mood": "restless",
        "region": {"name": "UK", "parts": [], "parent": null},
        "tag": null
    });
    let parsed: Everything = serde_json::from_value(answer).unwrap();
    assert_eq!(parsed.home.city, "London");
    assert!(parsed.holiday.is_none() && parsed.tag.is_none());
}

#[test]
fn serde_default_fields_become_required_but_not_nullable() {
    let schema = strict_schema_for::<Everything>().unwrap();
    let required = schema["required"].as_array().unwrap();
    assert!(required.contains(&json!("nicknames")) && required.contains(&json!("mood")));
    // serde does not turn null into the default: a null here would not deserialise.
    assert_eq!(schema["properties"]["nicknames"]["type"], "array");
    assert!(serde_json::from_value::<Vec<String>>(json!(null)).is_err());
    assert!(schema["properties"]["mood"].get("default").is_none());
}

#[derive(Deserialize, JsonSchema)]
struct WithMap {
    scores: HashMap<String, u32>,
}

#[derive(Deserialize, JsonSchema)]
struct WithAnyJson {
    extra: serde_json::Value,
}

#[test]
fn types_strict_mode_cannot_express_are_config_errors() {
    assert!(matches!(
        strict_schema_for::<WithMap>(),
        Err(Error::Config { .. })
    ));
    assert!(matches!(
        strict_schema_for::<WithAnyJson>(),
        Err(Error::Config { .. })
    ));
    assert!(matches!(
        strict_schema_for::<Vec<String>>(),
        Err(Error::Config { .. })
    ));
    assert!(matches!(
        make_strict(json!("nope")),
        Err(Error::Config { .. })
    ));
}
