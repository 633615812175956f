//! The engine in this process, built from the same configuration as link-server's.

use async_trait::async_trait;
use futures::StreamExt;
use link::auth::dev_subject;
use link::{Config, Secrets};
use link::{
    ConversationId, Link, PageRequest, Persona, PersonaSource, Principal, RequestContext, Result,
};
use link_wire::{ConversationBody, ConversationList, ConversationSummary, DoneEvent};

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
        let events = turn.filter_map(|item| async move {
            match item {
                Ok(link::TurnEvent::Delta { text }) => Some(Ok(ReplyEvent::Delta(text))),
                Ok(link::TurnEvent::Done {
                    message,
                    stop_reason,
                    usage,
                }) => Some(Ok(ReplyEvent::Done(DoneEvent::new(
                    &message,
                    &stop_reason,
                    usage,
                )))),
                // Events this CLI does not know yet carry nothing it can show.
                Ok(_) => None,
                Err(error) => Some(Err(error)),
            }
        });
        Ok(events.boxed())
    }
}
