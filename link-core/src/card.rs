//! Character Card V2: the persona format shared by SillyTavern and its kin.
//!
//! Export maps a [`Persona`] onto the card's fields and also stores the whole persona under
//! `data.extensions.link`, so a card exported by Link imports back without loss. Import reads
//! any V2 card: Link's extension when present, the card's own fields otherwise (edits made
//! in another tool to the card fields win). Unknown `extensions` keys are kept on the persona
//! and written back on export. A card's `system_prompt` and `post_history_instructions` are
//! instructions from an untrusted file, so Link never feeds them to the model.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Error, Persona, PersonaKind, Result};

/// The `spec` value of a V2 card.
pub const SPEC: &str = "chara_card_v2";
/// The `spec_version` value of a V2 card.
pub const SPEC_VERSION: &str = "2.0";
/// The key under `data.extensions` where Link keeps its own persona.
pub const LINK_EXTENSION: &str = "link";

/// A Character Card V2 document.
///
/// ```
/// use link_core::{CharacterCard, Persona, PersonaKind};
/// let p = Persona::new("Ada Lovelace", PersonaKind::Historical, "Mathematician.", "Good day!");
/// let card = CharacterCard::from_persona(&p);
/// assert_eq!(card.spec, "chara_card_v2");
/// assert_eq!(card.data.first_mes, "Good day!");
/// assert_eq!(card.to_persona().unwrap(), p);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CharacterCard {
    /// Always `chara_card_v2`.
    pub spec: String,
    /// Always `2.0`.
    pub spec_version: String,
    /// The card's content.
    pub data: CardData,
}

/// The `data` object of a V2 card.
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
    /// A system prompt (never used by Link; kept for round trips).
    pub system_prompt: String,
    /// Post-history instructions (never used by Link; kept for round trips).
    pub post_history_instructions: String,
    /// Other greetings.
    pub alternate_greetings: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Who made the card.
    pub creator: String,
    /// The card's version.
    pub character_version: String,
    /// Tool-specific data; unknown keys are kept.
    pub extensions: Map<String, Value>,
    /// Any other field (`creator_notes`, `character_book`, ...), kept as it was.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl CharacterCard {
    /// The card for `persona`.
    pub fn from_persona(persona: &Persona) -> Self {
        let mut extensions = persona.card_extensions.clone();
        let mut own = persona.clone();
        own.card_extensions = Map::new();
        if let Ok(value) = serde_json::to_value(&own) {
            extensions.insert(
                LINK_EXTENSION.to_owned(),
                serde_json::json!({ "persona": value }),
            );
        }
        CharacterCard {
            spec: SPEC.to_owned(),
            spec_version: SPEC_VERSION.to_owned(),
            data: CardData {
                name: persona.name.clone(),
                description: persona.description.clone(),
                personality: join_nonempty(&[&persona.personality, &persona.speaking_style]),
                scenario: persona.setting.clone(),
                first_mes: persona.greeting.clone(),
                mes_example: persona
                    .example_lines
                    .iter()
                    .map(|line| format!("<START>\n{{{{char}}}}: {line}\n"))
                    .collect(),
                tags: vec![kind_tag(persona.kind).to_owned()],
                creator: "Link".to_owned(),
                character_version: "1".to_owned(),
                extensions,
                ..CardData::default()
            },
        }
    }

    /// Parses a card from JSON text, checking its spec.
    pub fn from_json(json: &str) -> Result<Self> {
        let card: CharacterCard = serde_json::from_str(json)
            .map_err(|e| Error::invalid(format!("not a Character Card V2: {e}")))?;
        card.check_spec()?;
        Ok(card)
    }

    /// The persona this card describes, through [`Persona::validated`] like every persona
    /// the engine accepts.
    pub fn to_persona(&self) -> Result<Persona> {
        self.check_spec()?;
        let data = &self.data;
        let mut extensions = data.extensions.clone();
        let own = extensions
            .remove(LINK_EXTENSION)
            .and_then(|ext| serde_json::from_value::<Persona>(ext.get("persona")?.clone()).ok());
        let mut persona = match own {
            Some(p) => p,
            None => Persona {
                personality: data.personality.clone(),
                setting: data.scenario.clone(),
                example_lines: parse_examples(&data.mes_example),
                ..Persona::new("", kind_from_tags(&data.tags), "", "")
            },
        };
        persona.name = data.name.clone();
        persona.description = data.description.clone();
        persona.greeting = data.first_mes.clone();
        persona.card_extensions = extensions;
        persona.validated()
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

    fn check_spec(&self) -> Result<()> {
        if self.spec != SPEC || !self.spec_version.starts_with('2') {
            return Err(Error::invalid(format!(
                "unsupported card spec {:?} version {:?} (expected {SPEC} {SPEC_VERSION})",
                self.spec, self.spec_version
            )));
        }
        Ok(())
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
        assert_eq!(exported.to_persona().unwrap(), persona);
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
        let empty = FOREIGN.replace("Arr, what do ye want?", "");
        let card = CharacterCard::from_json(&empty).unwrap();
        assert!(matches!(
            card.to_persona(),
            Err(Error::InvalidPersona { .. })
        ));
        assert!(CharacterCard::from_json("{not json").is_err());
    }
}
