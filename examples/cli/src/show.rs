//! Text renderings of personas, conversations and messages.

use link::{Persona, PersonaKind};
use link_wire::{ConversationSummary, MessageBody};
use time::format_description::well_known::Rfc3339;

use crate::style::Style;

/// The persona as a readable card.
pub fn persona(style: Style, p: &Persona) -> String {
    let kind = match p.kind {
        PersonaKind::Historical => "historical person",
        PersonaKind::RealPerson => "real person",
        PersonaKind::Fictional => "fictional character",
        PersonaKind::Original => "original character",
        PersonaKind::Archetype => "archetype",
    };
    let mut lines = vec![format!("{} ({kind})", style.name(&p.name))];
    let mut field = |label: &str, value: &str| {
        if !value.trim().is_empty() {
            lines.push(format!("{} {value}", style.dim(&format!("{label}:"))));
        }
    };
    field("description", &p.description);
    field("personality", &p.personality);
    field("speaking style", &p.speaking_style);
    field("setting", &p.setting);
    field("knows", &p.knowledge);
    field("does not know", &p.must_not_know);
    field("greeting", &p.greeting);
    for line in &p.example_lines {
        field("example", line);
    }
    if let Some(notes) = &p.safety_notes {
        field("care", notes);
    }
    if p.is_real_person() {
        lines.push(style.dim("(a real person: this chat is a simulation, not their words)"));
    }
    lines.join("\n")
}

/// One numbered line per conversation.
pub fn conversations(style: Style, list: &[ConversationSummary]) -> String {
    if list.is_empty() {
        return style.dim("no conversations yet: try `link chat \"Sherlock Holmes\"`");
    }
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            let when = c.updated_at.format(&Rfc3339).unwrap_or_default();
            format!(
                "{:>3}  {}  {}  {}",
                i + 1,
                c.id,
                style.name(&c.persona.name),
                style.dim(&when)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A stored message, with the speaker's name.
pub fn message(style: Style, character: &str, m: &MessageBody) -> String {
    if m.role == "user" {
        format!("{} {}", style.dim("you>"), m.content)
    } else {
        format!("{} {}", style.name(&format!("{character}:")), m.content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_card_shows_what_matters() {
        let p = Persona::new(
            "Ada Lovelace",
            PersonaKind::Historical,
            "Mathematician.",
            "Good day!",
        );
        let text = persona(Style::new(false), &p);
        assert!(
            text.starts_with("Ada Lovelace (historical person)"),
            "{text}"
        );
        assert!(text.contains("greeting: Good day!"), "{text}");
        assert!(text.contains("simulation"), "{text}");
    }
}
