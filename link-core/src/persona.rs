//! The persona: who the model plays, as structured data.
//!
//! A persona comes from an extractor (a model) or from a user's imported card, so it is
//! untrusted text. [`Persona::validated`] trims and bounds every field before it reaches a
//! prompt or a database (the engine calls it on every persona it accepts, and so does the card
//! import); the prompt builder then frames it as data, never as instructions.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Error, Lorebook, Result};

/// What sort of character a persona is. Real people get extra care in the prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PersonaKind {
    /// A character from fiction: novels, films, games, myths (e.g. Sherlock Holmes).
    Fictional,
    /// A real person from history who is no longer living (e.g. Ada Lovelace).
    Historical,
    /// A real person, living or recently living (e.g. a current public figure).
    RealPerson,
    /// A new character the user made up (e.g. "a grumpy pirate who loves cats").
    Original,
    /// A generic role or type rather than an individual (e.g. "a medieval blacksmith").
    Archetype,
}

impl PersonaKind {
    /// Whether this kind describes a real human being.
    pub fn is_real(self) -> bool {
        matches!(self, PersonaKind::Historical | PersonaKind::RealPerson)
    }
}

/// A character for the model to play.
///
/// ```
/// use link_core::{Persona, PersonaKind};
///
/// let holmes = Persona::new(
///     "Sherlock Holmes",
///     PersonaKind::Fictional,
///     "The consulting detective of 221B Baker Street.",
///     "Ah, a visitor. You have come about a case, I perceive.",
/// );
/// assert!(holmes.validate().is_ok());
/// assert!(!holmes.is_real_person());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Persona {
    /// The character's name as they would introduce themselves.
    pub name: String,
    /// What sort of character this is.
    pub kind: PersonaKind,
    /// For real people only: whether they are alive today. Null for anyone else or if unknown.
    pub living: Option<bool>,
    /// Who the character is, in two to four sentences.
    pub description: String,
    /// Temperament, values, quirks and manner.
    pub personality: String,
    /// How they talk: vocabulary, rhythm, catchphrases, formality.
    pub speaking_style: String,
    /// The era, place or world the character lives in.
    pub setting: String,
    /// What the character knows well and can talk about.
    pub knowledge: String,
    /// What the character does not and must not know (e.g. events after their time).
    pub must_not_know: String,
    /// The character's opening line to the user, in their own voice.
    pub greeting: String,
    /// A few short lines the character might say, to show their voice.
    pub example_lines: Vec<String>,
    /// Care to take when playing this character (sensitive topics, real-person caveats).
    pub safety_notes: Option<String>,
    /// Extension data carried over from an imported character card (`data.extensions`),
    /// kept so that an export gives back every key; bounded, and never sent to the model.
    /// Not part of the extraction schema.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schemars(skip)]
    pub card_extensions: serde_json::Map<String, serde_json::Value>,
    /// The rest of an imported card that Link does not use, kept for export; bounded, and
    /// never sent to the model. Not part of the extraction schema.
    #[serde(default, skip_serializing_if = "CardFields::is_empty")]
    #[schemars(skip)]
    pub card_fields: CardFields,
    /// The character's lorebook (a card's `character_book`): entries inserted into the
    /// prompt as data when the conversation mentions their keys. Not part of the extraction
    /// schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub lorebook: Option<Lorebook>,
}

/// What an imported character card carried that Link does not use: kept so that an export
/// gives every field back, never sent to the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CardFields {
    /// The card's `data` fields as imported, except `extensions` and `character_book` (kept
    /// as [`Persona::card_extensions`] and [`Persona::lorebook`]). For the fields Link maps
    /// onto the persona (`name`, `description`, ...), the card's text is written back on
    /// export while the persona still says the same.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub data: serde_json::Map<String, serde_json::Value>,
    /// The card's top-level fields beside `spec`, `spec_version` and `data` (the V1 copies
    /// and tool fields such as `create_date`).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub top: serde_json::Map<String, serde_json::Value>,
}

impl CardFields {
    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty() && self.top.is_empty()
    }
}

/// The persona as the model sees it: the fields an extractor fills, never the card data
/// kept for round trips (extensions, other card fields, the lorebook).
#[derive(Serialize, PartialEq, Eq, Hash)]
pub(crate) struct ModelView<'a> {
    name: &'a str,
    kind: PersonaKind,
    living: Option<bool>,
    description: &'a str,
    personality: &'a str,
    speaking_style: &'a str,
    setting: &'a str,
    knowledge: &'a str,
    must_not_know: &'a str,
    greeting: &'a str,
    example_lines: &'a [String],
    safety_notes: Option<&'a str>,
}

/// Upper bounds on persona fields, in characters. They keep prompts small and reject junk.
pub mod limits {
    /// Longest name.
    pub const NAME: usize = 100;
    /// Longest description.
    pub const DESCRIPTION: usize = 1500;
    /// Longest personality, knowledge, setting, speaking-style or must-not-know text.
    pub const TRAIT: usize = 1000;
    /// Longest greeting.
    pub const GREETING: usize = 800;
    /// Most example lines.
    pub const EXAMPLE_LINES: usize = 6;
    /// Longest example line.
    pub const EXAMPLE_LINE: usize = 300;
    /// Longest safety notes.
    pub const SAFETY_NOTES: usize = 600;
    /// Longest free-text request for a persona ("Sherlock Holmes", "a grumpy pirate ...").
    pub const REQUEST: usize = 500;
    /// Largest card data kept for round trips (extensions and other card fields), as JSON
    /// bytes.
    pub const CARD_KEPT_BYTES: usize = 64 * 1024;
    /// Deepest nesting of kept card data (objects and arrays).
    pub const CARD_KEPT_DEPTH: usize = 16;
}

impl Persona {
    /// A persona with the four essential fields; the rest are empty.
    pub fn new(
        name: impl Into<String>,
        kind: PersonaKind,
        description: impl Into<String>,
        greeting: impl Into<String>,
    ) -> Self {
        Persona {
            name: name.into(),
            kind,
            living: None,
            description: description.into(),
            personality: String::new(),
            speaking_style: String::new(),
            setting: String::new(),
            knowledge: String::new(),
            must_not_know: String::new(),
            greeting: greeting.into(),
            example_lines: Vec::new(),
            safety_notes: None,
            card_extensions: serde_json::Map::new(),
            card_fields: CardFields::default(),
            lorebook: None,
        }
    }

    /// A copy of the model-facing fields, without the card data kept for round trips (the
    /// lorebook included): what the prompt builder needs, cheap to clone every turn.
    pub(crate) fn model_copy(&self) -> Persona {
        Persona {
            name: self.name.clone(),
            kind: self.kind,
            living: self.living,
            description: self.description.clone(),
            personality: self.personality.clone(),
            speaking_style: self.speaking_style.clone(),
            setting: self.setting.clone(),
            knowledge: self.knowledge.clone(),
            must_not_know: self.must_not_know.clone(),
            greeting: self.greeting.clone(),
            example_lines: self.example_lines.clone(),
            safety_notes: self.safety_notes.clone(),
            card_extensions: serde_json::Map::new(),
            card_fields: CardFields::default(),
            lorebook: None,
        }
    }

    /// The persona as the model sees it (see [`ModelView`]).
    pub(crate) fn model_view(&self) -> ModelView<'_> {
        ModelView {
            name: &self.name,
            kind: self.kind,
            living: self.living,
            description: &self.description,
            personality: &self.personality,
            speaking_style: &self.speaking_style,
            setting: &self.setting,
            knowledge: &self.knowledge,
            must_not_know: &self.must_not_know,
            greeting: &self.greeting,
            example_lines: &self.example_lines,
            safety_notes: self.safety_notes.as_deref(),
        }
    }

    /// Whether this persona is a real human being (historical or current).
    pub fn is_real_person(&self) -> bool {
        self.kind.is_real()
    }

    /// Trims surrounding white space from every field, drops empty example lines, and clears
    /// `living` for anyone who is not a real person (models often fill it in regardless).
    pub fn normalized(mut self) -> Self {
        if !self.kind.is_real() {
            self.living = None;
        }
        for field in self.text_fields_mut() {
            let trimmed = field.trim();
            if trimmed.len() != field.len() {
                *field = trimmed.to_owned();
            }
        }
        self.example_lines
            .iter_mut()
            .for_each(|l| *l = l.trim().to_owned());
        self.example_lines.retain(|l| !l.is_empty());
        if let Some(notes) = &self.safety_notes {
            let notes = notes.trim();
            self.safety_notes = (!notes.is_empty()).then(|| notes.to_owned());
        }
        self
    }

    /// The persona normalised ([`normalized`](Self::normalized)), then checked
    /// ([`validate`](Self::validate)): the one gate every persona passes before Link uses it,
    /// whether a model extracted it, a caller gave it or a card brought it.
    ///
    /// ```
    /// use link_core::{Error, Persona, PersonaKind};
    /// let p = Persona::new(" Ada ", PersonaKind::Historical, "Mathematician.", "Good day.");
    /// assert_eq!(p.validated().unwrap().name, "Ada");
    /// let blank = Persona::new("  ", PersonaKind::Original, "x", "Hi.");
    /// assert!(matches!(blank.validated(), Err(Error::InvalidPersona { .. })));
    /// ```
    pub fn validated(self) -> Result<Self> {
        let persona = self.normalized();
        persona.validate()?;
        Ok(persona)
    }

    /// Checks every bound; the error lists all problems at once.
    ///
    /// ```
    /// use link_core::{Error, Persona, PersonaKind};
    /// let bad = Persona::new("", PersonaKind::Original, "x", "");
    /// let Err(Error::InvalidPersona { problems }) = bad.validate() else { panic!() };
    /// assert_eq!(problems.len(), 2);
    /// ```
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        let mut check = |field: &str, value: &str, required: bool, max: usize| {
            if required && value.trim().is_empty() {
                problems.push(format!("{field} is empty"));
            }
            let len = value.chars().count();
            if len > max {
                problems.push(format!("{field} is {len} characters long (at most {max})"));
            }
            if value
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t')
            {
                problems.push(format!("{field} contains control characters"));
            }
        };
        check("name", &self.name, true, limits::NAME);
        check("description", &self.description, true, limits::DESCRIPTION);
        check("personality", &self.personality, false, limits::TRAIT);
        check("speaking_style", &self.speaking_style, false, limits::TRAIT);
        check("setting", &self.setting, false, limits::TRAIT);
        check("knowledge", &self.knowledge, false, limits::TRAIT);
        check("must_not_know", &self.must_not_know, false, limits::TRAIT);
        check("greeting", &self.greeting, true, limits::GREETING);
        let notes = self.safety_notes.as_deref().unwrap_or_default();
        check("safety_notes", notes, false, limits::SAFETY_NOTES);
        for (i, line) in self.example_lines.iter().enumerate() {
            check(
                &format!("example_lines[{i}]"),
                line,
                false,
                limits::EXAMPLE_LINE,
            );
        }
        if self.example_lines.len() > limits::EXAMPLE_LINES {
            problems.push(format!(
                "example_lines has {} entries (at most {})",
                self.example_lines.len(),
                limits::EXAMPLE_LINES
            ));
        }
        if self.name.contains(['\n', '\r', '\t']) {
            problems.push("name must be a single line".to_owned());
        }
        problems.extend(self.card_problems());
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidPersona { problems })
        }
    }

    /// The bounds the kept card data and the lorebook break.
    fn card_problems(&self) -> Vec<String> {
        let mut problems = self
            .lorebook
            .as_ref()
            .map(Lorebook::problems)
            .unwrap_or_default();
        let bytes = serde_json::to_vec(&(&self.card_extensions, &self.card_fields))
            .map_or(usize::MAX, |v| v.len());
        if bytes > limits::CARD_KEPT_BYTES {
            problems.push(format!(
                "card extensions and other card fields are {bytes} bytes as JSON (at most {})",
                limits::CARD_KEPT_BYTES
            ));
        }
        let depth = [
            &self.card_fields.data,
            &self.card_fields.top,
            &self.card_extensions,
        ]
        .into_iter()
        .flat_map(|map| map.values())
        .map(json_depth)
        .max()
        .unwrap_or(0);
        if depth > limits::CARD_KEPT_DEPTH {
            problems.push(format!(
                "card extensions are nested {depth} levels deep (at most {})",
                limits::CARD_KEPT_DEPTH
            ));
        }
        problems
    }

    fn text_fields_mut(&mut self) -> [&mut String; 8] {
        [
            &mut self.name,
            &mut self.description,
            &mut self.personality,
            &mut self.speaking_style,
            &mut self.setting,
            &mut self.knowledge,
            &mut self.must_not_know,
            &mut self.greeting,
        ]
    }
}

/// How deeply `value` nests objects and arrays (a scalar is 0).
fn json_depth(value: &serde_json::Value) -> usize {
    let children: Box<dyn Iterator<Item = &serde_json::Value>> = match value {
        serde_json::Value::Array(items) => Box::new(items.iter()),
        serde_json::Value::Object(map) => Box::new(map.values()),
        _ => return 0,
    };
    1 + children.map(json_depth).max().unwrap_or(0)
}

/// Checks a free-text persona request ("Sherlock Holmes") before it is sent to an extractor.
pub fn validate_request(request: &str) -> Result<&str> {
    let request = request.trim();
    if request.is_empty() {
        return Err(Error::invalid("the character request is empty"));
    }
    if request.chars().count() > limits::REQUEST {
        return Err(Error::invalid(format!(
            "the character request is longer than {} characters",
            limits::REQUEST
        )));
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holmes() -> Persona {
        Persona::new(
            "Sherlock Holmes",
            PersonaKind::Fictional,
            "A detective.",
            "Good day.",
        )
    }

    #[test]
    fn oversize_and_control_characters_are_reported() {
        let mut p = holmes();
        p.name = "x".repeat(limits::NAME + 1);
        p.greeting = "hi\u{0}".into();
        p.example_lines = vec!["ok".into(); limits::EXAMPLE_LINES + 1];
        let Err(Error::InvalidPersona { problems }) = p.validate() else {
            panic!("expected invalid persona")
        };
        assert_eq!(problems.len(), 3, "{problems:?}");
    }

    #[test]
    fn normalized_trims_and_drops_empty_lines() {
        let mut p = holmes();
        p.name = "  Holmes \n".into();
        p.example_lines = vec![" Elementary. ".into(), "   ".into()];
        p.safety_notes = Some("  ".into());
        p.living = Some(true);
        let p = p.normalized();
        assert_eq!(
            p.living, None,
            "a fictional character is neither living nor dead"
        );
        assert_eq!(p.name, "Holmes");
        assert_eq!(p.example_lines, vec!["Elementary.".to_owned()]);
        assert_eq!(p.safety_notes, None);
    }

    #[test]
    fn validated_checks_the_normalised_persona() {
        let mut p = holmes();
        // Trimmed to nothing, so the required name is empty.
        p.name = " \n ".into();
        // Too long only before trimming: normalising first accepts it.
        p.greeting = format!("  {}  ", "x".repeat(limits::GREETING));
        let Err(Error::InvalidPersona { problems }) = p.clone().validated() else {
            panic!("expected invalid persona")
        };
        assert_eq!(problems, vec!["name is empty".to_owned()]);
        p.name = "Holmes".into();
        assert_eq!(p.validated().unwrap().greeting.len(), limits::GREETING);
    }

    #[test]
    fn schema_names_every_field() {
        let schema = serde_json::to_value(schemars::schema_for!(Persona)).unwrap();
        let props = schema["properties"].as_object().unwrap();
        for field in [
            "name",
            "kind",
            "living",
            "greeting",
            "example_lines",
            "must_not_know",
        ] {
            assert!(props.contains_key(field), "{field} missing");
        }
    }

    #[test]
    fn requests_are_bounded() {
        assert_eq!(validate_request("  Ada  ").unwrap(), "Ada");
        assert!(validate_request(" ").is_err());
        assert!(validate_request(&"a".repeat(limits::REQUEST + 1)).is_err());
    }
}
