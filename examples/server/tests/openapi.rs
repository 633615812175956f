//! The checked-in OpenAPI document is the one the code generates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn openapi_json_is_up_to_date() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    let generated = serde_json::to_string_pretty(&link_server::openapi::document()).unwrap() + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "examples/server/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p link-server --test openapi`"
    );
}

#[test]
fn the_document_describes_every_route_and_the_persona() {
    let doc = link_server::openapi::document();
    assert_eq!(doc["openapi"], "3.1.0");
    for (path, method) in [
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/v1/auth/token", "post"),
        ("/v1/auth/mode", "get"),
        ("/v1/auth/signup", "post"),
        ("/v1/auth/confirm", "post"),
        ("/v1/auth/login", "post"),
        ("/v1/auth/refresh", "post"),
        ("/v1/auth/signout", "post"),
        ("/v1/personas", "post"),
        ("/v1/personas/{conversation_id}/card", "get"),
        ("/v1/conversations", "post"),
        ("/v1/conversations", "get"),
        ("/v1/conversations/{id}", "get"),
        ("/v1/conversations/{id}", "delete"),
        ("/v1/conversations/{id}", "patch"),
        ("/v1/conversations/{id}/messages", "post"),
        ("/v1/conversations/{id}/messages/{message_id}", "patch"),
        (
            "/v1/conversations/{id}/messages/{message_id}/resend",
            "post",
        ),
        ("/v1/conversations/{id}/regenerate", "post"),
        ("/v1/conversations/{id}/rewind", "post"),
        ("/v1/conversations/{id}/fork", "post"),
        ("/v1/me/persona", "get"),
        ("/v1/me/persona", "put"),
        ("/v1/me/persona", "delete"),
        ("/v1/me/usage", "get"),
        ("/v1/conversations/import", "post"),
        ("/v1/chat", "post"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} undocumented"
        );
    }
    let schemas = &doc["components"]["schemas"];
    assert!(
        schemas["Persona"]["properties"]["kind"]["$ref"]
            .as_str()
            .unwrap()
            .starts_with("#/components/schemas/")
    );
    assert!(schemas["PersonaKind"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}
