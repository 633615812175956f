//! Chat with a character played by Amazon Nova on Bedrock.
//!
//! ```text
//! cargo run -p link-bedrock --example chat -- "Ada Lovelace"
//! ```
//!
//! Needs AWS credentials and a region from the standard chain (`AWS_PROFILE`, `AWS_REGION`,
//! `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, an instance role, ...) and access to the model
//! in the Bedrock console. Optional: `LINK_BEDROCK_MODEL` (default `amazon.nova-micro-v1:0`),
//! `LINK_GUARDRAIL_ID` and `LINK_GUARDRAIL_VERSION` to chat behind a guardrail.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use futures::StreamExt;
use link_bedrock::aws_sdk_bedrockruntime::{self, config::ProvideCredentials};
use link_bedrock::{BedrockChatModel, BedrockPersonaExtractor, DEFAULT_MODEL, Guardrail};
use link_core::{ChatEvent, ChatModel, Message, PersonaExtractor, PromptBuilder, Role};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            let _ = writeln!(std::io::stderr(), "{problem}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    if config.region().is_none() {
        return Err(
            "No AWS region is configured: set AWS_REGION (e.g. us-east-1) or a region \
                    in your AWS profile."
                .into(),
        );
    }
    let Some(credentials) = config.credentials_provider() else {
        return Err("No AWS credentials provider is configured.".into());
    };
    if let Err(e) = credentials.provide_credentials().await {
        return Err(format!(
            "No AWS credentials were found ({e}). Set AWS_PROFILE, or AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY, or run where an instance role is available."
        ));
    }
    let client = aws_sdk_bedrockruntime::Client::new(&config);
    let model_id = std::env::var("LINK_BEDROCK_MODEL").unwrap_or_else(|_| DEFAULT_MODEL.into());
    let mut model = BedrockChatModel::new(client.clone())
        .with_model(&model_id)
        .map_err(|e| e.to_string())?;
    if let (Ok(id), Ok(version)) = (
        std::env::var("LINK_GUARDRAIL_ID"),
        std::env::var("LINK_GUARDRAIL_VERSION"),
    ) {
        model = model
            .with_guardrail(Guardrail::new(id, version))
            .map_err(|e| e.to_string())?;
    }
    let extractor = BedrockPersonaExtractor::new(client)
        .with_model(&model_id)
        .map_err(|e| e.to_string())?;

    let who = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "Sherlock Holmes".into());
    let persona = extractor.extract(&who).await.map_err(hint)?;
    let mut out = std::io::stdout();
    let _ = writeln!(
        out,
        "{} ({:?}) — type a message, empty line to quit.\n",
        persona.name, persona.kind
    );
    let _ = writeln!(out, "{}: {}", persona.name, persona.greeting);
    let mut history = vec![Message::new(Role::Assistant, persona.greeting.clone())];
    let prompt = PromptBuilder::default();

    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(|e| e.to_string())?;
        if line.trim().is_empty() {
            break;
        }
        history.push(Message::new(Role::User, line));
        let mut stream = model
            .stream(prompt.build(&persona, &history))
            .await
            .map_err(hint)?;
        let _ = write!(out, "{}: ", persona.name);
        let mut reply = String::new();
        while let Some(event) = stream.next().await {
            match event.map_err(hint)? {
                ChatEvent::Delta { text } => {
                    reply.push_str(&text);
                    let _ = write!(out, "{text}");
                    let _ = out.flush();
                }
                ChatEvent::GuardrailIntervened { message } => {
                    let _ = write!(out, "\n[guardrail] {}", message.unwrap_or_default());
                }
                _ => {}
            }
        }
        let _ = writeln!(out);
        history.push(Message::new(Role::Assistant, reply));
    }
    Ok(())
}

fn hint(error: link_core::Error) -> String {
    match &error {
        link_core::Error::Provider {
            status: Some(403), ..
        } => format!(
            "{error}\nAccess denied: enable the model in the Bedrock console (Model access) and \
             allow bedrock:InvokeModel / bedrock:InvokeModelWithResponseStream."
        ),
        link_core::Error::Provider {
            status: Some(404), ..
        } => {
            format!(
                "{error}\nModel not found here: try an inference profile id such as us.{DEFAULT_MODEL}."
            )
        }
        _ => error.to_string(),
    }
}
