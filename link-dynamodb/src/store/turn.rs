//! What a turn reads, in one round trip: a `BatchGetItem` of the conversation item, the
//! owner's totals and user persona, sent together with the `Query` of the newest messages.

use std::time::Duration;

use aws_sdk_dynamodb::types::KeysAndAttributes;
use link_core::{ConversationId, Error, Message, Result, TurnState, UserPersona};

use super::DynamoStore;
use super::totals::{self, Totals};
use crate::codec::{self, Item};
use crate::error::{build, busy, sdk};
use crate::keys;

/// How often keys DynamoDB left unprocessed (under throttling) are asked for again.
const UNPROCESSED_RETRIES: u32 = 5;

impl DynamoStore {
    /// [`ConversationStore::turn_state`](link_core::ConversationStore::turn_state) in one
    /// round trip (two requests sent at once); the conversation item is remembered for the
    /// turn's write.
    pub(super) async fn read_turn(
        &self,
        owner: &str,
        id: ConversationId,
        window: usize,
    ) -> Result<TurnState> {
        let keys = vec![
            codec::key(keys::owner(owner), keys::conversation(id)),
            totals::key(owner),
            codec::key(keys::owner(owner), keys::USER_PERSONA.to_owned()),
        ];
        let (items, messages) =
            tokio::try_join!(self.batch_get(keys), self.newest(owner, id, window))?;
        let with_sk = |sk: &str| codec::with_sk(&items, sk);
        let item =
            with_sk(&keys::conversation(id)).ok_or_else(|| Error::not_found("conversation"))?;
        let (conversation, counters) = codec::conversation(item)?;
        self.cache.put(owner, &conversation, &counters);
        let usage = Totals::of(with_sk(keys::TOTALS))?.usage(counters.messages);
        let user_persona = match &conversation.user_persona {
            Some(own) => Some(own.clone()),
            None => with_sk(keys::USER_PERSONA)
                .map(|item| codec::data::<UserPersona>(item, "user persona"))
                .transpose()?,
        };
        Ok(TurnState {
            conversation,
            messages,
            usage,
            user_persona,
        })
    }

    /// The newest `last` messages of a conversation, oldest first (none when it does not
    /// exist: the caller checks that).
    pub(super) async fn newest(
        &self,
        owner: &str,
        id: ConversationId,
        last: usize,
    ) -> Result<Vec<Message>> {
        if last == 0 {
            return Ok(Vec::new());
        }
        let from = keys::messages(id);
        let items = self
            .range(owner, from, keys::messages_end(id), false, Some(last))
            .await?;
        let mut messages = items
            .iter()
            .map(codec::message)
            .collect::<Result<Vec<_>>>()?;
        messages.reverse();
        Ok(messages)
    }

    /// The items of `keys` that exist, read consistently; keys DynamoDB leaves unprocessed
    /// are asked for again.
    pub(super) async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>> {
        let mut pending = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(true)
            .build()
            .map_err(build)?;
        let mut found = Vec::new();
        for round in 0..UNPROCESSED_RETRIES {
            let output = self
                .client
                .batch_get_item()
                .request_items(self.table(), pending)
                .send()
                .await
                .map_err(|e| sdk("BatchGetItem", e))?;
            let mut responses = output.responses.unwrap_or_default();
            found.extend(responses.remove(self.table()).unwrap_or_default());
            match output
                .unprocessed_keys
                .and_then(|mut u| u.remove(self.table()))
            {
                Some(rest) if !rest.keys().is_empty() => pending = rest,
                _ => return Ok(found),
            }
            tokio::time::sleep(Duration::from_millis(20 << round)).await;
        }
        Err(busy(
            "DynamoDB BatchGetItem: keys left unprocessed under throttling",
        ))
    }
}
