//! Builds the persona extractor and chat model the configuration names. Each provider is
//! chosen independently; the local model is loaded once even when it serves both.

use std::sync::Arc;

use link_bedrock::{BedrockChatModel, BedrockPersonaExtractor, Guardrail};
use link_core::{ChatModel, Error, PersonaExtractor, Result};
use link_local::{LocalConfig, LocalModel, LocalPersonaExtractor};
use link_openai::{OpenAiChatModel, OpenAiConfig, OpenAiPersonaExtractor};

use crate::config::{Config, Provider};

/// The two model ports, ready for the engine.
#[derive(Debug)]
pub struct Models {
    /// Extracts personas.
    pub extractor: Arc<dyn PersonaExtractor>,
    /// Plays them.
    pub chat: Arc<dyn ChatModel>,
}

/// Builds the configured providers.
pub async fn build(config: &Config) -> Result<Models> {
    let uses = |p: Provider| config.persona_provider == p || config.chat_provider == p;
    let local = if uses(Provider::Local) {
        Some(load_local(config).await?)
    } else {
        None
    };
    let openai = if uses(Provider::Openai) {
        Some(openai_config(config)?)
    } else {
        None
    };
    let bedrock = if uses(Provider::Bedrock) {
        Some(link_bedrock::client_from_env().await)
    } else {
        None
    };
    let missing = || Error::Config {
        message: "provider was not initialised".into(),
    };
    let extractor: Arc<dyn PersonaExtractor> = match config.persona_provider {
        Provider::Local => Arc::new(LocalPersonaExtractor::new(
            local.clone().ok_or_else(missing)?,
        )?),
        Provider::Openai => Arc::new(OpenAiPersonaExtractor::new(
            openai.clone().ok_or_else(missing)?,
        )?),
        Provider::Bedrock => Arc::new(
            BedrockPersonaExtractor::new(bedrock.clone().ok_or_else(missing)?)
                .with_model(&config.bedrock_model)?,
        ),
    };
    let chat: Arc<dyn ChatModel> = match config.chat_provider {
        Provider::Local => Arc::new(local.ok_or_else(missing)?),
        Provider::Openai => Arc::new(OpenAiChatModel::new(openai.ok_or_else(missing)?)),
        Provider::Bedrock => Arc::new(bedrock_chat(config, bedrock.ok_or_else(missing)?)?),
    };
    Ok(Models { extractor, chat })
}

async fn load_local(config: &Config) -> Result<LocalModel> {
    let mut local = LocalConfig::from_env();
    if let Some(path) = &config.model_path {
        local.model_path = path.clone();
    }
    if let Some(threads) = config.local_threads {
        local = local.with_threads(threads);
    }
    if !local.model_path.exists() {
        return Err(Error::Config {
            message: format!(
                "the local model file {} is missing: run scripts/fetch-model.sh or set LINK_MODEL_PATH",
                local.model_path.display()
            ),
        });
    }
    LocalModel::load_async(local).await
}

fn openai_config(config: &Config) -> Result<OpenAiConfig> {
    // Key, base URL, organisation and project come from the environment (OPENAI_*).
    link_openai::OpenAiConfigBuilder::from_env()
        .model(config.openai_model.clone())
        .build()
}

fn bedrock_chat(
    config: &Config,
    client: link_bedrock::aws_sdk_bedrockruntime::Client,
) -> Result<BedrockChatModel> {
    let model = BedrockChatModel::new(client).with_model(&config.bedrock_model)?;
    match &config.guardrail_id {
        Some(id) => model.with_guardrail(Guardrail::new(id, &config.guardrail_version)),
        None => Ok(model),
    }
}
