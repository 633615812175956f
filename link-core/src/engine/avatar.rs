//! A conversation's avatar through the engine: kept from an imported card, uploaded or
//! removed by the owner, copied to forks, read for the page and for PNG card exports.

use super::Link;
use super::action::Action;
use crate::card::ImportedCard;
use crate::{
    AuditAction, Avatar, ConversationDetail, ConversationId, PersonaSource, RequestContext, Result,
};

impl Link {
    /// Starts a conversation from a card read with [`card::read_any`](crate::card::read_any),
    /// keeping its avatar: as [`create_conversation`](Self::create_conversation) with
    /// [`PersonaSource::Card`], then the avatar is stored. An avatar over
    /// [`MAX_AVATAR_BYTES`](crate::MAX_AVATAR_BYTES) is refused before anything is created; if
    /// storing it fails, the new conversation is deleted again and the error returned.
    pub async fn import_card(
        &self,
        ctx: &RequestContext,
        card: ImportedCard,
    ) -> Result<ConversationDetail> {
        let avatar = card.avatar.map(Avatar::new).transpose()?;
        let source = PersonaSource::Card(Box::new(card.card));
        let detail = self.create_conversation(ctx, source).await?;
        if let Some(avatar) = avatar {
            self.attach_avatar(ctx, detail.conversation.id, avatar)
                .await?;
        }
        Ok(detail)
    }

    /// The avatar of one of the caller's conversations (`None` when it has none); another
    /// user's conversation is not found. Audited as reading the conversation.
    pub async fn avatar(&self, ctx: &RequestContext, id: ConversationId) -> Result<Option<Avatar>> {
        let action = Action::new(AuditAction::GetConversation).on(id);
        self.act(ctx, action, async |_| {
            self.store.avatar(&ctx.principal.sub, id).await
        })
        .await
    }

    /// Sets the avatar of one of the caller's conversations from a PNG image (decoded, and
    /// re-encoded without its text chunks, so only pixels are kept), or with `None` removes
    /// it. A broken image or one over [`MAX_AVATAR_BYTES`](crate::MAX_AVATAR_BYTES) is
    /// [`Error::InvalidRequest`](crate::Error::InvalidRequest). Audited as a change of the
    /// conversation's settings.
    pub async fn set_avatar(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        image: Option<&[u8]>,
    ) -> Result<()> {
        let action = Action::new(AuditAction::UpdateConversation).on(id);
        self.act(ctx, action, async |_| {
            let avatar = image.map(Avatar::from_image).transpose()?;
            self.store.set_avatar(&ctx.principal.sub, id, avatar).await
        })
        .await
    }

    /// Stores `avatar` for the conversation just created; if that fails, deletes the
    /// conversation (a half-made import or fork is worse than none) and returns the error.
    pub(super) async fn attach_avatar(
        &self,
        ctx: &RequestContext,
        id: ConversationId,
        avatar: Avatar,
    ) -> Result<()> {
        let owner = &ctx.principal.sub;
        let Err(error) = self.store.set_avatar(owner, id, Some(avatar)).await else {
            return Ok(());
        };
        if let Err(cleanup) = self.store.delete(owner, id).await {
            tracing::warn!(%cleanup, "a conversation whose avatar failed was not deleted");
        }
        Err(error)
    }
}
