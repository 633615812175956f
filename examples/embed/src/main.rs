//! Embedding Link: the engine from environment variables (`LINK_*`, `OPENAI_*`), one
//! conversation, one reply. Run with an OpenAI key, or any OpenAI-compatible server:
//!
//! ```sh
//! LINK_PERSONA_PROVIDER=openai LINK_CHAT_PROVIDER=openai OPENAI_API_KEY=sk-... \
//!   cargo run -p link-embed-example -- "Ada Lovelace" "What are you working on?"
//! ```
#![allow(clippy::print_stdout)]

use link::{Config, PersonaSource, Principal, RequestContext, Secrets};

#[tokio::main]
async fn main() -> link::Result<()> {
    let mut args = std::env::args().skip(1);
    let character = args.next().unwrap_or_else(|| "Ada Lovelace".into());
    let message = args.next().unwrap_or_else(|| "Who are you?".into());

    let engine = Config::from_env()?.build(&Secrets::from_env()).await?;
    let ctx = RequestContext::new(Principal::new("example-user"));
    let started = engine
        .create_conversation(&ctx, PersonaSource::Request(character))
        .await?;
    let reply = engine.send(&ctx, started.conversation.id, &message).await?;

    println!("{}", started.messages[0].content);
    println!("{}", reply.message.content);
    Ok(())
}
