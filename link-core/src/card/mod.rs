//! Character cards: how SillyTavern, RisuAI, Agnai and the card sites share characters.
//!
//! Link reads and writes Character Card V2 (`chara_card_v2`) and V3 (`chara_card_v3`) as JSON
//! ([`CharacterCard::from_json`]), inside PNG images ([`png`]: the card in a `ccv3` or
//! `chara` text chunk) and, for import, CharX archives ([`charx`]).
//!
//! Export maps a [`Persona`] onto the card's fields and also stores the whole persona under
//! `data.extensions.link`, so a card exported by Link imports back without loss. Import reads
//! Link's extension when present, the card's own fields otherwise (edits made in another
//! tool to the card fields win). Everything else a card carries (`extensions`, the
//! `character_book`, `system_prompt`, `creator_notes`, `alternate_greetings`, V3's `assets`,
//! unknown fields) is kept on the persona ([`Persona::card_extensions`],
//! [`Persona::lorebook`], [`Persona::card_fields`]) and written back on export, so a card from
//! elsewhere round-trips every field Link does not use. A card's `system_prompt`,
//! `post_history_instructions` and extensions are instructions from an untrusted file: Link
//! never feeds them to the model. The lorebook reaches the model only as data.

pub mod charx;
pub mod png;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::persona::CardFields;
use crate::{Error, Lorebook, Persona, PersonaKind, Result};

/// The `spec` value of a V2 card.
pub const SPEC: &str = "chara_card_v2";
/// The `spec_version` value of a V2 card.
pub const SPEC_VERSION: &str = "2.0";
/// The `spec` value of a V3 card.
pub const SPEC_V3: &str = "chara_card_v3";
/// The `spec_version` value of a V3 card Link writes.
pub const SPEC_VERSION_V3: &str = "3.0";
/// The key under `data.extensions` where Link keeps its own persona.
pub const LINK_EXTENSION: &str = "link";

/// A card read from a file of any of the formats Link imports, with its avatar.
#[derive(Debug, Clone)]
pub struct ImportedCard {
    /// The card.
    pub card: CharacterCard,
    /// The character's image (a PNG without card chunks), when the file had one.
    pub avatar: Option<Vec<u8>>,
}

/// Reads a card from `bytes`, whichever format they are in: a PNG image (by its signature),
/// a CharX archive (by its zip header), else V2 or V3 JSON.
///
/// ```
/// use link_core::card::read_any;
/// let json = br#"{"spec": "chara_card_v2", "spec_version": "2.0",
///                 "data": {"name": "Ada", "description": "x", "first_mes": "Hi"}}"#;
/// assert_eq!(read_any(json).unwrap().card.data.name, "Ada");
/// assert!(read_any(b"\x89PNG\r\n\x1a\nbroken").is_err());
/// ```
pub fn read_any(bytes: &[u8]) -> Result<ImportedCard> {
    if bytes.starts_with(png::SIGNATURE) {
        let read = png::read(bytes)?;
        return Ok(ImportedCard {
            card: read.card,
            avatar: Some(read.avatar),
        });
    }
    if charx::is_charx(bytes) {
        let read = charx::read(bytes)?;
        return Ok(ImportedCard {
            card: read.card,
            avatar: read.avatar,
        });
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Error::invalid("the card is neither JSON, a PNG image nor a CharX archive"))?;
    Ok(ImportedCard {
        card: CharacterCard::from_json(text)?,
        avatar: None,
    })
}

/// The card format versions Link reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CardSpec {
    /// Character Card V2, what most tools read.
    #[default]
    V2,
    /// Character Card V3 (RisuAI's; assets, multilingual notes, ...).
    V3,
}

impl CardSpec {
    /// The `spec` and `spec_version` values for this version.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            CardSpec::V2 => (SPEC, SPEC_VERSION),
            CardSpec::V3 => (SPEC_V3, SPEC_VERSION_V3),
        }
    }
}

/// A Character Card (V2 or V3) document.
///
/// ```
/// use link_core::{CharacterCard, Persona, PersonaKind};
/// use link_core::card::CardSpec;
/// let p = Persona::new("Ada Lovelace", PersonaKind::Historical, "Mathematician.", "Good day!");
/// let card = CharacterCard::from_persona(&p);
/// assert_eq!(card.spec, "chara_card_v2");
/// assert_eq!(card.data.first_mes, "Good day!");
/// assert_eq!(card.to_persona().unwrap(), p);
/// let v3 = CharacterCard::from_persona_as(&p, CardSpec::V3);
/// assert_eq!(v3.spec, "chara_card_v3");
/// assert_eq!(v3.to_persona().unwrap(), p);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CharacterCard {
    /// `chara_card_v2` or `chara_card_v3`.
    pub spec: String,
    /// `2.0` or `3.0`.
    pub spec_version: String,
    /// The card's content.
    pub data: CardData,
    /// Other top-level fields (the V1 copies some tools write, `create_date`, ...), kept.
    #[serde(flatten)]
    pub top: Map<String, Value>,
}

/// The `data` object of a card: the fields Link maps onto a persona, typed; every other
/// field in [`other`](Self::other), kept as it was.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CardData {
    /// The character's name.
    pub name: String,
    /// Who the character is.
    pub description: String,
    /// Their personality.
    pub personality: String,
    /// The scenario or setting.
    pub scenario: String,
    /// The first message (greeting).
    pub first_mes: String,
    /// Example dialogue, `<START>`-separated.
    pub mes_example: String,
    /// Other greetings: versions of the conversation's first message.
    pub alternate_greetings: Vec<String>,
    /// Tags (Link's persona kind is one).
    pub tags: Vec<String>,
    /// The lorebook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub character_book: Option<Lorebook>,
    /// Tool-specific data; unknown keys are kept, never sent to the model.
    pub extensions: Map<String, Value>,
    /// Every other field (`system_prompt`, `creator_notes`, `creator`, V3's `assets`,
    /// `nickname`, ...), kept as it was.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The top-level keys that are typed fields of [`CharacterCard`].
const TYPED_TOP: [&str; 3] = ["spec", "spec_version", "data"];

/// The card fields Link writes from a persona; on import the card's text of these is kept
/// only when it says something the persona does not.
const MAPPED: [&str; 6] = [
    "name",
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
];

impl CharacterCard {
    /// The V2 card for `persona`.
    pub fn from_persona(persona: &Persona) -> Self {
        Self::from_persona_as(persona, CardSpec::V2)
    }

    /// The card for `persona` in `spec`: the persona's fields, then every card field it kept
    /// from an import (the card's own text of a mapped field while the persona still says
    /// the same).
    pub fn from_persona_as(persona: &Persona, spec: CardSpec) -> Self {
        let mut card = Self::rendered(persona, spec);
        let kept = &persona.card_fields;
        for (key, value) in &kept.data {
            let mapped = MAPPED.contains(&key.as_str());
            if !mapped || unchanged(key, value, persona) {
                card.set(key, value.clone());
            }
        }
        let top = kept
            .top
            .iter()
            .filter(|(key, _)| !TYPED_TOP.contains(&key.as_str()));
        card.top.extend(top.map(|(k, v)| (k.clone(), v.clone())));
        card.data.extensions.extend(persona.card_extensions.clone());
        card
    }

    /// The card Link writes for `persona`, before any kept field.
    fn rendered(persona: &Persona, spec: CardSpec) -> Self {
        let (spec_name, version) = spec.names();
        let own = persona.model_copy();
        let mut extensions = Map::new();
        if let Ok(value) = serde_json::to_value(&own) {
            extensions.insert(
                LINK_EXTENSION.to_owned(),
                serde_json::json!({ "persona": value }),
            );
        }
        CharacterCard {
            spec: spec_name.to_owned(),
            spec_version: version.to_owned(),
            data: CardData {
                name: persona.name.clone(),
                description: persona.description.clone(),
                personality: join_nonempty(&[&persona.personality, &persona.speaking_style]),
                scenario: persona.setting.clone(),
                first_mes: persona.greeting.clone(),
                mes_example: render_examples(&persona.example_lines),
                alternate_greetings: Vec::new(),
                tags: vec![kind_tag(persona.kind).to_owned()],
                character_book: persona.lorebook.clone(),
                extensions,
                other: required_fields(spec),
            },
            top: Map::new(),
        }
    }

    /// Sets the data field `key` to `value`, typed fields included. A value of the wrong
    /// type for a typed field is left out (kept fields come from a card that parsed, so only
    /// a hand-made persona body can hold one), and so are the two fields the persona keeps
    /// elsewhere: the written card never holds a key twice.
    fn set(&mut self, key: &str, value: Value) {
        let data = &mut self.data;
        let list = || serde_json::from_value::<Vec<String>>(value.clone()).ok();
        match key {
            "alternate_greetings" => data.alternate_greetings = list().unwrap_or_default(),
            "tags" => data.tags = list().unwrap_or_default(),
            "extensions" | "character_book" => {}
            _ => match text_field(data, key) {
                Some(slot) => {
                    if let Some(text) = value.as_str() {
                        text.clone_into(slot);
                    }
                }
                None => {
                    data.other.insert(key.to_owned(), value);
                }
            },
        }
    }

    /// Parses a V2 or V3 card from JSON text, checking its spec.
    pub fn from_json(json: &str) -> Result<Self> {
        let card: CharacterCard = serde_json::from_str(json)
            .map_err(|e| Error::invalid(format!("not a Character Card V2 or V3: {e}")))?;
        card.spec()?;
        Ok(card)
    }

    /// Which version this card is, or an error for anything but V2 and V3.
    pub fn spec(&self) -> Result<CardSpec> {
        let version = |major: char| self.spec_version.starts_with(major);
        match self.spec.as_str() {
            SPEC if version('2') => Ok(CardSpec::V2),
            SPEC_V3 if version('3') => Ok(CardSpec::V3),
            _ => Err(Error::invalid(format!(
                "unsupported card spec {:?} version {:?} (expected {SPEC} {SPEC_VERSION} or \
                 {SPEC_V3} {SPEC_VERSION_V3})",
                self.spec, self.spec_version
            ))),
        }
    }

    /// The persona this card describes, through [`Persona::validated`] like every persona
    /// the engine accepts; the card's other fields are kept on it for export.
    pub fn to_persona(&self) -> Result<Persona> {
        let spec = self.spec()?;
        let mut persona = self.mapped_persona();
        let rendered = Self::rendered(&persona, spec);
        persona.card_fields = self.kept_fields(&rendered);
        let persona = persona.validated()?;
        Ok(persona)
    }

    /// The persona from Link's extension or the card's fields, with the card's extensions
    /// and lorebook; nothing else kept yet.
    fn mapped_persona(&self) -> Persona {
        let data = &self.data;
        let mut extensions = data.extensions.clone();
        let own = extensions
            .remove(LINK_EXTENSION)
            .and_then(|ext| serde_json::from_value::<Persona>(ext.get("persona")?.clone()).ok());
        let mut persona = match own {
            Some(p) => p,
            None => Persona {
                personality: data.personality.trim().to_owned(),
                setting: data.scenario.trim().to_owned(),
                example_lines: parse_examples(&data.mes_example),
                ..Persona::new("", kind_from_tags(&data.tags), "", "")
            },
        };
        persona.name = data.name.trim().to_owned();
        persona.description = data.description.trim().to_owned();
        persona.greeting = data.first_mes.trim().to_owned();
        persona.card_extensions = extensions;
        persona.card_fields = CardFields::default();
        persona.lorebook = data.character_book.clone();
        persona
    }

    /// The fields of this card that the card Link would render for the persona does not
    /// already hold.
    fn kept_fields(&self, rendered: &CharacterCard) -> CardFields {
        let mine = data_fields(self);
        let theirs = data_fields(rendered);
        let data = mine
            .into_iter()
            .filter(|(key, value)| theirs.get(key) != Some(value))
            .collect();
        CardFields {
            data,
            top: self.top.clone(),
        }
    }

    /// The card's greetings: `first_mes` then its `alternate_greetings`, trimmed, empty ones
    /// left out, at most [`MAX_ALTERNATIVES`](crate::MAX_ALTERNATIVES) of them; each as long
    /// as a persona's greeting may be. They become the versions of the conversation's first
    /// message.
    pub fn greetings(&self) -> Result<Vec<String>> {
        let all = std::iter::once(&self.data.first_mes).chain(&self.data.alternate_greetings);
        let mut greetings = Vec::new();
        let mut problems = Vec::new();
        for (i, text) in all.map(|t| t.trim()).enumerate() {
            let too_long = text.chars().count() > crate::persona::limits::GREETING;
            let control = text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t');
            if too_long || control {
                let field = match i {
                    0 => "first_mes".to_owned(),
                    _ => format!("alternate_greetings[{}]", i - 1),
                };
                problems.push(format!(
                    "{field} is longer than {} characters or has control characters",
                    crate::persona::limits::GREETING
                ));
            } else if !text.is_empty() {
                greetings.push(text.to_owned());
            }
        }
        greetings.truncate(crate::MAX_ALTERNATIVES);
        match problems.is_empty() {
            true => Ok(greetings),
            false => Err(Error::InvalidPersona { problems }),
        }
    }
}

/// The text field `key` of `data`, if it is one of the mapped ones.
fn text_field<'d>(data: &'d mut CardData, key: &str) -> Option<&'d mut String> {
    Some(match key {
        "name" => &mut data.name,
        "description" => &mut data.description,
        "personality" => &mut data.personality,
        "scenario" => &mut data.scenario,
        "first_mes" => &mut data.first_mes,
        "mes_example" => &mut data.mes_example,
        _ => return None,
    })
}

/// The `data` fields of `card` as JSON, without the two kept elsewhere on the persona.
fn data_fields(card: &CharacterCard) -> Map<String, Value> {
    let Ok(Value::Object(mut fields)) = serde_json::to_value(&card.data) else {
        return Map::new();
    };
    fields.remove("extensions");
    fields.remove("character_book");
    fields
}

/// Whether the card's `original` text of the mapped field `key` still gives what the persona
/// says, so it is written back as it was.
fn unchanged(key: &str, original: &Value, persona: &Persona) -> bool {
    let Some(text) = original.as_str() else {
        return false;
    };
    let text = text.trim();
    match key {
        "name" => text == persona.name,
        "description" => text == persona.description,
        "first_mes" => text == persona.greeting,
        "scenario" => text == persona.setting,
        "personality" => {
            text == join_nonempty(&[&persona.personality, &persona.speaking_style]).trim()
        }
        "mes_example" => parse_examples(text) == persona.example_lines,
        _ => false,
    }
}

/// The fields each spec requires that Link has no value of its own for.
fn required_fields(spec: CardSpec) -> Map<String, Value> {
    let mut fields = serde_json::json!({
        "system_prompt": "",
        "post_history_instructions": "",
        "creator_notes": "",
        "creator": "Link",
        "character_version": "1",
    });
    if spec == CardSpec::V3 {
        fields["group_only_greetings"] = Value::Array(Vec::new());
    }
    match fields {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn join_nonempty(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.trim().is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn kind_tag(kind: PersonaKind) -> &'static str {
    match kind {
        PersonaKind::Fictional => "fictional",
        PersonaKind::Historical => "historical",
        PersonaKind::RealPerson => "real_person",
        PersonaKind::Original => "original",
        PersonaKind::Archetype => "archetype",
    }
}

fn kind_from_tags(tags: &[String]) -> PersonaKind {
    let kinds = [
        PersonaKind::Fictional,
        PersonaKind::Historical,
        PersonaKind::RealPerson,
        PersonaKind::Original,
        PersonaKind::Archetype,
    ];
    kinds
        .into_iter()
        .find(|k| tags.iter().any(|t| t.eq_ignore_ascii_case(kind_tag(*k))))
        .unwrap_or(PersonaKind::Original)
}

fn render_examples(lines: &[String]) -> String {
    lines
        .iter()
        .map(|line| format!("<START>\n{{{{char}}}}: {line}\n"))
        .collect()
}

/// The character's lines from `<START>`-separated example dialogue (`{{char}}: ...`).
fn parse_examples(mes_example: &str) -> Vec<String> {
    mes_example
        .lines()
        .filter_map(|line| line.trim().strip_prefix("{{char}}:"))
        .map(|line| line.trim().to_owned())
        .filter(|line| !line.is_empty())
        .take(crate::persona::limits::EXAMPLE_LINES)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOREIGN: &str = r#"{
      "spec": "chara_card_v2", "spec_version": "2.0",
      "data": {
        "name": "Captain Whiskers", "description": "A grumpy pirate who loves cats.",
        "personality": "gruff", "scenario": "A ship", "first_mes": "Arr, what do ye want?",
        "mes_example": "<START>\n{{user}}: hi\n{{char}}: Get off me deck!\n",
        "tags": ["original"], "creator_notes": "made elsewhere",
        "extensions": {"depth_prompt": {"depth": 4}, "fav": true}
      }
    }"#;

    #[test]
    fn foreign_cards_import_and_keep_unknown_extensions() {
        let card = CharacterCard::from_json(FOREIGN).unwrap();
        assert_eq!(card.data.other["creator_notes"], "made elsewhere");
        let persona = card.to_persona().unwrap();
        assert_eq!(persona.name, "Captain Whiskers");
        assert_eq!(persona.example_lines, vec!["Get off me deck!".to_owned()]);
        assert_eq!(persona.setting, "A ship");
        let exported = CharacterCard::from_persona(&persona);
        assert_eq!(exported.data.extensions["depth_prompt"]["depth"], 4);
        assert_eq!(exported.data.extensions["fav"], true);
        assert_eq!(exported.data.mes_example, card.data.mes_example);
        assert_eq!(exported.data.other["creator_notes"], "made elsewhere");
        assert_eq!(exported.to_persona().unwrap(), persona);
    }

    #[test]
    fn an_edited_field_is_exported_from_the_persona() {
        let mut persona = CharacterCard::from_json(FOREIGN)
            .unwrap()
            .to_persona()
            .unwrap();
        persona.example_lines = vec!["Walk the plank!".into()];
        let exported = CharacterCard::from_persona(&persona);
        assert_eq!(
            exported.data.mes_example,
            "<START>\n{{char}}: Walk the plank!\n"
        );
        assert_eq!(exported.data.personality, "gruff");
    }

    #[test]
    fn alternate_greetings_are_greeting_versions_bounded_like_the_greeting() {
        let mut card = CharacterCard::from_json(FOREIGN).unwrap();
        card.data.alternate_greetings =
            vec![" Ahoy, {{user}}! ".into(), "  ".into(), "Avast.".into()];
        let greetings = card.greetings().unwrap();
        assert_eq!(greetings[1..], ["Ahoy, {{user}}!", "Avast."]);
        assert_eq!(greetings[0], card.to_persona().unwrap().greeting);
        card.data.alternate_greetings = vec!["x".repeat(801)];
        let Err(Error::InvalidPersona { problems }) = card.greetings() else {
            panic!("an oversize alternate greeting must be refused")
        };
        assert!(
            problems[0].starts_with("alternate_greetings[0]"),
            "{problems:?}"
        );
        card.data.alternate_greetings = vec!["hi".into(); 40];
        assert_eq!(card.greetings().unwrap().len(), crate::MAX_ALTERNATIVES);
    }

    #[test]
    fn wrong_spec_and_invalid_personas_are_refused() {
        let v1 = FOREIGN.replace("chara_card_v2", "chara_card_v1");
        assert!(matches!(
            CharacterCard::from_json(&v1),
            Err(Error::InvalidRequest { .. })
        ));
        let v3_as_v2 = FOREIGN.replace("\"2.0\"", "\"3.0\"");
        assert!(CharacterCard::from_json(&v3_as_v2).is_err());
        let empty = FOREIGN.replace("Arr, what do ye want?", "");
        let card = CharacterCard::from_json(&empty).unwrap();
        assert!(matches!(
            card.to_persona(),
            Err(Error::InvalidPersona { .. })
        ));
        assert!(CharacterCard::from_json("{not json").is_err());
    }

    #[test]
    fn hand_made_kept_fields_never_write_a_key_twice() {
        let mut persona = CharacterCard::from_json(FOREIGN)
            .unwrap()
            .to_persona()
            .unwrap();
        let kept = &mut persona.card_fields;
        kept.data.insert("tags".into(), Value::from(7));
        kept.data.insert("extensions".into(), Value::from(7));
        kept.top.insert("spec".into(), Value::from("evil"));
        let json = serde_json::to_string(&CharacterCard::from_persona(&persona)).unwrap();
        assert_eq!(json.matches("\"spec\"").count(), 1, "{json}");
        assert_eq!(json.matches("\"extensions\"").count(), 1, "{json}");
        assert!(CharacterCard::from_json(&json).is_ok());
    }
}
