//! Every port through `Arc<T>` and `Box<T>`, as object_store does for its `ObjectStore`: a
//! caller that takes `impl ChatModel` accepts an `Arc<dyn ChatModel>` or a shared concrete
//! model as they are.
//!
//! Each impl forwards every method, also the ones with default bodies: otherwise an
//! `Arc<SqliteStore>` would silently fall back to the default `append_all` (one write per
//! message) instead of the store's own transaction, and an `Arc<BedrockChatModel>` would
//! stream by wrapping `complete`.

use std::sync::Arc;

use async_trait::async_trait;

use super::{
    AuditSink, Authenticator, ChatModel, ConversationStore, PersonaExtractor, RateDecision,
    RateLimiter, StoreUsage,
};
use crate::moderation::{Moderator, TextSource, Verdict};
use crate::{
    AuditEvent, Avatar, ChatRequest, ChatResponse, ChatStream, Conversation, ConversationId,
    ConversationPatch, ConversationTokens, Message, Month, Page, PageRequest, Persona, Principal,
    Result, Splice, UserPersona,
};

/// Implements the ports for `$wrapper<T>` (a smart pointer that derefs to `T`).
macro_rules! forward_ports {
    ($wrapper:ident) => {
        #[async_trait]
        impl<T: PersonaExtractor + ?Sized> PersonaExtractor for $wrapper<T> {
            async fn extract(&self, request: &str) -> Result<Persona> {
                (**self).extract(request).await
            }

            fn model_id(&self) -> String {
                (**self).model_id()
            }
        }

        #[async_trait]
        impl<T: ChatModel + ?Sized> ChatModel for $wrapper<T> {
            async fn complete(&self, request: ChatRequest) -> Result<ChatResponse> {
                (**self).complete(request).await
            }

            async fn stream(&self, request: ChatRequest) -> Result<ChatStream> {
                (**self).stream(request).await
            }

            fn model_id(&self) -> String {
                (**self).model_id()
            }

            fn prompt_style(&self) -> crate::prompt::PromptStyle {
                (**self).prompt_style()
            }

            fn context_window(&self) -> usize {
                (**self).context_window()
            }

            fn token_counter(&self) -> Arc<dyn crate::TokenCounter> {
                (**self).token_counter()
            }
        }

        #[async_trait]
        impl<T: Authenticator + ?Sized> Authenticator for $wrapper<T> {
            async fn authenticate(&self, token: &str) -> Result<Principal> {
                (**self).authenticate(token).await
            }
        }

        impl<T: RateLimiter + ?Sized> RateLimiter for $wrapper<T> {
            fn check(&self, principal: &Principal) -> RateDecision {
                (**self).check(principal)
            }

            fn check_n(&self, principal: &Principal, cost: u32) -> RateDecision {
                (**self).check_n(principal, cost)
            }

            fn tokens_exhausted(&self, principal: &Principal) -> Option<std::time::Duration> {
                (**self).tokens_exhausted(principal)
            }

            fn spend_tokens(&self, principal: &Principal, tokens: u64) {
                (**self).spend_tokens(principal, tokens)
            }

            fn admit(&self, principal: &Principal, cost: u32, model_call: bool) -> RateDecision {
                (**self).admit(principal, cost, model_call)
            }
        }

        #[async_trait]
        impl<T: Moderator + ?Sized> Moderator for $wrapper<T> {
            async fn check(&self, text: &str, source: TextSource) -> Result<Verdict> {
                (**self).check(text, source).await
            }
        }

        #[async_trait]
        impl<T: AuditSink + ?Sized> AuditSink for $wrapper<T> {
            async fn record(&self, event: &AuditEvent) -> Result<()> {
                (**self).record(event).await
            }
        }

        #[async_trait]
        impl<T: ConversationStore + ?Sized> ConversationStore for $wrapper<T> {
            async fn create(
                &self,
                conversation: &Conversation,
                messages: &[Message],
            ) -> Result<()> {
                (**self).create(conversation, messages).await
            }

            async fn get(&self, owner: &str, id: ConversationId) -> Result<Option<Conversation>> {
                (**self).get(owner, id).await
            }

            async fn list(&self, owner: &str, page: &PageRequest) -> Result<Page<Conversation>> {
                (**self).list(owner, page).await
            }

            async fn update(
                &self,
                owner: &str,
                id: ConversationId,
                patch: &ConversationPatch,
            ) -> Result<Conversation> {
                (**self).update(owner, id, patch).await
            }

            async fn splice(&self, owner: &str, id: ConversationId, splice: &Splice) -> Result<()> {
                (**self).splice(owner, id, splice).await
            }

            async fn user_persona(&self, owner: &str) -> Result<Option<UserPersona>> {
                (**self).user_persona(owner).await
            }

            async fn set_user_persona(
                &self,
                owner: &str,
                persona: Option<UserPersona>,
            ) -> Result<()> {
                (**self).set_user_persona(owner, persona).await
            }

            async fn delete(&self, owner: &str, id: ConversationId) -> Result<bool> {
                (**self).delete(owner, id).await
            }

            async fn append(
                &self,
                owner: &str,
                id: ConversationId,
                message: &Message,
            ) -> Result<()> {
                (**self).append(owner, id, message).await
            }

            async fn append_all(
                &self,
                owner: &str,
                id: ConversationId,
                messages: &[Message],
            ) -> Result<()> {
                (**self).append_all(owner, id, messages).await
            }

            async fn messages(
                &self,
                owner: &str,
                id: ConversationId,
                last: Option<usize>,
            ) -> Result<Vec<Message>> {
                (**self).messages(owner, id, last).await
            }

            async fn usage(
                &self,
                owner: &str,
                conversation: Option<ConversationId>,
            ) -> Result<StoreUsage> {
                (**self).usage(owner, conversation).await
            }

            async fn token_usage(
                &self,
                owner: &str,
                month: Month,
            ) -> Result<Vec<ConversationTokens>> {
                (**self).token_usage(owner, month).await
            }

            async fn turn_state(
                &self,
                owner: &str,
                id: ConversationId,
                window: usize,
            ) -> Result<super::TurnState> {
                (**self).turn_state(owner, id, window).await
            }

            async fn avatar(&self, owner: &str, id: ConversationId) -> Result<Option<Avatar>> {
                (**self).avatar(owner, id).await
            }

            async fn set_avatar(
                &self,
                owner: &str,
                id: ConversationId,
                avatar: Option<Avatar>,
            ) -> Result<()> {
                (**self).set_avatar(owner, id, avatar).await
            }

            async fn ping(&self) -> Result<()> {
                (**self).ping().await
            }
        }
    };
}

forward_ports!(Arc);
forward_ports!(Box);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use futures::StreamExt;

    use super::*;
    use crate::testing::{RecordingAuditSink, ScriptedExtractor};
    use crate::{ChatEvent, Error, MemoryStore, PersonaKind, Role, StopReason, Unlimited};

    /// A model whose `stream` differs from the default (which would wrap `complete`), so a
    /// wrapper that does not forward it is caught.
    #[derive(Debug)]
    struct OwnStream;

    #[async_trait]
    impl ChatModel for OwnStream {
        async fn complete(&self, _request: ChatRequest) -> Result<ChatResponse> {
            Ok(ChatResponse {
                text: "whole".into(),
                stop_reason: StopReason::EndTurn,
                usage: None,
            })
        }

        async fn stream(&self, _request: ChatRequest) -> Result<ChatStream> {
            let events = [" own", " stream"].map(|text| {
                Ok(ChatEvent::Delta {
                    text: text.to_owned(),
                })
            });
            Ok(futures::stream::iter(events).boxed())
        }

        fn model_id(&self) -> String {
            "own-stream".into()
        }

        fn context_window(&self) -> usize {
            1234
        }

        fn token_counter(&self) -> Arc<dyn crate::TokenCounter> {
            Arc::new(Doubled)
        }
    }

    /// A counter unlike the default, so a wrapper that does not forward it is caught.
    #[derive(Debug)]
    struct Doubled;

    impl crate::TokenCounter for Doubled {
        fn count(&self, text: &str) -> usize {
            text.len() * 2
        }
    }

    /// A store that overrides the defaulted methods: `ping` reports it is down, `append_all`
    /// refuses, where the defaults would succeed, and `usage` counts seven conversations
    /// where the default would count none.
    #[derive(Debug, Default)]
    struct OwnDefaults(MemoryStore);

    #[async_trait]
    impl ConversationStore for OwnDefaults {
        async fn create(&self, conversation: &Conversation, messages: &[Message]) -> Result<()> {
            self.0.create(conversation, messages).await
        }
        async fn get(&self, owner: &str, id: ConversationId) -> Result<Option<Conversation>> {
            self.0.get(owner, id).await
        }
        async fn list(&self, owner: &str, page: &PageRequest) -> Result<Page<Conversation>> {
            self.0.list(owner, page).await
        }
        async fn update(
            &self,
            owner: &str,
            id: ConversationId,
            patch: &ConversationPatch,
        ) -> Result<Conversation> {
            self.0.update(owner, id, patch).await
        }
        async fn splice(&self, owner: &str, id: ConversationId, splice: &Splice) -> Result<()> {
            self.0.splice(owner, id, splice).await
        }
        async fn user_persona(&self, owner: &str) -> Result<Option<UserPersona>> {
            self.0.user_persona(owner).await
        }
        async fn set_user_persona(&self, owner: &str, p: Option<UserPersona>) -> Result<()> {
            self.0.set_user_persona(owner, p).await
        }
        async fn delete(&self, owner: &str, id: ConversationId) -> Result<bool> {
            self.0.delete(owner, id).await
        }
        async fn append(&self, owner: &str, id: ConversationId, message: &Message) -> Result<()> {
            self.0.append(owner, id, message).await
        }
        async fn append_all(&self, _: &str, _: ConversationId, _: &[Message]) -> Result<()> {
            Err(Error::storage("own append_all"))
        }
        async fn messages(
            &self,
            owner: &str,
            id: ConversationId,
            last: Option<usize>,
        ) -> Result<Vec<Message>> {
            self.0.messages(owner, id, last).await
        }
        async fn ping(&self) -> Result<()> {
            Err(Error::storage("own ping"))
        }
        async fn token_usage(&self, owner: &str, month: Month) -> Result<Vec<ConversationTokens>> {
            self.0.token_usage(owner, month).await
        }
        async fn avatar(&self, owner: &str, id: ConversationId) -> Result<Option<Avatar>> {
            self.0.avatar(owner, id).await
        }
        async fn set_avatar(&self, o: &str, id: ConversationId, a: Option<Avatar>) -> Result<()> {
            self.0.set_avatar(o, id, a).await
        }
        async fn usage(&self, _: &str, _: Option<ConversationId>) -> Result<StoreUsage> {
            Ok(OWN_USAGE)
        }
    }

    const OWN_USAGE: StoreUsage = StoreUsage {
        conversations: 7,
        bytes: 0,
        messages: 0,
    };

    fn audit_event() -> AuditEvent {
        AuditEvent {
            timestamp: crate::now(),
            request_id: crate::RequestId::generate(),
            client_request_id: None,
            sub: "alice".into(),
            action: crate::AuditAction::ListConversations,
            conversation_id: None,
            outcome: crate::AuditOutcome::Ok,
            error: None,
            latency_ms: 1.0,
            model: None,
            usage: None,
            input: None,
            prompt: None,
            response: None,
        }
    }

    fn request() -> ChatRequest {
        let persona = Persona::new("Ada", PersonaKind::Historical, "A mathematician.", "Hello.");
        crate::PromptBuilder::default().build(&persona, &[Message::new(Role::User, "Hi")])
    }

    /// Takes the port as `impl ChatModel`, as generic embedders do.
    async fn streamed_text(model: impl ChatModel) -> String {
        let events = model.stream(request()).await.unwrap();
        events
            .filter_map(|event| async move {
                match event.unwrap() {
                    ChatEvent::Delta { text } => Some(text),
                    _ => None,
                }
            })
            .collect()
            .await
    }

    async fn defaults_of(store: impl ConversationStore) -> (Result<()>, Result<()>) {
        let id = ConversationId::new();
        let ping = store.ping().await;
        let append_all = store.append_all("alice", id, &[]).await;
        (ping, append_all)
    }

    #[tokio::test]
    async fn wrapped_models_keep_their_own_stream() {
        let shared: Arc<dyn ChatModel> = Arc::new(OwnStream);
        assert_eq!(streamed_text(shared.clone()).await, " own stream");
        assert_eq!(streamed_text(Arc::new(OwnStream)).await, " own stream");
        assert_eq!(streamed_text(Box::new(OwnStream)).await, " own stream");
        let boxed: Box<dyn ChatModel> = Box::new(OwnStream);
        assert_eq!(streamed_text(boxed).await, " own stream");
        assert_eq!(Arc::new(OwnStream).model_id(), "own-stream");
        // The forward of `complete` reaches the model's own, too.
        assert_eq!(shared.complete(request()).await.unwrap().text, "whole");
        // So do its context window and token counter, through Arc and Box.
        let boxed: Arc<dyn ChatModel> = Arc::new(Box::new(OwnStream) as Box<dyn ChatModel>);
        for model in [shared, boxed] {
            assert_eq!(model.context_window(), 1234);
            assert_eq!(model.token_counter().count("ab"), 4);
        }
    }

    #[tokio::test]
    async fn wrapped_stores_keep_their_own_ping_and_append_all() {
        let own = |message: &str| Err(Error::storage(message));
        let expected = (own("own ping"), own("own append_all"));
        let shared: Arc<dyn ConversationStore> = Arc::new(OwnDefaults::default());
        assert_eq!(defaults_of(shared).await, expected);
        assert_eq!(
            defaults_of(Arc::new(OwnDefaults::default())).await,
            expected
        );
        assert_eq!(
            defaults_of(Box::new(OwnDefaults::default())).await,
            expected
        );
    }

    #[tokio::test]
    async fn wrapped_stores_keep_their_own_usage() {
        async fn usage_of(store: impl ConversationStore) -> StoreUsage {
            store.usage("alice", None).await.unwrap()
        }
        let shared: Arc<dyn ConversationStore> = Arc::new(OwnDefaults::default());
        assert_eq!(usage_of(shared).await, OWN_USAGE);
        let boxed: Box<dyn ConversationStore> = Box::new(OwnDefaults::default());
        assert_eq!(usage_of(boxed).await, OWN_USAGE);
        assert_eq!(usage_of(Arc::new(OwnDefaults::default())).await, OWN_USAGE);
    }

    /// A limiter whose every method answers on its own: 10 a period, weighed, and a token
    /// quota that any spending uses up.
    #[derive(Debug, Default)]
    struct OwnLimits {
        spent: std::sync::Mutex<u64>,
    }

    impl RateLimiter for OwnLimits {
        fn check(&self, _: &Principal) -> RateDecision {
            self.check_n(&Principal::new("x"), 1)
        }
        fn check_n(&self, _: &Principal, cost: u32) -> RateDecision {
            RateDecision::Allowed {
                limit: 10,
                remaining: 10 - cost,
            }
        }
        fn tokens_exhausted(&self, _: &Principal) -> Option<std::time::Duration> {
            (*self.spent.lock().unwrap() > 0).then_some(std::time::Duration::from_secs(7))
        }
        fn spend_tokens(&self, _: &Principal, tokens: u64) {
            *self.spent.lock().unwrap() += tokens;
        }
    }

    #[test]
    fn wrapped_limiters_keep_their_weights_and_quota() {
        fn weigh_and_spend(limiter: impl RateLimiter) -> (RateDecision, RateDecision) {
            let alice = Principal::new("alice");
            let weighed = limiter.check_n(&alice, 3);
            limiter.spend_tokens(&alice, 5);
            (weighed, limiter.admit(&alice, 1, true))
        }
        let expected = (
            RateDecision::Allowed {
                limit: 10,
                remaining: 7,
            },
            RateDecision::Exhausted {
                retry_after: std::time::Duration::from_secs(7),
            },
        );
        assert_eq!(weigh_and_spend(Arc::new(OwnLimits::default())), expected);
        let boxed: Box<dyn RateLimiter> = Box::new(OwnLimits::default());
        assert_eq!(weigh_and_spend(boxed), expected);
    }

    #[tokio::test]
    async fn the_ports_without_defaults_forward_too() {
        async fn extract(extractor: impl PersonaExtractor) -> Persona {
            extractor.extract("Ada Lovelace").await.unwrap()
        }
        fn check(limiter: impl RateLimiter) -> RateDecision {
            limiter.check(&Principal::new("alice"))
        }
        async fn record(sink: impl AuditSink, event: &AuditEvent) {
            sink.record(event).await.unwrap();
        }

        let extractor: Arc<dyn PersonaExtractor> = Arc::new(ScriptedExtractor::default());
        assert_eq!(extract(extractor).await.name, "Ada Lovelace");
        let unlimited = RateDecision::Allowed {
            limit: u32::MAX,
            remaining: u32::MAX,
        };
        let limiter: Box<dyn RateLimiter> = Box::new(Unlimited);
        assert_eq!(check(limiter), unlimited);
        assert_eq!(check(Arc::new(Unlimited)), unlimited);

        async fn moderate(moderator: impl Moderator) -> Verdict {
            moderator
                .check("a dragon", TextSource::Input)
                .await
                .unwrap()
        }
        let moderator = crate::testing::ScriptedModerator::blocking([("dragon", "violence")]);
        let blocked = Verdict::blocked(["violence"]);
        assert_eq!(moderate(Arc::new(moderator.clone())).await, blocked);
        let boxed: Box<dyn Moderator> = Box::new(moderator);
        assert_eq!(moderate(boxed).await, blocked);

        let sink = RecordingAuditSink::default();
        let event = audit_event();
        record(Arc::new(sink.clone()), &event).await;
        record(Box::new(sink.clone()) as Box<dyn AuditSink>, &event).await;
        assert_eq!(sink.events(), vec![event.clone(), event]);
    }
}
