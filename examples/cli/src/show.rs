//! Text renderings of personas, conversations and messages.

use link::{Persona, PersonaKind};
use link_wire::{ConversationSummary, MemoryBody, MessageBody, UserPersonaBody};
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

/// What `link import` prints: the new conversation's id, who it is, and the greeting.
pub fn imported(style: Style, body: &link_wire::ConversationBody) -> String {
    let lore = body
        .persona
        .lorebook
        .as_ref()
        .map(|book| format!(" with a lorebook of {} entries", book.entries.len()))
        .unwrap_or_default();
    let greeting = body
        .messages
        .first()
        .map(|m| m.content.as_str())
        .unwrap_or_default();
    format!(
        "{}{lore}\n{} {}\n{}",
        style.name(&body.persona.name),
        style.dim("conversation:"),
        body.id,
        greeting
    )
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

/// A stored message, with the speaker's name and, when it has several versions, which one.
pub fn message(style: Style, character: &str, m: &MessageBody) -> String {
    let line = if m.role == "user" {
        format!("{} {}", style.dim("you>"), m.content)
    } else {
        format!("{} {}", style.name(&format!("{character}:")), m.content)
    };
    match version(style, m) {
        Some(version) => format!("{line} {version}"),
        None => line,
    }
}

/// `(2/3)`: the chosen version and how many there are, when there is more than one.
pub fn version(style: Style, m: &MessageBody) -> Option<String> {
    let count = m.alternatives.len();
    (count > 1).then(|| style.dim(&format!("({}/{count})", m.chosen + 1)))
}

/// Who the user is to the characters.
pub fn user_persona(style: Style, persona: Option<&UserPersonaBody>) -> String {
    match persona {
        None => style.dim("no user persona: /me <name> — <about you> sets one"),
        Some(p) if p.description.is_empty() => format!("you are {}", style.name(&p.name)),
        Some(p) => format!("you are {} — {}", style.name(&p.name), p.description),
    }
}

/// What `name` remembers of a conversation: the summary, then the pinned facts numbered
/// from 1 (as `/memory unpin n` counts them).
pub fn memory(style: Style, name: &str, memory: &MemoryBody) -> String {
    let mut text = match memory.summary.is_empty() {
        true => style.dim(&format!(
            "{name} remembers nothing of earlier turns yet: the memory fills as turns leave \
             the model's window (/memory edit <text> writes it)"
        )),
        false => format!("{} remembers: {}", style.name(name), memory.summary),
    };
    if memory.pinned_facts.is_empty() {
        text.push('\n');
        text.push_str(&style.dim("no pinned facts: /memory pin <fact> adds one"));
    }
    for (i, fact) in memory.pinned_facts.iter().enumerate() {
        text.push_str(&format!("\n  {}. {fact}", i + 1));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_shows_the_summary_and_numbers_the_facts() {
        let body = MemoryBody {
            summary: "Sam told Ada about the cat.".into(),
            pinned_facts: vec!["The user is Sam.".into(), "Sam has a cat.".into()],
            ..MemoryBody::default()
        };
        let text = memory(Style::new(false), "Ada", &body);
        assert_eq!(
            text,
            "Ada remembers: Sam told Ada about the cat.\n  1. The user is Sam.\n  2. Sam has a cat."
        );
        let empty = memory(Style::new(false), "Ada", &MemoryBody::default());
        assert!(empty.contains("remembers nothing"), "{empty}");
        assert!(empty.contains("/memory pin"), "{empty}");
    }

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

    fn reply(alternatives: &[&str], chosen: usize) -> MessageBody {
        MessageBody {
            id: "m1".into(),
            role: "assistant".into(),
            content: alternatives.get(chosen).copied().unwrap_or("Hi").into(),
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            alternatives: alternatives.iter().map(|a| (*a).to_owned()).collect(),
            chosen,
            interrupted: false,
            edited_at: None,
        }
    }

    #[test]
    fn a_message_with_versions_says_which_it_shows() {
        let style = Style::new(false);
        assert_eq!(message(style, "Ada", &reply(&[], 0)), "Ada: Hi");
        assert_eq!(
            message(style, "Ada", &reply(&["Hi", "Hello", "Hey"], 1)),
            "Ada: Hello (2/3)"
        );
    }

    #[test]
    fn the_user_persona_or_how_to_set_one() {
        let style = Style::new(false);
        assert!(user_persona(style, None).contains("/me"));
        let mut me = UserPersonaBody {
            name: "Watson".into(),
            description: String::new(),
        };
        assert_eq!(user_persona(style, Some(&me)), "you are Watson");
        me.description = "an army doctor".into();
        assert_eq!(
            user_persona(style, Some(&me)),
            "you are Watson — an army doctor"
        );
    }
}
