//! ApplyGuardrail: the mock guardrail assesses a text, as user input (`INPUT`) or model
//! output (`OUTPUT`).

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::TRIGGER;
use super::errors::error;
use super::server::{MockState, receive};

/// `POST /guardrail/{id}/version/{version}/apply`.
pub async fn apply_guardrail(
    State(state): State<Arc<MockState>>,
    Path((id, version)): Path<(String, String)>,
    request: Request,
) -> Response {
    let (_, body, _) = match receive(&state, "apply-guardrail", &id, request).await {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    if version.is_empty() || !(body["source"] == "INPUT" || body["source"] == "OUTPUT") {
        return error(400, "ValidationException", "source must be INPUT or OUTPUT");
    }
    let Some(text) = body.pointer("/content/0/text/text").and_then(Value::as_str) else {
        return error(400, "ValidationException", "content[0].text.text missing");
    };
    if text.contains(TRIGGER) {
        return axum::Json(json!({
            "usage": { "topicPolicyUnits": 1, "contentPolicyUnits": 1, "wordPolicyUnits": 1,
                       "sensitiveInformationPolicyUnits": 1, "sensitiveInformationPolicyFreeUnits": 0,
                       "contextualGroundingPolicyUnits": 0 },
            "action": "GUARDRAIL_INTERVENED",
            "actionReason": "Guardrail blocked.",
            "outputs": [{ "text": "This character is not allowed." }],
            "assessments": [{
                "topicPolicy": { "topics": [
                    { "name": "Forbidden", "type": "DENY", "action": "BLOCKED", "detected": true }
                ] },
                "contentPolicy": { "filters": [
                    { "type": "VIOLENCE", "confidence": "HIGH", "filterStrength": "HIGH",
                      "action": "BLOCKED", "detected": true },
                    { "type": "INSULTS", "confidence": "LOW", "filterStrength": "HIGH",
                      "action": "NONE", "detected": false }
                ] },
                "wordPolicy": { "customWords": [
                    { "match": TRIGGER, "action": "BLOCKED", "detected": true }
                ], "managedWordLists": [] }
            }],
        }))
        .into_response();
    }
    axum::Json(json!({ "action": "NONE", "outputs": [], "assessments": [] })).into_response()
}
