//! The persona extractor and chat model the settings name. Each is chosen independently; the
//! local model is loaded once even when it serves both. A provider whose cargo feature is off
//! is a configuration error that names the feature.

use std::sync::Arc;

use link_core::{ChatModel, Error, Moderator, PersonaExtractor, Result};

use crate::{Config, ModerationProvider, Provider, Secrets};

/// The model ports and the moderator, ready for the engine.
#[derive(Debug, Clone)]
pub struct Models {
    /// Extracts personas.
    pub extractor: Arc<dyn PersonaExtractor>,
    /// Plays them.
    pub chat: Arc<dyn ChatModel>,
    /// Checks what users send and what the models write; `None`: nothing is checked.
    pub moderator: Option<Arc<dyn Moderator>>,
}

impl Models {
    /// Builds the providers and the moderator `config` names.
    pub async fn build(config: &Config, secrets: &Secrets) -> Result<Models> {
        let mut built = Built::default();
        let extractor = built.extractor(config, secrets).await?;
        let chat = built.chat(config, secrets).await?;
        let moderator = built.moderator(config, secrets).await?;
        Ok(Models {
            extractor,
            chat,
            moderator,
        })
    }
}

/// Provider clients made so far, so that both ports share one local model or AWS client.
#[derive(Default)]
struct Built {
    #[cfg(feature = "local")]
    local: Option<link_local::LocalModel>,
    #[cfg(feature = "bedrock")]
    bedrock: Option<link_bedrock::aws_sdk_bedrockruntime::Client>,
}

impl Built {
    async fn extractor(
        &mut self,
        config: &Config,
        #[allow(unused_variables)] secrets: &Secrets,
    ) -> Result<Arc<dyn PersonaExtractor>> {
        match config.persona_provider {
            #[cfg(feature = "local")]
            Provider::Local => Ok(Arc::new(link_local::LocalPersonaExtractor::new(
                self.local(config).await?,
            )?)),
            #[cfg(feature = "openai")]
            Provider::Openai => Ok(Arc::new(link_openai::OpenAiPersonaExtractor::new(
                openai_config(config, secrets)?,
            )?)),
            #[cfg(feature = "bedrock")]
            Provider::Bedrock => Ok(Arc::new(
                link_bedrock::BedrockPersonaExtractor::new(self.bedrock().await)
                    .with_model(&config.bedrock_model)?,
            )),
            #[allow(unreachable_patterns)]
            other => Err(not_built(other)),
        }
    }

    async fn chat(
        &mut self,
        config: &Config,
        #[allow(unused_variables)] secrets: &Secrets,
    ) -> Result<Arc<dyn ChatModel>> {
        match config.chat_provider {
            #[cfg(feature = "local")]
            Provider::Local => Ok(Arc::new(self.local(config).await?)),
            #[cfg(feature = "openai")]
            Provider::Openai => {
                let model = link_openai::OpenAiChatModel::new(openai_config(config, secrets)?);
                Ok(Arc::new(match config.context_window {
                    Some(tokens) => model.with_context_window(tokens as usize),
                    None => model,
                }))
            }
            #[cfg(feature = "bedrock")]
            Provider::Bedrock => Ok(Arc::new(bedrock_chat(config, self.bedrock().await)?)),
            #[allow(unreachable_patterns)]
            other => Err(not_built(other)),
        }
    }

    async fn moderator(
        &mut self,
        config: &Config,
        #[allow(unused_variables)] secrets: &Secrets,
    ) -> Result<Option<Arc<dyn Moderator>>> {
        if let Some(note) = config.unmoderated_note() {
            tracing::warn!("{note}");
        }
        match config.moderation() {
            ModerationProvider::None => Ok(None),
            #[cfg(feature = "openai")]
            ModerationProvider::Openai => Ok(Some(Arc::new(link_openai::OpenAiModerator::new(
                openai_config(config, secrets)?,
            )))),
            #[cfg(feature = "bedrock")]
            ModerationProvider::Bedrock => {
                let Some(id) = &config.guardrail_id else {
                    return Err(Error::Config {
                        message: "LINK_MODERATION=bedrock needs LINK_GUARDRAIL_ID".to_owned(),
                    });
                };
                let guardrail = link_bedrock::Guardrail::new(id, &config.guardrail_version);
                let check = link_bedrock::GuardrailCheck::new(self.bedrock().await, guardrail)?;
                Ok(Some(Arc::new(check)))
            }
            #[allow(unreachable_patterns)]
            other => Err(Error::Config {
                message: format!(
                    "{0} moderation is not in this build: enable link's `{0}` cargo feature",
                    other.as_str()
                ),
            }),
        }
    }

    #[cfg(feature = "local")]
    async fn local(&mut self, config: &Config) -> Result<link_local::LocalModel> {
        if let Some(model) = &self.local {
            return Ok(model.clone());
        }
        let path = config
            .model_path
            .clone()
            .unwrap_or_else(link_local::default_model_path);
        if !path.exists() {
            return Err(Error::Config {
                message: format!(
                    "the local model file {} is missing: run scripts/fetch-model.sh or set LINK_MODEL_PATH",
                    path.display()
                ),
            });
        }
        let mut local = link_local::LocalConfig::new(path);
        if let Some(threads) = config.local_threads {
            local = local.with_threads(threads);
        }
        if let Some(tokens) = config.context_window {
            local = local.with_context_tokens(tokens);
        }
        let model = link_local::LocalModel::load_async(local).await?;
        self.local = Some(model.clone());
        Ok(model)
    }

    #[cfg(feature = "bedrock")]
    async fn bedrock(&mut self) -> link_bedrock::aws_sdk_bedrockruntime::Client {
        if let Some(client) = &self.bedrock {
            return client.clone();
        }
        let client = link_bedrock::client_from_env().await;
        self.bedrock = Some(client.clone());
        client
    }
}

#[allow(dead_code)]
fn not_built(provider: Provider) -> Error {
    Error::Config {
        message: format!(
            "the {0} provider is not in this build: enable link's `{0}` cargo feature",
            provider.as_str()
        ),
    }
}

#[cfg(feature = "openai")]
fn openai_config(config: &Config, secrets: &Secrets) -> Result<link_openai::OpenAiConfig> {
    use secrecy::ExposeSecret;
    let mut builder =
        link_openai::OpenAiConfigBuilder::default().model(config.openai_model.clone());
    if let Some(key) = &secrets.openai_api_key {
        builder = builder.api_key(key.expose_secret());
    }
    if let Some(url) = &config.openai_base_url {
        builder = builder.base_url(url.clone());
    }
    if let Some(organization) = &config.openai_organization {
        builder = builder.organization(organization.clone());
    }
    if let Some(project) = &config.openai_project {
        builder = builder.project(project.clone());
    }
    builder.build()
}

#[cfg(feature = "bedrock")]
fn bedrock_chat(
    config: &Config,
    client: link_bedrock::aws_sdk_bedrockruntime::Client,
) -> Result<link_bedrock::BedrockChatModel> {
    let model = link_bedrock::BedrockChatModel::new(client).with_model(&config.bedrock_model)?;
    let model = match config.context_window {
        Some(tokens) => model.with_context_window(tokens as usize),
        None => model,
    };
    match &config.guardrail_id {
        Some(id) => {
            model.with_guardrail(link_bedrock::Guardrail::new(id, &config.guardrail_version))
        }
        None => Ok(model),
    }
}
