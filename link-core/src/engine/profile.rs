//! Who the user is: their default user persona, and a conversation's own settings.

use super::Link;
use super::action::Action;
use crate::{
    AuditAction, Conversation, ConversationId, ConversationPatch, RequestContext, Result,
    UserPersona,
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
    /// Returns it as stored (trimmed).
    pub async fn set_user_persona(
        &self,
        ctx: &RequestContext,
        persona: Option<UserPersona>,
    ) -> Result<Option<UserPersona>> {
        let action = Action::new(AuditAction::SetUserPersona);
        self.act(ctx, action, async |_| {
            let persona = persona.map(UserPersona::validated).transpose()?;
            self.store
                .set_user_persona(&ctx.principal.sub, persona.clone())
                .await?;
            Ok(persona)
        })
        .await
    }

    /// Changes a conversation's settings (its own user persona) and returns it.
    pub async fn update_conversation(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        mut patch: ConversationPatch,
    ) -> Result<Conversation> {
        let action = Action::new(AuditAction::UpdateConversation).on(id);
        self.act(ctx, action, async |_| {
            patch.user_persona = match patch.user_persona.take() {
                Some(Some(persona)) => Some(Some(persona.validated()?)),
                other => other,
            };
            self.store.update(&ctx.principal.sub, id, &patch).await
        })
        .await
    }
}
