//! The characters the evaluation asks for: well-known public-domain and historical ones, and a
//! few invented ones. Each comes with what the scorer looks for; none of it reaches a prompt.

/// One character to evaluate.
#[derive(Debug, Clone, Copy)]
pub struct Character {
    /// What the user types to create the conversation.
    pub request: &'static str,
    /// Names that count as naming the character (word prefixes, case-insensitive). Empty for
    /// an invented character: its name is whatever the extractor chose.
    pub names: &'static [&'static str],
    /// A question in the character's domain.
    pub question: &'static str,
    /// Word stems of the character's world: a greeting that uses one fits the character.
    pub domain: &'static [&'static str],
}

impl Character {
    /// Whether the character was invented by the user (no canonical name).
    pub fn is_invented(&self) -> bool {
        self.names.is_empty()
    }
}

/// Twenty well-known characters, then three invented ones.
pub const CHARACTERS: &[Character] = &[
    Character {
        request: "Sherlock Holmes",
        names: &["Sherlock", "Holmes"],
        question: "How do you solve a case?",
        domain: &[
            "deduc",
            "clue",
            "crime",
            "case",
            "observ",
            "myster",
            "detective",
            "Watson",
            "Baker",
        ],
    },
    Character {
        request: "Ada Lovelace",
        names: &["Lovelace", "Ada"],
        question: "What do you think of Mr Babbage's Analytical Engine?",
        domain: &[
            "engine", "Babbage", "mathemat", "number", "machine", "comput", "poet", "science",
        ],
    },
    Character {
        request: "Albert Einstein",
        names: &["Einstein"],
        question: "Can you explain relativity simply?",
        domain: &[
            "relativ", "physic", "light", "time", "space", "theor", "energy", "scien", "universe",
        ],
    },
    Character {
        request: "Napoleon Bonaparte",
        names: &["Napoleon", "Bonaparte"],
        question: "How do you win a battle?",
        domain: &[
            "army", "battle", "France", "French", "emperor", "empire", "war", "soldier", "glory",
        ],
    },
    Character {
        request: "Cleopatra",
        names: &["Cleopatra"],
        question: "How do you rule Egypt?",
        domain: &[
            "Egypt",
            "Nile",
            "queen",
            "Rome",
            "pharaoh",
            "Alexandria",
            "palace",
            "kingdom",
        ],
    },
    Character {
        request: "Count Dracula",
        names: &["Dracula"],
        question: "Why do you never go out by day?",
        domain: &[
            "blood",
            "night",
            "castle",
            "Transylvania",
            "vampire",
            "dark",
            "count",
        ],
    },
    Character {
        request: "William Shakespeare",
        names: &["Shakespeare"],
        question: "How do you write a play?",
        domain: &[
            "play", "stage", "sonnet", "theat", "verse", "Globe", "actor", "poet", "quill", "thee",
            "thou",
        ],
    },
    Character {
        request: "Leonardo da Vinci",
        names: &["Leonardo", "Vinci"],
        question: "What are you painting now?",
        domain: &[
            "paint", "art", "invent", "Florence", "Mona", "canvas", "sketch", "machine", "draw",
            "studio",
        ],
    },
    Character {
        request: "Julius Caesar",
        names: &["Caesar"],
        question: "Why did you cross the Rubicon?",
        domain: &[
            "Rome", "Roman", "legion", "senate", "Gaul", "army", "empire", "consul",
        ],
    },
    Character {
        request: "Marie Curie",
        names: &["Curie"],
        question: "What is radioactivity?",
        domain: &[
            "radi",
            "polonium",
            "element",
            "scien",
            "physic",
            "chemi",
            "laborator",
            "research",
        ],
    },
    Character {
        request: "Isaac Newton",
        names: &["Newton"],
        question: "Why does an apple fall to the ground?",
        domain: &[
            "gravit", "motion", "force", "apple", "law", "physic", "mathemat", "light", "scien",
        ],
    },
    Character {
        request: "Alice from Alice's Adventures in Wonderland",
        names: &["Alice"],
        question: "What happened when you fell down the rabbit hole?",
        domain: &[
            "Wonderland",
            "rabbit",
            "Queen",
            "Hatter",
            "tea",
            "curious",
            "Cheshire",
            "adventure",
        ],
    },
    Character {
        request: "Captain Ahab from Moby-Dick",
        names: &["Ahab"],
        question: "Why do you hunt the white whale?",
        domain: &[
            "whale", "sea", "ship", "Moby", "Pequod", "hunt", "ocean", "captain", "crew",
        ],
    },
    Character {
        request: "Abraham Lincoln",
        names: &["Lincoln", "Abraham", "Abe"],
        question: "Why must the Union be preserved?",
        domain: &[
            "Union",
            "nation",
            "slave",
            "America",
            "president",
            "war",
            "freedom",
            "liberty",
            "people",
        ],
    },
    Character {
        request: "Joan of Arc",
        names: &["Joan", "Jeanne"],
        question: "Why did you lead the French army?",
        domain: &[
            "France", "God", "voice", "army", "Orl", "king", "saint", "faith", "battle",
        ],
    },
    Character {
        request: "Robin Hood",
        names: &["Robin"],
        question: "Why do you steal from the rich?",
        domain: &[
            "Sherwood",
            "poor",
            "rich",
            "arrow",
            "bow",
            "Nottingham",
            "outlaw",
            "merry",
            "forest",
        ],
    },
    Character {
        request: "Socrates",
        names: &["Socrates"],
        question: "What is the good life?",
        domain: &[
            "Athens",
            "wisdom",
            "wise",
            "philosoph",
            "question",
            "virtue",
            "know",
            "truth",
        ],
    },
    Character {
        request: "Charles Darwin",
        names: &["Darwin"],
        question: "How do species change over time?",
        domain: &[
            "species",
            "evolution",
            "selection",
            "Beagle",
            "nature",
            "natural",
            "finch",
            "scien",
        ],
    },
    Character {
        request: "Dorothy from The Wizard of Oz",
        names: &["Dorothy"],
        question: "How will you get back to Kansas?",
        domain: &[
            "Kansas", "Oz", "Toto", "home", "wizard", "shoes", "slippers", "witch", "road",
        ],
    },
    Character {
        request: "King Arthur",
        names: &["Arthur"],
        question: "What is the Round Table?",
        domain: &[
            "Camelot",
            "knight",
            "Excalibur",
            "table",
            "sword",
            "king",
            "Merlin",
            "realm",
        ],
    },
    Character {
        request: "a grumpy pirate who loves cats",
        names: &[],
        question: "What is your ship like?",
        domain: &[
            "ship", "sea", "cat", "pirate", "treasure", "sail", "arr", "matey", "crew",
        ],
    },
    Character {
        request: "a cheerful medieval baker",
        names: &[],
        question: "What bread are you baking today?",
        domain: &[
            "bread", "oven", "dough", "bake", "flour", "loaf", "loaves", "bakery",
        ],
    },
    Character {
        request: "a retired engineer who built space stations",
        names: &[],
        question: "What was the hardest repair you ever made?",
        domain: &[
            "station", "space", "orbit", "repair", "engineer", "oxygen", "module", "rocket",
        ],
    },
];
