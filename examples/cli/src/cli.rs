//! The command line: the same settings as `link-server` (flags, environment, `.env`), plus
//! where to run the engine and what to do.

use clap::{Args, Parser, Subcommand};
use link::Config;

/// What `--help` says about exit codes; the numbers live in `link::exit` (one table with the
/// HTTP statuses, in `link_core::Error`).
const AFTER_HELP: &str = "\
Exit codes:
  0  success
  1  other failure (configuration, storage, I/O)
  2  usage error (bad flags or arguments, malformed id, empty or oversize message)
  3  authentication or rate-limit error
  4  upstream failure (the model service failed, timed out, refused or was blocked)
  5  not found (no such conversation of yours)

Without --server the engine runs in this process with link-server's configuration
(LINK_* and OPENAI_* variables, .env, the SQLite database) as the local user --user.
Colour is used only on a terminal and never when NO_COLOR is set.";

/// `link`: chat with any character from the terminal.
#[derive(Debug, Parser)]
#[command(
    name = "link",
    version,
    about = "Chat with any character from the terminal.",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// Where the engine runs and who you are.
    #[command(flatten)]
    pub target: Target,

    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,

    /// The engine's configuration, shared with link-server.
    #[command(flatten, next_help_heading = "Engine")]
    pub config: Config,
}

/// In-process or remote, and as whom.
#[derive(Debug, Clone, Args)]
pub struct Target {
    /// Talk to a running link-server at this URL instead of running the engine here.
    #[arg(long, env = "LINK_SERVER", global = true)]
    pub server: Option<String>,

    /// Bearer token for --server (in dev auth mode one is minted for --user when absent).
    #[arg(long, env = "LINK_TOKEN", global = true, hide_env_values = true)]
    pub token: Option<String>,

    /// Local user name; conversations belong to it (default: $USER). The same name sees
    /// the same conversations in link-server's dev mode.
    #[arg(long, env = "LINK_USER", global = true)]
    pub user: Option<String>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Chat with a character: interactively on a terminal, or one message for scripts.
    Chat(ChatArgs),
    /// Extract a persona and print it as JSON.
    Persona {
        /// Who, e.g. "Ada Lovelace" or "a grumpy pirate who loves cats".
        request: String,
    },
    /// List your conversations, most recent first.
    Conversations,
    /// Start a conversation from a character card file: V2 or V3 JSON, a PNG card image or
    /// a CharX archive.
    Import {
        /// The card file.
        file: std::path::PathBuf,
    },
    /// Save a conversation's character as a card file.
    Export {
        /// The conversation's id.
        conversation: String,
        /// Write a PNG card image (V3 and V2 chunks) instead of JSON.
        #[arg(long, conflicts_with = "v3")]
        png: bool,
        /// Write Character Card V3 JSON instead of V2.
        #[arg(long)]
        v3: bool,
        /// Where to write it (default: the character's name with .json or .png).
        #[arg(long, short = 'o')]
        output: Option<std::path::PathBuf>,
    },
    /// Make, list and revoke API keys for OpenAI-compatible chat clients (Open WebUI,
    /// SillyTavern, the OpenAI SDKs): they send the key as their bearer token.
    #[command(subcommand)]
    Keys(KeysCommand),
}

/// `link keys`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a key; it is printed once and never shown again.
    Create {
        /// What the key is for, e.g. "Open WebUI at home".
        name: String,
    },
    /// List your keys (names and first characters, never the keys).
    List,
    /// Revoke a key by its id: it stops working at once.
    Revoke {
        /// The key's id (from `link keys list`).
        id: String,
    },
}

/// `link chat`.
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// Who to talk to, e.g. "Sherlock Holmes" (starts a new conversation).
    pub character: Option<String>,

    /// Continue this conversation instead of starting one.
    #[arg(long, short = 'c', conflicts_with = "character")]
    pub conversation: Option<String>,

    /// Send this one message, print the reply and exit (a message on stdin does the same).
    #[arg(long, short = 'm')]
    pub message: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn chat_takes_a_character_or_a_conversation() {
        let cli = Cli::try_parse_from(["link", "chat", "Sherlock Holmes"]).unwrap();
        let Command::Chat(args) = cli.command else {
            panic!("not chat")
        };
        assert_eq!(args.character.as_deref(), Some("Sherlock Holmes"));
        let both = Cli::try_parse_from(["link", "chat", "X", "--conversation", "id"]);
        assert!(both.is_err());
        let cli = Cli::try_parse_from(["link", "chat", "-c", "id", "-m", "hi", "--json"]).unwrap();
        assert!(cli.json);
    }

    #[test]
    fn keys_are_made_listed_and_revoked() {
        let cli = Cli::try_parse_from(["link", "keys", "create", "webui"]).unwrap();
        assert!(
            matches!(cli.command, Command::Keys(KeysCommand::Create { name }) if name == "webui")
        );
        let cli = Cli::try_parse_from(["link", "keys", "revoke", "id-1", "--json"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Keys(KeysCommand::Revoke { .. })
        ));
        assert!(Cli::try_parse_from(["link", "keys", "create"]).is_err());
    }

    #[test]
    fn help_names_the_exit_codes_and_the_engine_flags() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("Exit codes"), "{help}");
        assert!(help.contains("--chat-provider"), "{help}");
        assert!(
            help.contains("Chat with any character from the terminal"),
            "{help}"
        );
    }
}
