//! OpenAI's moderation endpoint, `POST /v1/moderations`, as the mock answers it.
//!
//! Request: `{"model": "omni-moderation-latest", "input": "text"}` (`input` may also be an
//! array of strings). Response: `{"id", "model", "results": [{"flagged", "categories":
//! {name: bool}, "category_scores": {name: number}, "category_applied_input_types": {name:
//! ["text"]}}]}`, one result per input. A text is flagged when it contains one of
//! [`FLAGGED_WORDS`]; the status faults ([`Fault::RateLimited`], [`Fault::InsufficientQuota`],
//! [`Fault::Overloaded`]) and [`Fault::Stall`] answer when the text holds their trigger.

use serde_json::{Map, Value, json};

use super::fault::Fault;
use super::reply::{Reply, STALL_LIMIT};
use super::wire::{invalid_request, model_not_found};

/// The moderation models the mock knows.
pub const MODERATION_MODELS: &[&str] = &[
    "omni-moderation-latest",
    "omni-moderation-2024-09-26",
    "text-moderation-latest",
    "text-moderation-stable",
];

/// The categories of the omni moderation models, in the order OpenAI lists them.
pub const CATEGORIES: &[&str] = &[
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
];

/// Words that get a text flagged, with the categories each one sets.
pub const FLAGGED_WORDS: &[(&str, &[&str])] = &[
    ("crowbar", &["violence", "illicit/violent"]),
    ("scoundrel", &["harassment"]),
];

/// The mock's answer to a moderation request body (the key was checked already).
pub fn answer(body: &[u8]) -> Reply {
    let body: Value = match serde_json::from_slice(body) {
        Ok(body) => body,
        Err(e) => {
            let message = format!("We could not parse the JSON body of your request. ({e})");
            return invalid_request("", &message);
        }
    };
    let model = match &body["model"] {
        Value::Null => "omni-moderation-latest",
        Value::String(model) => model.as_str(),
        _ => return invalid_request("model", "'model' must be a string"),
    };
    if !MODERATION_MODELS.contains(&model) {
        return model_not_found(model);
    }
    let inputs: Vec<&str> = match &body["input"] {
        Value::String(text) => vec![text.as_str()],
        Value::Array(items) => match items.iter().map(Value::as_str).collect::<Option<_>>() {
            Some(texts) => texts,
            None => return invalid_request("input", "'input' items must be strings"),
        },
        _ => return invalid_request("input", "'input' is a required property"),
    };
    let all = inputs.join("\n");
    match Fault::triggered_by(&all) {
        Some(
            fault @ (Fault::RateLimited { .. }
            | Fault::InsufficientQuota
            | Fault::Overloaded { .. }),
        ) => {
            return fault.reply(&body);
        }
        Some(Fault::Stall) => return result(model, &inputs).set_delay(STALL_LIMIT),
        _ => {}
    }
    result(model, &inputs)
}

fn result(model: &str, inputs: &[&str]) -> Reply {
    let results: Vec<Value> = inputs.iter().map(|text| assess(text)).collect();
    Reply::new(200).set_body_json(json!({
        "id": "modr-0123456789",
        "model": model,
        "results": results,
    }))
}

fn assess(text: &str) -> Value {
    let lower = text.to_lowercase();
    let flagged: Vec<&str> = FLAGGED_WORDS
        .iter()
        .filter(|(word, _)| lower.contains(word))
        .flat_map(|(_, categories)| categories.iter().copied())
        .collect();
    let mut categories = Map::new();
    let mut scores = Map::new();
    let mut applied = Map::new();
    for &category in CATEGORIES {
        let hit = flagged.contains(&category);
        categories.insert(category.to_owned(), json!(hit));
        scores.insert(category.to_owned(), json!(if hit { 0.93 } else { 0.0001 }));
        applied.insert(category.to_owned(), json!(["text"]));
    }
    json!({
        "flagged": !flagged.is_empty(),
        "categories": categories,
        "category_scores": scores,
        "category_applied_input_types": applied,
    })
}
