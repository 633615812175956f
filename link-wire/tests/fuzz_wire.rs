//! What a client reads from the server, under arbitrary input: every wire type parses any
//! text to a value or an error (timestamps included), a parsed value writes back to the same
//! value, and an error body of any code, message, status and `Retry-After` becomes an engine
//! error whose code and status the server would send for it again. Never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use link_wire::{
    AuthModeBody, ChatReplyBody, ConversationBody, ConversationList, DeltaEvent, DoneEvent,
    ErrorBody, ErrorDetail, HealthBody, LoginReply, RefreshReply, ReplyBody, SignUpReply,
    TokenResponse,
};
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const CASES: u32 = 512;

/// Any JSON value, a few levels deep, its strings sometimes timestamps or codes.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,16}".prop_map(Value::from),
        timestamp().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map(field_name(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Keys the wire types read, and others.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "id", "role", "content", "created_at", "updated_at", "persona", "messages",
            "conversations", "message", "usage", "stop_reason", "input_tokens", "output_tokens",
            "total_tokens", "text", "message_id", "error", "code", "status", "warning", "mode",
            "token", "expires_in", "id_token", "access_token", "refresh_token", "completion",
            "conversation_id", "user_confirmed", "name", "kind", "description", "greeting",
        ])
        .prop_map(str::to_owned),
        1 => ".{0,6}",
    ]
}

/// RFC 3339 look-alikes: valid, out of range, leap seconds, odd offsets, cut short.
fn timestamp() -> impl Strategy<Value = String> {
    (
        0u32..10000,
        0u32..14,
        0u32..33,
        0u32..25,
        0u32..61,
        0u32..62,
        prop_oneof![
            Just("Z".to_owned()),
            Just("+00:00".to_owned()),
            Just("-23:59".to_owned()),
            Just("+99:99".to_owned()),
            Just(".999999999Z".to_owned()),
            Just(String::new()),
        ],
        any::<usize>(),
    )
        .prop_map(|(y, mo, d, h, mi, s, zone, cut)| {
            let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{zone}");
            let cut = cut % (text.len() + 1);
            if cut > text.len() / 2 {
                text
            } else {
                text[..text.len() - cut / 4].to_owned()
            }
        })
}

/// Parses `text` as `T`; a value it parses writes JSON that parses to the same JSON again.
fn parses_or_fails<T: DeserializeOwned + Serialize>(text: &str) -> Result<(), TestCaseError> {
    if let Ok(value) = serde_json::from_str::<T>(text) {
        let written = serde_json::to_value(&value).unwrap();
        let again: T = serde_json::from_value(written.clone())
            .map_err(|e| TestCaseError::fail(format!("{written} does not read back: {e}")))?;
        prop_assert_eq!(serde_json::to_value(&again).unwrap(), written);
    }
    Ok(())
}

/// Every type a client reads.
fn every_type(text: &str) -> Result<(), TestCaseError> {
    parses_or_fails::<ErrorBody>(text)?;
    parses_or_fails::<DeltaEvent>(text)?;
    parses_or_fails::<DoneEvent>(text)?;
    parses_or_fails::<ReplyBody>(text)?;
    parses_or_fails::<ConversationBody>(text)?;
    parses_or_fails::<ConversationList>(text)?;
    parses_or_fails::<ChatReplyBody>(text)?;
    parses_or_fails::<HealthBody>(text)?;
    parses_or_fails::<AuthModeBody>(text)?;
    parses_or_fails::<TokenResponse>(text)?;
    parses_or_fails::<LoginReply>(text)?;
    parses_or_fails::<RefreshReply>(text)?;
    parses_or_fails::<SignUpReply>(text)
}

/// Codes the server sends, and others.
fn code() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "unauthorized", "forbidden", "rate_limited", "invalid_request", "invalid_persona",
            "not_found", "guardrail_blocked", "content_filtered", "refusal", "upstream_error",
            "timeout", "busy", "cancelled", "internal_error", "malformed_output",
            "payload_too_large", "unsupported_media_type",
        ])
        .prop_map(str::to_owned),
        1 => ".{0,16}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn any_json_parses_to_a_value_or_an_error(value in any_json()) {
        every_type(&value.to_string())?;
    }

    #[test]
    fn any_text_parses_to_a_value_or_an_error(bytes in prop::collection::vec(any::<u8>(), 0..128)) {
        every_type(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn any_error_body_becomes_an_engine_error(
        code in code(),
        message in "\\PC{0,40}",
        status in prop::option::of(any::<u16>()),
        retry_after in prop::option::of(any::<u64>()),
    ) {
        let detail = ErrorDetail { code, message };
        let error = detail.to_error(status, retry_after.map(Duration::from_millis));
        // The server would send the same error with a code and a status of its own table.
        let again = ErrorDetail::from_error(&error);
        prop_assert!(!again.code.is_empty());
        prop_assert!((400..600).contains(&error.http_status()), "{error:?}");
    }
}
