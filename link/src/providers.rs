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
    /// Writes conversations' rolling memory; `None`: the chat model does.
    pub summariser: Option<Arc<dyn ChatModel>>,
    /// Checks what users send and what the models write; `None`: nothing is checked.
    pub moderator: Option<Arc<dyn Moderator>>,
}

impl Models {
    /// Builds the providers and the moderator `config` names.
    pub async fn build(config: &Config, secrets: &Secrets) -> Result<Models> {
        check_summary_model(config)?;
        let mut built = Built::default();
        let extractor = built.extractor(config, secrets).await?;
        let chat = built.chat(config, secrets).await?;
        let summariser = built.summariser(config, secrets).await?;
        let moderator = built.moderator(config, secrets).await?;
        Ok(Models {
            extractor,
            chat,
            summariser,
            moderator,
        })
    }
}

/// Refuses a summary model for a chat provider that has only one model, before anything loads.
fn check_summary_model(config: &Config) -> Result<()> {
    match (&config.summary_model, config.chat_provider) {
        (None, _) | (Some(_), Provider::Openai | Provider::Bedrock) => Ok(()),
        (Some(_), _) => Err(summary_model_error(config)),
    }
}

fn summary_model_error(config: &Config) -> Error {
    Error::Config {
        message: format!(
            "LINK_SUMMARY_MODEL names a model of the chat provider, and the {} provider has \
             only the one model: unset it, or chat with openai or bedrock",
            config.chat_provider.as_str()
        ),
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

    /// The chat provider's model `summary_model` names, if set: the same provider and
    /// credentials as the chat model, its own model id and context window.
    async fn summariser(
        &mut self,
        config: &Config,
        secrets: &Secrets,
    ) -> Result<Option<Arc<dyn ChatModel>>> {
        let Some(model) = &config.summary_model else {
            return Ok(None);
        };
        let mut own = config.clone();
        own.context_window = None;
        match config.chat_provider {
            Provider::Openai => own.openai_model.clone_from(model),
            Provider::Bedrock => own.bedrock_model.clone_from(model),
            _ => return Err(summary_model_error(config)),
        }
        self.chat(&own, secrets).await.map(Some)
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
