//! The engine in this process, built from the same configuration as link-server's.

use async_trait::async_trait;
use futures::StreamExt;
use link::auth::dev_subject;
use link::{Config, Secrets};
use link::{
    ConversationId, ConversationPatch, Link, MessageId, PageRequest, Persona, PersonaSource,
    Principal, RequestContext, Result, Rewind, TurnStream, UserPersona,
};
use link_wire::{
    ApiKeyBody, ApiKeyList, ConversationBody, ConversationList, ConversationSummary, CreatedApiKey,
    DoneEvent, MessageBody, UpdateConversation, UserPersonaBody,
};

use super::{Backend, ReplyEvent, ReplyStream};

/// The engine in-process, acting for a local user.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    link: Link,
    ctx: RequestContext,
}

impl LocalBackend {
    /// Builds providers, store and engine from the engine's configuration, as link-server
    /// does. Nobody presents a token in-process, so the user is `user`, with the subject
    /// link-server's dev mode gives the same name (both then see the same conversations).
    pub async fn new(config: &Config, user: &str) -> Result<Self> {
        let link = config.build(&Secrets::from_env()).await?;
        let mut principal = Principal::new(dev_subject(user));
        principal.username = Some(user.to_owned());
        Ok(Self {
            link,
            ctx: RequestContext::new(principal),
        })
    }
}

fn parse_id(id: &str) -> Result<ConversationId> {
    id.trim().parse()
}

#[async_trait]
impl Backend for LocalBackend {
    async fn extract_persona(&self, request: &str) -> Result<Persona> {
        self.link.extract_persona(&self.ctx, request).await
    }

    async fn create(&self, request: &str) -> Result<ConversationBody> {
        let source = PersonaSource::Request(request.to_owned());
        let detail = self.link.create_conversation(&self.ctx, source).await?;
        Ok(ConversationBody::from(detail))
    }

    async fn import_card(&self, card: Vec<u8>) -> Result<ConversationBody> {
        let card = link::card::read_any(&card)?;
        let detail = self.link.import_card(&self.ctx, card).await?;
        Ok(ConversationBody::from(detail))
    }

    async fn avatar(&self, id: &str) -> Result<Option<Vec<u8>>> {
        let avatar = self.link.avatar(&self.ctx, parse_id(id)?).await?;
        Ok(avatar.map(link::Avatar::into_bytes))
    }

    async fn list(&self) -> Result<ConversationList> {
        let page = PageRequest::default();
        let page = self.link.list_conversations(&self.ctx, &page).await?;
        Ok(ConversationList {
            conversations: page
                .items
                .into_iter()
                .map(ConversationSummary::from)
                .collect(),
            next_cursor: page.next.map(|c| c.as_str().to_owned()),
        })
    }

    async fn get(&self, id: &str) -> Result<ConversationBody> {
        let detail = self.link.get_conversation(&self.ctx, parse_id(id)?).await?;
        Ok(ConversationBody::from(detail))
    }

    async fn send_stream(&self, id: &str, text: &str) -> Result<ReplyStream> {
        let turn = self
            .link
            .send_stream(&self.ctx, parse_id(id)?, text)
            .await?;
        Ok(reply_events(turn))
    }

    async fn regenerate_stream(&self, id: &str) -> Result<ReplyStream> {
        let turn = self
            .link
            .regenerate_stream(&self.ctx, parse_id(id)?)
            .await?;
        Ok(reply_events(turn))
    }

    async fn resend_stream(&self, id: &str, message: &str, text: &str) -> Result<ReplyStream> {
        let (id, message) = (parse_id(id)?, parse_message(message)?);
        let turn = self
            .link
            .resend_stream(&self.ctx, id, message, text)
            .await?;
        Ok(reply_events(turn))
    }

    async fn choose(&self, id: &str, message: &str, index: usize) -> Result<MessageBody> {
        let (id, message) = (parse_id(id)?, parse_message(message)?);
        let chosen = self
            .link
            .choose_alternative(&self.ctx, id, message, index)
            .await?;
        Ok(MessageBody::from(chosen))
    }

    async fn rewind(&self, id: &str, turns: usize) -> Result<usize> {
        let id = parse_id(id)?;
        self.link.rewind(&self.ctx, id, Rewind::Turns(turns)).await
    }

    async fn fork(&self, id: &str) -> Result<ConversationBody> {
        let fork = self.link.fork(&self.ctx, parse_id(id)?, None).await?;
        Ok(ConversationBody::from(fork))
    }

    async fn user_persona(&self) -> Result<Option<UserPersonaBody>> {
        let persona = self.link.user_persona(&self.ctx).await?;
        Ok(persona.map(UserPersonaBody::from))
    }

    async fn update(&self, id: &str, change: UpdateConversation) -> Result<ConversationSummary> {
        let patch = ConversationPatch::from(change);
        let id = parse_id(id)?;
        let conversation = self.link.update_conversation(&self.ctx, id, patch).await?;
        Ok(ConversationSummary::from(conversation))
    }

    async fn set_user_persona(
        &self,
        persona: Option<UserPersonaBody>,
    ) -> Result<Option<UserPersonaBody>> {
        let persona = persona.map(UserPersona::from);
        let stored = self.link.set_user_persona(&self.ctx, persona).await?;
        Ok(stored.map(UserPersonaBody::from))
    }

    async fn create_key(&self, name: &str) -> Result<CreatedApiKey> {
        let issued = self.link.create_api_key(&self.ctx, name).await?;
        Ok(CreatedApiKey::from(issued))
    }

    async fn keys(&self) -> Result<ApiKeyList> {
        let keys = self.link.list_api_keys(&self.ctx).await?;
        let keys = keys.into_iter().map(ApiKeyBody::from).collect();
        Ok(ApiKeyList { keys })
    }

    async fn revoke_key(&self, id: &str) -> Result<()> {
        self.link.revoke_api_key(&self.ctx, id).await
    }
}

fn parse_message(id: &str) -> Result<MessageId> {
    id.trim().parse()
}

/// The engine's turn events as the CLI's reply events.
fn reply_events(turn: TurnStream) -> ReplyStream {
    turn.filter_map(|item| async move {
        match item {
            Ok(link::TurnEvent::Done {
                message,
                stop_reason,
                usage,
            }) => Some(Ok(ReplyEvent::Done(DoneEvent::new(
                &message,
                &stop_reason,
                usage,
            )))),
            Ok(link::TurnEvent::Delta { text }) => Some(Ok(ReplyEvent::Delta(text))),
            // Events this CLI does not know yet carry nothing it can show.
            Ok(_) => None,
            Err(error) => Some(Err(error)),
        }
    })
    .boxed()
}
