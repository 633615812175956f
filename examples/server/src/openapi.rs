//! The OpenAPI 3.1 document, generated from the handlers and DTOs (utoipa) plus the
//! persona's JSON Schema generated from the Rust type (schemars), the answers that every route
//! of a kind shares (JSON body rejections, 401 and 429) and the links from each answer that
//! names a conversation to the operations on it. Served at `/openapi.json` and checked in as
//! `examples/server/openapi.json` (a test keeps the two equal).

use axum::Json;
use link::{Lorebook, Persona};
use serde_json::{Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{error, routes};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Link API",
        description = "Chat with any character, famous or invented. Every /v1 route except \
                       /v1/auth/* needs `Authorization: Bearer <token>`."
    ),
    paths(
        routes::health::healthz,
        routes::health::readyz,
        routes::dev_token::mint_dev_token,
        routes::account::mode,
        routes::account::signup,
        routes::account::confirm,
        routes::account::login,
        routes::account::refresh,
        routes::account::signout,
        routes::personas::extract,
        routes::cards::export,
        routes::conversations::create,
        routes::conversations::list,
        routes::conversations::get,
        routes::conversations::update,
        routes::conversations::delete,
        routes::conversations::send,
        routes::controls::regenerate,
        routes::controls::resend,
        routes::controls::edit,
        routes::controls::rewind,
        routes::controls::fork,
        routes::me::get,
        routes::me::put,
        routes::me::delete,
        routes::me::usage::get,
        routes::keys::create,
        routes::keys::list,
        routes::keys::revoke,
        routes::openai_compat::models::list,
        routes::openai_compat::models::retrieve,
        routes::openai_compat::completions::create,
        routes::cards::import,
        routes::avatar::get,
        routes::avatar::put,
        routes::avatar::delete,
        routes::lorebook::get,
        routes::lorebook::put,
        routes::lorebook::delete,
        routes::chat::chat,
    ),
    components(schemas(error::ErrorBody, link_wire::DeltaEvent, link_wire::DoneEvent)),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The whole document as JSON.
pub fn document() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        add_persona_schemas(schemas);
    }
    add_shared_responses(&mut doc);
    add_conversation_links(&mut doc);
    doc
}

/// The operations that add to what a user stores, so a storage cap may refuse them (403).
const STORE_MORE: [&str; 8] = [
    "chat",
    "create",
    "import",
    "fork",
    "send",
    "edit",
    "resend",
    "regenerate",
];

/// Adds the answers that layers give on every route of a kind, so that no handler has to
/// repeat them: a JSON body that does not parse (400), is too large (413) or is not JSON
/// (415), an id in the path that is not one (400), on protected routes a missing or bad
/// token (401) and the rate limit (429), and on routes that store more a storage cap (403).
/// A response the handler documents itself is kept.
fn add_shared_responses(doc: &mut Value) {
    for operation in operations(doc) {
        let mut shared = Vec::new();
        let id = operation["operationId"].as_str().unwrap_or_default();
        if STORE_MORE.contains(&id) {
            shared.push((
                "403",
                "A storage cap of yours is reached (conversations, messages in this \
                 conversation, or bytes); delete conversations to make room",
            ));
        }
        if takes_a_path_id(operation) {
            shared.push(("400", "An id in the path is malformed"));
        }
        if operation.get("requestBody").is_some() {
            shared.extend([
                ("400", "The body is not valid JSON of the documented shape"),
                ("413", "The body is larger than the server's limit"),
                ("415", "The body is not `Content-Type: application/json`"),
            ]);
        }
        if operation.get("security").is_some() {
            shared.extend([
                ("401", "No valid token"),
                ("429", "Rate limited; see Retry-After"),
            ]);
        }
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        for (status, description) in shared {
            responses
                .entry(status)
                .or_insert_with(|| error_response(description));
        }
    }
}

fn takes_a_path_id(operation: &Value) -> bool {
    operation["parameters"]
        .as_array()
        .is_some_and(|params| params.iter().any(|p| p["in"] == "path"))
}

/// The operations that take a conversation id: (link name, operationId, parameter).
const TAKE_A_CONVERSATION: [(&str, &str, &str); 8] = [
    ("ReadConversation", "get", "id"),
    ("SendMessage", "send", "id"),
    ("ExportCard", "export", "conversation_id"),
    ("DeleteConversation", "delete", "id"),
    ("UpdateConversation", "update", "id"),
    ("Regenerate", "regenerate", "id"),
    ("Rewind", "rewind", "id"),
    ("Fork", "fork", "id"),
];

/// The answers that name a conversation: (schema, JSON pointer to its id).
const NAME_A_CONVERSATION: [(&str, &str); 2] = [
    ("ConversationBody", "/id"),
    ("ChatReplyBody", "/conversation_id"),
];

/// Links every successful answer that names a conversation to the operations that take its
/// id (OpenAPI links): how a client, or a stateful test, goes from creating a conversation
/// to reading, continuing, exporting and deleting it.
fn add_conversation_links(doc: &mut Value) {
    for operation in operations(doc) {
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        for (status, response) in responses.iter_mut() {
            let schema = response
                .pointer("/content/application~1json/schema/$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"));
            let id = NAME_A_CONVERSATION
                .iter()
                .find(|(name, _)| Some(*name) == schema)
                .map(|(_, pointer)| format!("$response.body#{pointer}"));
            if let Some(id) = id.filter(|_| status.starts_with('2')) {
                response["links"] = conversation_links(&id);
            }
        }
    }
}

fn conversation_links(id: &str) -> Value {
    let links = TAKE_A_CONVERSATION
        .iter()
        .map(|(name, operation, parameter)| {
            let link =
                serde_json::json!({"operationId": operation, "parameters": {*parameter: id}});
            ((*name).to_owned(), link)
        })
        .collect();
    Value::Object(links)
}

/// The keys of a path item that hold operations.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every operation of the document.
fn operations(doc: &mut Value) -> impl Iterator<Item = &mut Value> {
    doc.get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.iter_mut())
        .filter(|(key, _)| METHODS.contains(&key.as_str()))
        .map(|(_, operation)| operation)
}

/// A documented error answer: an [`error::ErrorBody`] as JSON.
fn error_response(description: &str) -> Value {
    serde_json::json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    })
}

/// Adds `Persona` and `Lorebook` and the types they use, generated by schemars, with their
/// `$defs` references pointed at `#/components/schemas`.
fn add_persona_schemas(schemas: &mut Map<String, Value>) {
    add_schemars(schemas, "Persona", link::schemars::schema_for!(Persona));
    add_schemars(schemas, "Lorebook", link::schemars::schema_for!(Lorebook));
}

fn add_schemars(schemas: &mut Map<String, Value>, name: &str, schema: link::schemars::Schema) {
    let mut schema = serde_json::to_value(schema).unwrap_or_default();
    retarget_refs(&mut schema);
    if let Value::Object(root) = &mut schema {
        root.remove("$schema");
        if let Some(Value::Object(defs)) = root.remove("$defs") {
            schemas.extend(defs);
        }
    }
    schemas.insert(name.to_owned(), schema);
}

fn retarget_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/$defs/")
            {
                *r = format!("#/components/schemas/{name}");
            }
            map.values_mut().for_each(retarget_refs);
        }
        Value::Array(items) => items.iter_mut().for_each(retarget_refs),
        _ => {}
    }
}

/// `GET /openapi.json`.
pub async fn serve() -> Json<Value> {
    Json(document())
}
