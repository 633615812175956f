//! The grammar of a character sheet ([`link_core::extraction::SHEET`]): the labels are forced,
//! each value is bounded, so a small model writes exactly the five lines and nothing else.
//!
//! Every value starts with the space after its label's colon. Forcing `"Name: "` with its
//! space would make the model write the name without the leading space its tokenizer joins to
//! a word (` Sherlock` is one token, `Sherlock` is not the same one), which small models
//! handle badly; so the space belongs to the value.

use link_core::extraction::{KINDS, SALUTATIONS, SHEET, SheetValue};

/// The GBNF grammar (root rule `root`) of a character sheet.
pub(crate) fn sheet_grammar() -> String {
    let mut root = Vec::with_capacity(SHEET.len());
    let mut rules = Vec::new();
    for (i, line) in SHEET.iter().enumerate() {
        let newline = if i == 0 { "" } else { "\n" };
        let rule = format!("line{i}");
        root.push(format!(
            "{} {rule}",
            literal(&format!("{newline}{}:", line.label))
        ));
        rules.push(format!("{rule} ::= {}", value(line.value)));
    }
    format!("root ::= {}\n{}\n", root.join(" "), rules.join("\n"))
}

/// The rule for a value, starting with its space.
fn value(value: SheetValue) -> String {
    match value {
        // A first character that is not a space, so the value cannot be blank.
        SheetValue::Text(max) => format!(r#"" " [^ \n] [^\n]{{0,{}}}"#, max - 1),
        SheetValue::Introduction(max) => introduction(max),
        SheetValue::Kind => {
            let words: Vec<String> = KINDS
                .iter()
                .map(|(w, _)| literal(&format!(" {w}")))
                .collect();
            format!("( {} )", words.join(" | "))
        }
    }
}

/// A quoted greeting: one of the [`SALUTATIONS`], a comma, the character's "I am" or "I'm"
/// followed by a capital letter (their name, not "I'm glad ..."), and the rest, within `max`
/// characters in all.
fn introduction(max: usize) -> String {
    let longest = SALUTATIONS.iter().map(|s| s.len()).max().unwrap_or(0);
    let rest = max.saturating_sub(longest + ", I am ".len() + 1).max(1);
    let salutations: Vec<String> = SALUTATIONS.iter().map(|s| literal(s)).collect();
    format!(
        r#"" \"" ( {} ) ", I" ( " am " | "'m " ) [A-ZÀ-ÖØ-Þ] [^"\n]{{0,{rest}}} "\"""#,
        salutations.join(" | ")
    )
}

/// `text` as a GBNF string literal.
fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grammar_forces_every_label_in_order_and_bounds_every_value() {
        let gbnf = sheet_grammar();
        let root = gbnf.lines().next().unwrap_or_default();
        let positions: Vec<usize> = SHEET
            .iter()
            .map(|l| root.find(&format!("{}:\"", l.label)).unwrap_or(usize::MAX))
            .collect();
        assert!(positions.iter().all(|p| *p != usize::MAX), "{root}");
        assert!(positions.is_sorted(), "{root}");
        assert!(
            gbnf.contains(r#"line0 ::= " " [^ \n] [^\n]{0,59}"#),
            "{gbnf}"
        );
        assert!(gbnf.contains(r#"" real person""#), "{gbnf}");
        assert!(gbnf.contains(r#"( "Hello" | "Hi" |"#), "{gbnf}");
        assert!(gbnf.contains(r#"", I" ( " am " | "'m " ) [A-Z"#), "{gbnf}");
    }

    #[test]
    fn literals_escape_quotes_and_newlines() {
        assert_eq!(literal("a\"b\nc\\"), r#""a\"b\nc\\""#);
    }
}
