//! Who the user is: their default user persona, and a conversation's own settings.

use super::Link;
use super::action::Action;
use crate::{
    AuditAction, Conversation, ConversationId, ConversationMemory, ConversationPatch,
    RequestContext, Result, UserPersona,
};

impl Link {
    /// The caller's default user persona, if they set one.
    pub async fn user_persona(&self, ctx: &RequestContext) -> Result<Option<UserPersona>> {
        let action = Action::new(AuditAction::GetUserPersona);
        self.act(ctx, action, async |_| {
            self.store.user_persona(&ctx.principal.sub).await
        })
        .await
    }

    /// Sets (or with `None`, clears) the caller's default user persona: the name and
    /// description the character knows them by in every conversation without its own.
    /// Returns it as stored (trimmed). With a moderator it is checked first
    /// ([`Error::ContentBlocked`](crate::Error::ContentBlocked) if blocked).
    pub async fn set_user_persona(
        &self,
        ctx: &RequestContext,
        persona: Option<UserPersona>,
    ) -> Result<Option<UserPersona>> {
        let action = Action::new(AuditAction::SetUserPersona);
        self.act(ctx, action, async |_| {
            let persona = persona.map(UserPersona::validated).transpose()?;
            if let Some(persona) = &persona {
                self.moderate_user_persona(persona).await?;
            }
            self.store
                .set_user_persona(&ctx.principal.sub, persona.clone())
                .await?;
            Ok(persona)
        })
        .await
    }

    /// Changes a conversation's settings (its own user persona, checked by the moderator if
    /// there is one) or its memory (the summary, at most
    /// [`MAX_SUMMARY_CHARS`](crate::conversation_memory::MAX_SUMMARY_CHARS), and the pinned
    /// facts, within their bounds; both checked by the moderator as the owner's input) and
    /// returns it. Only the owner's edits go through here: what the summariser writes (the
    /// message the summary covers, the revision it expects) is dropped from `patch`.
    pub async fn update_conversation(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        mut patch: ConversationPatch,
    ) -> Result<Conversation> {
        let action = Action::new(AuditAction::UpdateConversation).on(id);
        self.act(ctx, action, async |_| {
            patch.user_persona = match patch.user_persona.take() {
                Some(Some(persona)) => {
                    let persona = persona.validated()?;
                    self.moderate_user_persona(&persona).await?;
                    Some(Some(persona))
                }
                other => other,
            };
            self.owner_memory(&mut patch).await?;
            self.store.update(&ctx.principal.sub, id, &patch).await
        })
        .await
    }

    /// The memory fields of an owner's `patch`, validated and moderated.
    async fn owner_memory(&self, patch: &mut ConversationPatch) -> Result<()> {
        patch.memory_covered_through = None;
        patch.expect_memory_revision = None;
        if let Some(summary) = patch.memory_summary.take() {
            let summary = ConversationMemory::validate_summary(&summary)?;
            if !summary.is_empty() {
                self.moderate_input(&summary).await?;
            }
            patch.memory_summary = Some(summary);
        }
        if let Some(facts) = patch.pinned_facts.take() {
            let facts = ConversationMemory::validate_pinned(facts)?;
            if !facts.is_empty() {
                self.moderate_input(&facts.join("\n")).await?;
            }
            patch.pinned_facts = Some(facts);
        }
        Ok(())
    }
}
