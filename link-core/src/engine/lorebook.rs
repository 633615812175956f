//! A conversation's lorebook through the engine: read with the conversation, replaced or
//! removed by its owner within the lorebook's bounds, checked by the moderator.

use super::Link;
use super::action::Action;
use crate::moderation::TextSource;
use crate::{AuditAction, ConversationId, ConversationPatch, Lorebook, RequestContext, Result};

impl Link {
    /// The lorebook of one of the caller's conversations, if it has one.
    pub async fn lorebook(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
    ) -> Result<Option<Lorebook>> {
        let action = Action::new(AuditAction::GetConversation).on(id);
        self.act(ctx, action, async |_| {
            Ok(self.owned(ctx, id).await?.persona.lorebook)
        })
        .await
    }

    /// Replaces (or with `None`, removes) the lorebook of one of the caller's conversations
    /// and returns it as stored. It must keep the bounds of
    /// [`lorebook::limits`](crate::lorebook::limits)
    /// ([`Error::InvalidPersona`](crate::Error::InvalidPersona) lists what it breaks) and,
    /// with a persona moderator, pass it as the user's input like an imported card's.
    /// Audited as a change of the conversation's settings.
    pub async fn set_lorebook(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        lorebook: Option<Lorebook>,
    ) -> Result<Option<Lorebook>> {
        let action = Action::new(AuditAction::UpdateConversation).on(id);
        self.act(ctx, action, async |_| {
            let mut persona = self.owned(ctx, id).await?.persona;
            if let Some(book) = &lorebook {
                book.validate()?;
                persona.lorebook = Some(book.clone());
                self.moderate_persona(&persona, &[], TextSource::Input)
                    .await?;
            }
            let patch = ConversationPatch::default().lorebook(lorebook);
            let stored = self.store.update(&ctx.principal.sub, id, &patch).await?;
            Ok(stored.persona.lorebook)
        })
        .await
    }
}
