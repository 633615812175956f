//! What the caller's conversations cost in model tokens, per month.

use super::Link;
use super::action::Action;
use crate::{
    AuditAction, ConversationUsage, Month, MonthUsage, RequestContext, Result, TokenTally,
};

impl Link {
    /// The model tokens the caller's conversations used in `month` (UTC), the most tokens
    /// first, each with its character's name (`None` for a conversation deleted since: its
    /// tokens still count), and their total. These are the figures the model reported for
    /// each call, the same that the audit events carry and the daily token quota is spent
    /// with.
    pub async fn token_usage(&self, ctx: &RequestContext, month: Month) -> Result<MonthUsage> {
        let action = Action::new(AuditAction::GetTokenUsage);
        self.act(ctx, action, async |_| {
            let owner = &ctx.principal.sub;
            let tallies = self.store.token_usage(owner, month).await?;
            let mut total = TokenTally::default();
            let mut conversations = Vec::with_capacity(tallies.len());
            for tally in tallies {
                total.add(tally.tokens);
                // One read per conversation used this month: bounded by the conversation cap,
                // and each is a key lookup.
                let conversation = self.store.get(owner, tally.conversation).await?;
                conversations.push(ConversationUsage {
                    conversation: tally.conversation,
                    name: conversation.map(|c| c.persona.name),
                    tokens: tally.tokens,
                });
            }
            Ok(MonthUsage {
                month,
                total,
                conversations,
            })
        })
        .await
    }
}
