//! What the evaluation checks in a reply, a greeting and a persona. Plain word matching: the
//! checks must be cheap, repeatable and readable, not clever.

use link_core::Persona;

/// Words that say nothing about who a character is, left out of an invented character's name
/// when looking for it in a reply ("The Grumpy Pirate" is named by "grumpy" or "pirate").
const FILLER: &[&str] = &[
    "the", "of", "a", "an", "and", "mr", "mrs", "miss", "sir", "lady", "lord", "dr", "old",
    "captain", "von", "van", "de", "da", "la", "le",
];

/// First-person words (after splitting "I'm" into "i" and "m").
const FIRST_PERSON: &[&str] = &["i", "me", "my", "mine", "myself", "we", "us", "our", "ours"];

/// Words of the persona schema that a greeting in the character's voice never contains (the
/// baseline wrote greetings like "The Sherlock Holmes Greeting").
const FIELD_WORDS: &[&str] = &[
    "greeting",
    "persona",
    "speaking_style",
    "must_not_know",
    "example_lines",
];

/// The lower-case words of `text`, split at anything that is not a letter or digit.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The names that count as naming this character: the given ones, or for an invented
/// character the meaningful words of the name the extractor chose.
pub fn names_for(given: &[&str], persona: Option<&Persona>) -> Vec<String> {
    if !given.is_empty() {
        return given.iter().map(|n| n.to_lowercase()).collect();
    }
    persona
        .map(|p| {
            words(&p.name)
                .into_iter()
                .filter(|w| w.chars().count() >= 3 && !FILLER.contains(&w.as_str()))
                .collect()
        })
        .unwrap_or_default()
}

/// The words a character may introduce itself by: its names and the words of its request
/// ("Julius" for "Julius Caesar").
pub fn own_words(names: &[String], request: &str) -> Vec<String> {
    let mut own = names.to_vec();
    own.extend(words(request));
    own
}

/// Whether `text` contains one of `names` as a whole word.
pub fn mentions(text: &str, names: &[String]) -> bool {
    words(text).iter().any(|w| names.contains(w))
}

/// Whether a reply names the character as itself: it introduces itself by one of `names`
/// ("I am Sherlock Holmes", "I'm the infamous Captain Blackbeard", "my name is Ada": the name
/// within [`NAME_REACH`] words of the introduction) and by no name outside `own` (the
/// character's names and the words of the request: "I'm Emily, ..." or "a fellow named
/// Malcolm" fails even when the character's name appears too). Mentioning the name is not
/// enough: "I'm a soldier fighting against Napoleon" does not name Napoleon as itself.
pub fn names_character(text: &str, names: &[String], own: &[String]) -> bool {
    introduces_as(text, names) && other_names(text, own).is_empty()
}

/// How many words after "I am" the name may come ("I am the Emperor Napoleon").
const NAME_REACH: usize = 4;

/// Whether `text` introduces itself, in the first person, by one of `names`.
pub fn introduces_as(text: &str, names: &[String]) -> bool {
    let text = text.replace('\u{2019}', "'");
    FIRST_PERSON_INTRODUCTIONS.iter().any(|intro| {
        text.match_indices(intro).any(|(at, _)| {
            text[at + intro.len()..]
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .take(NAME_REACH)
                .any(|w| names.contains(&w.to_lowercase()))
        })
    })
}

/// Phrases a reply introduces itself with, in the first person.
const FIRST_PERSON_INTRODUCTIONS: &[&str] = &[
    "I'm ",
    "I am ",
    "my name is ",
    "My name is ",
    "call me ",
    "Call me ",
];

/// Phrases that introduce a name in the third person ("a fellow named Malcolm").
const OTHER_INTRODUCTIONS: &[&str] = &[" named ", " called "];

/// Titles skipped to reach the name itself ("I am Count Dracula").
const TITLES: &[&str] = &[
    "Dr", "Mr", "Mrs", "Miss", "Sir", "Lady", "Lord", "Captain", "King", "Queen", "Count", "Saint",
    "The",
];

/// Capitalised words that follow an introduction ("I'm", "my name is", ...) and are not one of
/// `own`: the names a reply introduces itself by that are not the character's.
pub fn other_names(text: &str, own: &[String]) -> Vec<String> {
    let text = text.replace('\u{2019}', "'");
    let mut others = Vec::new();
    for intro in FIRST_PERSON_INTRODUCTIONS.iter().chain(OTHER_INTRODUCTIONS) {
        for (at, _) in text.match_indices(intro) {
            let mut taken = text[at + intro.len()..]
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty());
            let word = taken.find(|w| !TITLES.contains(w)).unwrap_or_default();
            let capitalised = word.chars().next().is_some_and(char::is_uppercase);
            if capitalised && word != "I" && word != "AI" && !own.contains(&word.to_lowercase()) {
                others.push(word.to_owned());
            }
        }
    }
    others
}

/// Whether `text` speaks in the first person.
pub fn first_person(text: &str) -> bool {
    words(text)
        .iter()
        .any(|w| FIRST_PERSON.contains(&w.as_str()))
}

/// Whether `text` uses a word starting with one of the `domain` stems.
pub fn in_domain(text: &str, domain: &[&str]) -> bool {
    let stems: Vec<String> = domain.iter().map(|s| s.to_lowercase()).collect();
    words(text)
        .iter()
        .any(|w| stems.iter().any(|s| w.starts_with(s.as_str())))
}

/// Whether `text` names a persona field, as a greeting describing itself does.
pub fn names_a_field(text: &str) -> bool {
    let lower = text.to_lowercase();
    FIELD_WORDS.iter().any(|f| lower.contains(f))
}

/// A greeting in the first person that names the character or fits its world, introduces
/// itself by no other name (see [`names_character`]), does not address the character by name
/// (see [`addresses`]), and names no field.
pub fn greeting_fits(greeting: &str, names: &[String], own: &[String], domain: &[&str]) -> bool {
    first_person(greeting)
        && (mentions(greeting, names) || in_domain(greeting, domain))
        && other_names(greeting, own).is_empty()
        && !addresses(greeting, names, own)
        && !names_a_field(greeting)
}

/// Whether `text` calls the character by name: a greeting addressed to the character ("Dear
/// Marie Curie, I'm so glad you're here", "Einstein, I'm glad to have you", "I'm glad to meet
/// you, Albert Einstein.") rather than spoken by them ("Good evening, I am Cleopatra",
/// "Holmes at your service; my door is open"). A name ending a clause before the first
/// first-person word, or a later clause that is nothing but the name, is the person
/// spoken to.
pub fn addresses(text: &str, names: &[String], own: &[String]) -> bool {
    let clauses: Vec<Vec<String>> = text
        .split([',', '.', '!', '?', ';', ':'])
        .map(words)
        .collect();
    let spoken = clauses
        .iter()
        .position(|c| c.iter().any(|w| FIRST_PERSON.contains(&w.as_str())))
        .unwrap_or(clauses.len());
    let before = clauses[..spoken]
        .iter()
        .any(|c| c.last().is_some_and(|w| names.contains(w)));
    let name_only = clauses.iter().skip(1).any(|c| {
        !c.is_empty() && c.iter().all(|w| own.contains(w)) && c.iter().any(|w| names.contains(w))
    });
    before || name_only
}

/// How well a persona's text fields are filled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldScore {
    /// Text fields checked.
    pub total: usize,
    /// Fields with text.
    pub filled: usize,
    /// Filled fields whose text is (nearly) that of another field.
    pub copies: usize,
}

/// Counts the filled fields of `persona` and those that copy another field (the same words,
/// or four fifths of them shared).
pub fn field_score(persona: &Persona) -> FieldScore {
    let fields = [
        persona.description.clone(),
        persona.personality.clone(),
        persona.speaking_style.clone(),
        persona.setting.clone(),
        persona.knowledge.clone(),
        persona.must_not_know.clone(),
        persona.greeting.clone(),
        persona.example_lines.join(" "),
    ];
    let sets: Vec<std::collections::BTreeSet<String>> = fields
        .iter()
        .map(|f| words(f).into_iter().collect())
        .collect();
    let filled: Vec<usize> = (0..fields.len()).filter(|&i| !sets[i].is_empty()).collect();
    let copies = filled
        .iter()
        .filter(|&&i| {
            filled
                .iter()
                .any(|&j| j != i && overlap(&sets[i], &sets[j]) >= 0.8)
        })
        .count();
    FieldScore {
        total: fields.len(),
        filled: filled.len(),
        copies,
    }
}

/// Jaccard similarity of two word sets.
fn overlap(a: &std::collections::BTreeSet<String>, b: &std::collections::BTreeSet<String>) -> f64 {
    let shared = a.intersection(b).count() as f64;
    let all = a.union(b).count() as f64;
    if all == 0.0 { 0.0 } else { shared / all }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use link_core::PersonaKind;

    #[test]
    fn a_name_counts_as_a_whole_word_also_possessive() {
        let names = names_for(&["Holmes"], None);
        assert!(names_character("I am Holmes's brother.", &names, &names));
        assert!(!names_character(
            "I know Holmesian deduction.",
            &names,
            &names
        ));
    }

    #[test]
    fn an_invented_name_counts_by_its_meaningful_words() {
        let p = Persona::new("Captain Whiskers", PersonaKind::Original, "x", "y");
        let names = names_for(&[], Some(&p));
        assert_eq!(names, ["whiskers"]);
        assert!(names_character("They call me Whiskers.", &names, &names));
        assert!(!names_character("I am the captain.", &names, &names));
    }

    #[test]
    fn another_name_or_no_first_person_does_not_count() {
        let names = names_for(&["Holmes"], None);
        let own = vec!["holmes".to_owned(), "sherlock".to_owned()];
        assert!(!names_character(
            "I'm Emily, a fan of Sherlock Holmes.",
            &names,
            &own
        ));
        assert!(!names_character(
            "My name is Dr. Starr; Holmes taught me.",
            &names,
            &own
        ));
        assert!(!names_character(
            "The user meets Sherlock Holmes.",
            &names,
            &own
        ));
        assert!(names_character(
            "I am Mr. Sherlock Holmes, and I'm a detective.",
            &names,
            &own
        ));
        assert!(names_character("I'm an AI? No: I am Holmes.", &names, &own));
        assert!(!names_character(
            "I'm a soldier who fought against Holmes.",
            &names,
            &own
        ));
        assert!(!names_character(
            "I'm a fellow named Malcolm. Holmes? I am Holmes.",
            &names,
            &own
        ));
        let dracula = names_for(&["Dracula"], None);
        assert!(other_names("I am Count Dracula.", &dracula).is_empty());
    }

    #[test]
    fn greetings_must_be_first_person_fitting_and_name_no_field() {
        let names = &names_for(&["Holmes"], None);
        let domain = ["deduc", "case"];
        let fits = |greeting: &str| greeting_fits(greeting, names, names, &domain);
        assert!(fits("Ah, you have come about a case, I perceive."));
        assert!(fits("Holmes at your service; my door is open."));
        assert!(fits("Good day, I am Holmes."));
        assert!(!fits("The Sherlock Holmes Greeting"));
        assert!(!fits("Hello, I am glad you came."));
        assert!(!fits("My greeting: Holmes here."));
        assert!(!fits("I'm Emily; a case?"));
        assert!(!fits("Dear Holmes, I'm glad; a case?"));
        assert!(!fits("Ah, I'm glad to meet you, Holmes. A case?"));
    }

    #[test]
    fn copied_fields_are_counted() {
        let mut p = Persona::new(
            "Ada",
            PersonaKind::Historical,
            "A mathematician.",
            "Good day.",
        );
        p.personality = "A mathematician".into();
        p.setting = "London, 1840s.".into();
        let score = field_score(&p);
        assert_eq!(
            score,
            FieldScore {
                total: 8,
                filled: 4,
                copies: 2
            }
        );
    }
}
