//! ApplyGuardrail: the mock guardrail assesses an input text.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::TRIGGER;
use super::errors::error;
use super::server::{Incoming, MockState, record};

/// `POST /guardrail/{id}/version/{version}/apply`.
pub async fn apply_guardrail(
    State(state): State<Arc<MockState>>,
    Path((id, version)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let incoming = Incoming {
        operation: "apply-guardrail",
        model: &id,
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &body,
    };
    let (_, body) = match record(&state, incoming) {
        Ok(ok) => ok,
        Err(response) => return *response,
    };
    if version.is_empty() || body["source"] != "INPUT" {
        return error(400, "ValidationException", "source must be INPUT");
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
            "assessments": [{ "topicPolicy": { "topics": [
                { "name": "Forbidden", "type": "DENY", "action": "BLOCKED" }
            ] } }],
        }))
        .into_response();
    }
    axum::Json(json!({ "action": "NONE", "outputs": [], "assessments": [] })).into_response()
}
