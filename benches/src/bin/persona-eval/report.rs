//! The evaluation's Markdown report: the figures first, then one row per character.

use std::fmt::Write;

use crate::Outcome;

/// The report for `outcomes`, headed by `setup` (model, threads, seed).
pub fn markdown(outcomes: &[Outcome], setup: &str) -> String {
    let known: Vec<&Outcome> = outcomes.iter().filter(|o| !o.invented).collect();
    let invented: Vec<&Outcome> = outcomes.iter().filter(|o| o.invented).collect();
    let mut out = String::new();
    let _ = writeln!(out, "# Persona evaluation\n\n{setup}\n");
    let _ = writeln!(
        out,
        "| | well-known ({}) | invented ({}) |\n|---|---|---|",
        known.len(),
        invented.len()
    );
    let count = |set: &[&Outcome], check: fn(&Outcome) -> bool| {
        format!("{}/{}", set.iter().filter(|o| check(o)).count(), set.len())
    };
    type Check = fn(&Outcome) -> bool;
    let rows: [(&str, Check); 3] = [
        ("replies to \"Who are you?\" that name the character", |o| {
            o.names_character
        }),
        (
            "greetings in the first person that name or fit the character",
            |o| o.greeting_fits,
        ),
        ("domain replies in the character's world", |o| o.domain_fits),
    ];
    for (label, check) in rows {
        let _ = writeln!(
            out,
            "| {label} | {} | {} |",
            count(&known, check),
            count(&invented, check)
        );
    }
    let fields = |set: &[&Outcome]| {
        let total: usize = set.iter().map(|o| o.fields.total).sum();
        let filled: usize = set.iter().map(|o| o.fields.filled).sum();
        let copies: usize = set.iter().map(|o| o.fields.copies).sum();
        format!("{filled}/{total} filled, {copies} copies")
    };
    let _ = writeln!(
        out,
        "| text fields filled, and copies of another field | {} | {} |",
        fields(&known),
        fields(&invented)
    );
    let _ = writeln!(
        out,
        "| failures (no persona or no reply) | {} | {} |",
        count(&known, |o| o.error.is_some()),
        count(&invented, |o| o.error.is_some())
    );
    let all: Vec<&Outcome> = outcomes.iter().collect();
    let _ = writeln!(
        out,
        "\nMedian per persona over all {}: extraction {:.1} s ({:.1} tokens/s, {:.0} tokens), \
         extraction and both replies {:.1} s; replies {:.1} tokens/s.\n",
        all.len(),
        median(all.iter().map(|o| o.extract_secs)),
        median(all.iter().map(|o| rate(o.extract_tokens, o.extract_secs))),
        median(all.iter().map(|o| o.extract_tokens as f64)),
        median(all.iter().map(|o| o.extract_secs + o.reply_secs)),
        median(all.iter().map(|o| rate(o.reply_tokens, o.reply_secs))),
    );
    let _ = writeln!(
        out,
        "| request | name | greeting | reply to \"{}\" | named | greeting ok | fields filled/copies | extraction s | reply tokens/s |\n|---|---|---|---|---|---|---|---|---|",
        crate::WHO
    );
    for o in outcomes {
        let (name, greeting) = o
            .persona
            .as_ref()
            .map_or((String::new(), String::new()), |p| {
                (p.name.clone(), p.greeting.clone())
            });
        let who = o
            .error
            .as_ref()
            .map_or_else(|| o.who_reply.clone(), |e| format!("ERROR {e}"));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {}/{} | {:.1} | {:.1} |",
            cell(&o.request, 40),
            cell(&name, 40),
            cell(&greeting, 120),
            cell(&who, 120),
            mark(o.names_character),
            mark(o.greeting_fits),
            o.fields.filled,
            o.fields.copies,
            o.extract_secs,
            rate(o.reply_tokens, o.reply_secs),
        );
    }
    out
}

fn mark(ok: bool) -> &'static str {
    if ok { "yes" } else { "no" }
}

fn rate(tokens: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        tokens as f64 / secs
    } else {
        0.0
    }
}

/// The median (the mean of the middle two for an even count); 0 when there is nothing.
pub fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// Text for a table cell: one line, no pipes, at most `max` characters.
fn cell(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| match c {
            '\n' | '\r' => ' ',
            '|' => '/',
            c => c,
        })
        .collect();
    if flat.chars().count() > max {
        let cut: String = flat.chars().take(max).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median([4.0, 1.0, 3.0, 2.0].into_iter()), 2.5);
        assert_eq!(median([5.0, 1.0, 3.0].into_iter()), 3.0);
        assert_eq!(median(std::iter::empty()), 0.0);
    }

    #[test]
    fn cells_are_one_line_without_pipes() {
        assert_eq!(cell("a|b\nc", 10), "a/b c");
        assert_eq!(cell("abcdef", 3), "abc…");
    }
}
