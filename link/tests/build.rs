//! From settings to an engine: the settings parse from environment names, and the engine
//! built from them keeps conversations in the configured SQLite file and limits each user.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use link::testing::{ScriptedChatModel, ScriptedExtractor, ScriptedModerator};
use link::{
    AuthConfig, AuthMode, Config, Error, Models, ModerationProvider, PersonaSource, Principal,
    Provider, RequestContext, Secrets,
};

fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| {
        pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    }
}

fn scripted() -> Models {
    Models {
        extractor: Arc::new(ScriptedExtractor::default()),
        chat: Arc::new(ScriptedChatModel::replying(["Elementary."])),
        summariser: None,
        moderator: None,
    }
}

#[test]
fn settings_parse_from_their_environment_names() {
    let config = Config::from_lookup(lookup(&[
        ("LINK_PERSONA_PROVIDER", "bedrock"),
        ("LINK_CHAT_PROVIDER", "openai"),
        ("LINK_RATE_LIMIT_PER_MINUTE", "7"),
        ("OPENAI_BASE_URL", "http://127.0.0.1:1/v1"),
        ("LINK_CONTEXT_WINDOW", "4096"),
    ]))
    .unwrap();
    assert_eq!(config.context_window, Some(4096));
    assert_eq!(config.persona_provider, Provider::Bedrock);
    assert_eq!(config.chat_provider, Provider::Openai);
    assert_eq!(config.rate_limit_per_minute, 7);
    assert_eq!(
        config.openai_base_url.as_deref(),
        Some("http://127.0.0.1:1/v1")
    );
    assert_eq!(
        config.history_window, 200,
        "unset names keep their defaults"
    );

    let Err(Error::Config { message }) =
        Config::from_lookup(lookup(&[("LINK_CHAT_PROVIDER", "magic")]))
    else {
        panic!("an unknown provider must be a configuration error");
    };
    assert!(message.contains("magic"), "{message}");
    // A window too small to hold a prompt is refused at start.
    let small = Config::from_lookup(lookup(&[("LINK_CONTEXT_WINDOW", "512")]));
    assert!(matches!(small, Err(Error::Config { .. })), "{small:?}");
}

#[test]
fn secrets_never_show_in_debug_output() {
    let secrets = Secrets::from_lookup(lookup(&[
        ("OPENAI_API_KEY", "sk-very-secret"),
        ("LINK_DEV_SECRET", "0123456789abcdef0123456789abcdef"),
        ("COGNITO_CLIENT_SECRET", " "),
    ]));
    let shown = format!("{secrets:?}");
    assert!(!shown.contains("sk-very-secret"), "{shown}");
    assert!(!shown.contains("0123456789abcdef"), "{shown}");
    assert!(
        secrets.cognito_client_secret.is_none(),
        "blank counts as unset"
    );
}

#[tokio::test]
async fn the_engine_keeps_conversations_in_the_configured_database() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("link.sqlite");
    let config = Config::from_lookup(|name| {
        (name == "LINK_DATABASE").then(|| database.display().to_string())
    })
    .unwrap();
    let ctx = RequestContext::new(Principal::new("alice"));
    let id = {
        let engine = config.build_with(scripted()).await.unwrap();
        let started = engine
            .create_conversation(&ctx, PersonaSource::Request("Sherlock Holmes".into()))
            .await
            .unwrap();
        let reply = engine
            .send(&ctx, started.conversation.id, "Who are you?")
            .await
            .unwrap();
        assert_eq!(reply.message.content, "Elementary.");
        started.conversation.id
    };
    assert!(database.exists());
    let reopened = config.build_with(scripted()).await.unwrap();
    let detail = reopened.get_conversation(&ctx, id).await.unwrap();
    assert_eq!(
        detail.messages.len(),
        3,
        "greeting, message and reply survive"
    );
}

#[tokio::test]
async fn the_engine_limits_each_user_at_the_configured_rate() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("link.sqlite");
    let config = Config::from_lookup(|name| match name {
        "LINK_DATABASE" => Some(database.display().to_string()),
        "LINK_RATE_LIMIT_PER_MINUTE" => Some("2".into()),
        _ => None,
    })
    .unwrap();
    let engine = config.build_with(scripted()).await.unwrap();
    let alice = RequestContext::new(Principal::new("alice"));
    engine
        .list_conversations(&alice, &Default::default())
        .await
        .unwrap();
    engine
        .list_conversations(&alice, &Default::default())
        .await
        .unwrap();
    assert!(matches!(
        engine.list_conversations(&alice, &Default::default()).await,
        Err(Error::RateLimited { .. })
    ));
    let bob = RequestContext::new(Principal::new("bob"));
    engine
        .list_conversations(&bob, &Default::default())
        .await
        .unwrap();
}

#[test]
fn dev_auth_mints_tokens_its_authenticator_accepts() {
    let auth = AuthConfig {
        auth: Some(AuthMode::Dev),
        cognito_region: None,
        cognito_user_pool_id: None,
        cognito_client_id: None,
        cognito_jwks_url: None,
        cognito_token_use: link::TokenUseArg::Any,
        token_cache: 0,
    };
    let secrets = Secrets::from_lookup(lookup(&[(
        "LINK_DEV_SECRET",
        "0123456789abcdef0123456789abcdef",
    )]));
    let built = auth.build(&secrets).unwrap();
    let dev = built.dev.expect("dev mode mints tokens");
    let token = dev.authenticator.mint_for_username("alice").unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let principal = runtime
        .block_on(built.authenticator.authenticate(&token))
        .unwrap();
    assert_eq!(principal.sub, link::auth::dev_subject("alice"));
}

#[test]
fn cognito_auth_names_what_it_is_missing() {
    let mut auth = AuthConfig {
        auth: Some(AuthMode::Cognito),
        cognito_region: Some("us-east-1".into()),
        cognito_user_pool_id: None,
        cognito_client_id: Some("client".into()),
        cognito_jwks_url: None,
        cognito_token_use: link::TokenUseArg::Id,
        token_cache: link::auth::DEFAULT_TOKEN_CACHE,
    };
    let Err(Error::Config { message }) = auth.build(&Secrets::default()) else {
        panic!("a missing pool id must be a configuration error");
    };
    assert!(message.contains("COGNITO_USER_POOL_ID"), "{message}");
    auth.cognito_user_pool_id = Some("us-east-1_Example".into());
    assert!(auth.build(&Secrets::default()).unwrap().dev.is_none());
}

#[test]
fn both_settings_groups_flatten_into_one_command_line() {
    use clap::{CommandFactory, Parser};
    #[derive(Parser)]
    struct Both {
        #[command(flatten)]
        engine: Config,
        #[command(flatten)]
        auth: AuthConfig,
    }
    Both::command().debug_assert();
    let both =
        Both::try_parse_from(["x", "--auth", "cognito", "--chat-provider", "openai"]).unwrap();
    assert_eq!(both.auth.auth, Some(AuthMode::Cognito));
    assert_eq!(both.engine.chat_provider, Provider::Openai);
    let unset = Both::try_parse_from(["x"]).unwrap();
    assert_eq!(unset.auth.auth, None, "an unset LINK_AUTH stays visible");
    assert_eq!(unset.auth.mode(), AuthMode::Dev);
}

#[test]
fn moderation_defaults_follow_the_chat_provider() {
    let moderation = |pairs: &'static [(&'static str, &'static str)]| {
        let config = Config::from_lookup(lookup(pairs)).unwrap();
        (
            config.moderation(),
            config.chat_moderates_turns(),
            config.unmoderated_note().is_some(),
        )
    };
    // OpenAI's own API has a moderation endpoint; a compatible server does not.
    assert_eq!(
        moderation(&[("LINK_CHAT_PROVIDER", "openai")]),
        (ModerationProvider::Openai, false, false)
    );
    assert_eq!(
        moderation(&[
            ("LINK_CHAT_PROVIDER", "openai"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"),
        ]),
        (ModerationProvider::None, false, true)
    );
    // Bedrock with a guardrail: Converse checks the turns, the moderator the personas.
    assert_eq!(
        moderation(&[
            ("LINK_CHAT_PROVIDER", "bedrock"),
            ("LINK_GUARDRAIL_ID", "gr-abc"),
        ]),
        (ModerationProvider::Bedrock, true, false)
    );
    assert_eq!(
        moderation(&[("LINK_CHAT_PROVIDER", "bedrock")]),
        (ModerationProvider::None, false, true)
    );
    // Local chat is unmoderated (and says so) unless a moderation is chosen.
    assert_eq!(moderation(&[]), (ModerationProvider::None, false, true));
    assert_eq!(
        moderation(&[("LINK_MODERATION", "openai")]),
        (ModerationProvider::Openai, false, false)
    );
    assert_eq!(
        moderation(&[
            ("LINK_CHAT_PROVIDER", "openai"),
            ("LINK_MODERATION", "none")
        ]),
        (ModerationProvider::None, false, false)
    );
    let config = Config::from_lookup(lookup(&[("LINK_CHAT_PROVIDER", "openai")])).unwrap();
    assert!(
        config.summary().contains("moderation=openai"),
        "{}",
        config.summary()
    );
    assert!(Config::from_lookup(lookup(&[("LINK_MODERATION", "maybe")])).is_err());
}

#[tokio::test]
async fn the_engine_uses_the_moderator_of_its_models() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("link.sqlite");
    let config = Config::from_lookup(|name| {
        (name == "LINK_DATABASE").then(|| database.display().to_string())
    })
    .unwrap();
    let mut models = scripted();
    models.moderator = Some(Arc::new(ScriptedModerator::blocking([("poison", "harm")])));
    let engine = config.build_with(models).await.unwrap();
    let ctx = RequestContext::new(Principal::new("alice"));
    let source = PersonaSource::Request("Sherlock Holmes".into());
    let id = engine
        .create_conversation(&ctx, source)
        .await
        .unwrap()
        .conversation
        .id;
    let error = engine.send(&ctx, id, "Which poison?").await.unwrap_err();
    assert_eq!(
        error,
        Error::ContentBlocked {
            categories: vec!["harm".into()]
        }
    );
    assert_eq!(
        engine
            .send(&ctx, id, "Hello")
            .await
            .unwrap()
            .message
            .content,
        "Elementary."
    );
}

#[cfg(feature = "openai")]
#[tokio::test]
async fn a_summary_model_is_the_chat_providers_with_its_own_id() {
    let secrets = Secrets::from_lookup(lookup(&[("OPENAI_API_KEY", "sk-test")]));
    let config = Config::from_lookup(lookup(&[
        ("LINK_PERSONA_PROVIDER", "openai"),
        ("LINK_CHAT_PROVIDER", "openai"),
        ("LINK_OPENAI_MODEL", "gpt-4o"),
        ("LINK_SUMMARY_MODEL", "gpt-4o-mini"),
        ("LINK_CONTEXT_WINDOW", "4096"),
        ("OPENAI_BASE_URL", "http://127.0.0.1:1/v1"),
    ]))
    .unwrap();
    let models = link::Models::build(&config, &secrets).await.unwrap();
    let summariser = models.summariser.expect("a summariser");
    assert_eq!(summariser.model_id(), "gpt-4o-mini");
    assert_eq!(models.chat.context_window(), 4096);
    assert!(
        summariser.context_window() > 4096,
        "its own window, not LINK_CONTEXT_WINDOW"
    );
    let unset = Config::from_lookup(lookup(&[
        ("LINK_PERSONA_PROVIDER", "openai"),
        ("LINK_CHAT_PROVIDER", "openai"),
    ]))
    .unwrap();
    let models = link::Models::build(&unset, &secrets).await.unwrap();
    assert!(models.summariser.is_none(), "the chat model summarises");
}

#[tokio::test]
async fn a_summary_model_for_the_local_provider_is_refused() {
    let config = Config::from_lookup(lookup(&[
        ("LINK_PERSONA_PROVIDER", "openai"),
        ("LINK_CHAT_PROVIDER", "local"),
        ("LINK_SUMMARY_MODEL", "other"),
        ("LINK_MODEL_PATH", "/nonexistent/model.gguf"),
    ]))
    .unwrap();
    let secrets = Secrets::from_lookup(lookup(&[("OPENAI_API_KEY", "sk-test")]));
    let Err(Error::Config { message }) = link::Models::build(&config, &secrets).await else {
        panic!("a summary model needs a provider with several models")
    };
    assert!(message.contains("LINK_SUMMARY_MODEL"), "{message}");
}
