//! Character Card V2 import under arbitrary input: whatever the text, `from_json` and
//! `to_persona` return an error or a card and a persona that pass every check, never panic;
//! and a persona that imported exports and imports back to itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use link_core::CharacterCard;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Enough cases to reach the card's corners (odd types, the Link extension, example lines),
/// few enough for a debug build to run them in about a second.
const CASES: u32 = 512;

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Text a card field may hold: mostly dialogue-like, with `<START>`, `{{char}}:`, line
/// breaks, control characters and multi-byte characters where a parser slices.
fn card_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<START>".to_owned()),
        Just("{{char}}:".to_owned()),
        Just("{{user}}:".to_owned()),
        Just("\n".to_owned()),
        Just("\r\n".to_owned()),
        Just(" ".to_owned()),
        "[\\x00-\\x1f\\x7f]".prop_map(String::from),
        "\\PC{0,12}",
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

/// A card's `data`: the known fields, mostly with text that may make a valid persona,
/// sometimes with messy text or any JSON; sometimes Link's own persona extension and
/// fields nobody knows.
fn card_data() -> impl Strategy<Value = Value> {
    let fields = [
        "name",
        "description",
        "first_mes",
        "personality",
        "scenario",
        "system_prompt",
        "creator",
        "character_version",
    ];
    let field_value = prop_oneof![
        30 => "\\PC{1,30}".prop_map(Value::from),
        6 => card_text().prop_map(Value::from),
        1 => any_json(),
    ];
    let present = prop::option::weighted(0.9, field_value);
    let tags = prop_oneof![
        9 => prop::collection::vec(
            prop_oneof![
                Just("fictional".to_owned()),
                Just("Real_Person".to_owned()),
                ".{0,10}"
            ],
            0..3
        )
        .prop_map(|t| json!(t)),
        1 => any_json(),
    ];
    (
        prop::collection::vec(present, fields.len()),
        tags,
        card_text(),
        prop::option::of(any_json()),
        prop::option::of(any_json()),
    )
        .prop_map(move |(values, tags, examples, link, extra)| {
            let mut data: Map<String, Value> = fields
                .iter()
                .zip(values)
                .filter_map(|(name, value)| Some(((*name).to_owned(), value?)))
                .collect();
            data.insert("tags".into(), tags);
            data.insert("mes_example".into(), examples.into());
            if let Some(persona) = link {
                data.insert("extensions".into(), json!({"link": {"persona": persona}}));
            }
            if let Some(extra) = extra {
                data.insert("creator_notes".into(), extra);
            }
            Value::Object(data)
        })
}

/// A whole card document: mostly the right spec, sometimes not, sometimes no object at all.
fn card_json() -> impl Strategy<Value = String> {
    let spec = prop_oneof![6 => Just(json!("chara_card_v2")), 1 => any_json()];
    let version = prop_oneof![
        3 => Just(json!("2.0")),
        3 => Just(json!("2")),
        1 => Just(json!("1.0")),
        1 => any_json()
    ];
    let card = (spec, version, card_data()).prop_map(|(spec, version, data)| {
        json!({"spec": spec, "spec_version": version, "data": data}).to_string()
    });
    prop_oneof![
        6 => card,
        1 => any_json().prop_map(|v| v.to_string()),
        1 => ".{0,64}",
    ]
}

/// The import's contract: an error, or a persona that passes every check and survives an
/// export and a second import unchanged.
fn import_is_total(text: &str) -> Result<(), TestCaseError> {
    let Ok(card) = CharacterCard::from_json(text) else {
        return Ok(());
    };
    let Ok(persona) = card.to_persona() else {
        return Ok(());
    };
    prop_assert!(persona.clone().validated().is_ok());
    let again = CharacterCard::from_persona(&persona).to_persona();
    prop_assert_eq!(again.ok(), Some(persona));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn card_shaped_documents_import_or_fail_cleanly(text in card_json()) {
        import_is_total(&text)?;
    }

    #[test]
    fn arbitrary_text_is_refused_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        import_is_total(&String::from_utf8_lossy(&bytes))?;
    }
}
