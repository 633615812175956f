//! [`DynamoStore`]: the [`ConversationStore`] on one DynamoDB table.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};
use link_core::page::{decode_position, encode_position};
use link_core::splice::changed_meanwhile;
use link_core::token_usage::sort_tallies;
use link_core::{
    Avatar, Conversation, ConversationId, ConversationPatch, ConversationStore, ConversationTokens,
    Error, Message, Month, Page, PageRequest, Result, Splice, StoreUsage, TokenTally, UserPersona,
};

use crate::codec::{self, Counters, Item, n, s};
use crate::error::{build, busy, sdk};
use crate::keys;

mod append;
mod avatar;
mod cache;
mod totals;
mod turn;

/// DynamoDB's limit of actions in one `TransactWriteItems`.
pub const MAX_TRANSACTION_ITEMS: usize = 100;

/// How often a change that lost a race to another writer of the same conversation is read
/// again and retried before the store gives up with [`Error::Busy`].
const RACE_RETRIES: u32 = 8;

/// A [`ConversationStore`] on one DynamoDB table, shared by any number of instances.
///
/// See the [crate docs](crate) for the key schema. Every change of a conversation is one
/// `TransactWriteItems` conditioned on the conversation item's version, so concurrent
/// writers serialize: the loser reads again and re-applies its change, which then fails with
/// [`Error::Conflict`] only if the change's own checks (`expect_last`, a message's
/// `revision`) no longer hold.
///
/// ```no_run
/// # async fn demo() -> link_core::Result<()> {
/// use link_dynamodb::DynamoStore;
/// let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
/// let client = aws_sdk_dynamodb::Client::new(&config);
/// DynamoStore::create_table(&client, "link").await?;
/// let store = DynamoStore::new(client, "link");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Conversation items last read or written, shared by clones (see `cache.rs`).
    cache: std::sync::Arc<cache::ReadCache>,
}

/// What one attempt of a conditional change came to.
enum Attempt<T> {
    Done(T),
    /// Another writer changed the conversation first: read again and retry.
    Raced,
}

impl DynamoStore {
    /// A store on the existing table `table` (see [`create_table`](Self::create_table)).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            cache: std::sync::Arc::default(),
        }
    }

    /// Creates the table `name` if it does not exist (on-demand billing, the `updated`
    /// index, time to live on the `expires` attribute) and waits until it is active.
    /// Idempotent: running it against an existing table changes nothing.
    ///
    /// ```no_run
    /// # async fn demo(client: aws_sdk_dynamodb::Client) -> link_core::Result<()> {
    /// link_dynamodb::DynamoStore::create_table(&client, "link").await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_table(client: &Client, name: &str) -> Result<()> {
        crate::table::create(client, name).await
    }

    /// The table this store uses.
    pub fn table(&self) -> &str {
        &self.table
    }

    async fn get_item(&self, pk: String, sk: String) -> Result<Option<Item>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(codec::key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk("GetItem", e))?;
        Ok(output.item)
    }

    async fn conversation_item(
        &self,
        owner: &str,
        id: ConversationId,
    ) -> Result<Option<(Conversation, Counters)>> {
        let item = self
            .get_item(keys::owner(owner), keys::conversation(id))
            .await?;
        item.as_ref().map(codec::conversation).transpose()
    }

    async fn existing(&self, owner: &str, id: ConversationId) -> Result<(Conversation, Counters)> {
        self.conversation_item(owner, id)
            .await?
            .ok_or_else(|| Error::not_found("conversation"))
    }

    /// Items of `owner`'s partition whose sort key is in `from..=to`, in key order (or
    /// reverse), at most `limit` of them.
    async fn range(
        &self,
        owner: &str,
        from: String,
        to: String,
        forward: bool,
        limit: Option<usize>,
    ) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let want = limit.map(|l| l.saturating_sub(items.len()));
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND SK BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(keys::owner(owner)))
                .expression_attribute_values(":from", s(from.clone()))
                .expression_attribute_values(":to", s(to.clone()))
                .scan_index_forward(forward)
                .consistent_read(true)
                .set_limit(want.map(|w| i32::try_from(w).unwrap_or(i32::MAX)))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk("Query", e))?;
            items.extend(output.items.unwrap_or_default());
            start = output.last_evaluated_key;
            let full = limit.is_some_and(|l| items.len() >= l);
            if start.is_none() || full {
                return Ok(items);
            }
        }
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<TransactOutcome> {
        if items.len() > MAX_TRANSACTION_ITEMS {
            return Err(Error::invalid(format!(
                "the change touches {} items; DynamoDB changes at most {MAX_TRANSACTION_ITEMS} at once",
                items.len()
            )));
        }
        let sent = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(TransactOutcome::Committed),
            Err(error) => match error.into_service_error() {
                TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                    let codes: Vec<String> = cancelled
                        .cancellation_reasons()
                        .iter()
                        .map(|r| r.code().unwrap_or("None").to_owned())
                        .collect();
                    tracing::debug!(?codes, "DynamoDB transaction cancelled");
                    Ok(TransactOutcome::Cancelled(codes))
                }
                other => Err(service("TransactWriteItems", other)),
            },
        }
    }

    fn put(&self, item: Item, condition: Option<&str>) -> Result<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned));
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(build)?)
            .build())
    }

    /// A put of a conversation item that only succeeds over the version it was read at
    /// (`None`: only if there is none yet).
    fn put_conversation(
        &self,
        conversation: &Conversation,
        counters: &Counters,
        read_at: Option<u64>,
    ) -> Result<TransactWriteItem> {
        let item = codec::conversation_item(conversation, counters)?;
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        put = match read_at {
            None => put.condition_expression("attribute_not_exists(PK)"),
            Some(version) => put
                .condition_expression("#v = :v")
                .expression_attribute_names("#v", codec::VERSION)
                .expression_attribute_values(":v", n(version)),
        };
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(build)?)
            .build())
    }

    fn delete(&self, key: Item, condition: Option<&str>) -> Result<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .set_condition_expression(condition.map(str::to_owned))
            .build()
            .map_err(build)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    fn add_tokens(
        &self,
        owner: &str,
        id: ConversationId,
        month: Month,
        tally: TokenTally,
    ) -> Result<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(codec::key(keys::owner(owner), keys::tally(month, id))))
            .update_expression("ADD #i :i, #o :o, #c :c")
            .expression_attribute_names("#i", "input")
            .expression_attribute_names("#o", "output")
            .expression_attribute_names("#c", "calls")
            .expression_attribute_values(":i", n(tally.input_tokens))
            .expression_attribute_values(":o", n(tally.output_tokens))
            .expression_attribute_values(":c", n(tally.calls))
            .build()
            .map_err(build)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Runs `attempt` until it does not lose a race, at most [`RACE_RETRIES`] times.
    async fn retrying<T, F, Fut>(&self, what: &str, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Attempt<T>>>,
    {
        for round in 0..RACE_RETRIES {
            match attempt().await? {
                Attempt::Done(value) => return Ok(value),
                Attempt::Raced => {
                    tracing::debug!(what, round, "lost a race on a conversation; retrying");
                    tokio::time::sleep(Duration::from_millis(5 << round.min(6))).await;
                }
            }
        }
        Err(busy(format!(
            "{what}: the conversation kept changing under concurrent writes"
        )))
    }

    /// One attempt of a splice, from the conversation item as `cached` (by an earlier read
    /// of this store) or as read now.
    async fn splice_once(
        &self,
        owner: &str,
        id: ConversationId,
        splice: &Splice,
        cached: Option<(Conversation, Counters)>,
    ) -> Result<Attempt<()>> {
        let from_cache = cached.is_some();
        let (mut conversation, counters) = match cached {
            Some(item) => item,
            None => self.existing(owner, id).await?,
        };
        if let Some(expected) = splice.expect_last
            && counters.last != Some(expected)
        {
            // A remembered item may be stale: only what was read now decides.
            return match from_cache {
                true => Ok(Attempt::Raced),
                false => Err(changed_meanwhile()),
            };
        }
        // Only the messages from the oldest one the splice names on can change: read those.
        let from = splice
            .keep_through
            .iter()
            .chain(splice.replace.iter().map(|m| &m.id))
            .min()
            .copied();
        let suffix = match from {
            Some(from) => self
                .range(
                    owner,
                    keys::message(id, from),
                    keys::messages_end(id),
                    true,
                    None,
                )
                .await?
                .iter()
                .map(codec::message)
                .collect::<Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        let mut updated = suffix.clone();
        if from.is_some() {
            let mut edits = splice.clone();
            edits.expect_last = None;
            edits.append = Vec::new();
            edits.tokens = None;
            edits.apply_to(&mut updated)?;
        }
        let read: HashSet<_> = suffix.iter().map(|m| m.id).collect();
        if splice.append.iter().any(|m| read.contains(&m.id)) {
            return Err(Error::storage("message id already exists"));
        }

        let mut writes = Vec::new();
        let kept: HashSet<_> = updated.iter().map(|m| m.id).collect();
        for gone in suffix.iter().filter(|m| !kept.contains(&m.id)) {
            let key = codec::key(keys::owner(owner), keys::message(id, gone.id));
            writes.push(self.delete(key, None)?);
        }
        for replaced in &splice.replace {
            if let Some(stored) = updated.iter().find(|m| m.id == replaced.id) {
                writes.push(self.put(codec::message_item(owner, id, stored)?, None)?);
            }
        }
        let appended_from = 1 + writes.len();
        for message in &splice.append {
            let item = codec::message_item(owner, id, message)?;
            writes.push(self.put(item, Some("attribute_not_exists(PK)"))?);
        }
        if let Some((month, tally)) = splice.tokens {
            writes.push(self.add_tokens(owner, id, month, tally)?);
        }

        let bytes = counters
            .bytes
            .saturating_sub(StoreUsage::bytes_of(&suffix))
            .saturating_add(StoreUsage::bytes_of(&updated))
            .saturating_add(StoreUsage::bytes_of(&splice.append));
        let count = |len: usize| u64::try_from(len).unwrap_or(u64::MAX);
        let messages = counters
            .messages
            .saturating_sub(count(suffix.len()))
            .saturating_add(count(updated.len() + splice.append.len()));
        let last = match splice.append.last() {
            Some(message) => Some(message.id),
            None if from.is_some() => updated.last().map(|m| m.id),
            None => counters.last,
        };
        if let Some(touched) = splice.touched_at()
            && touched > conversation.updated_at
        {
            conversation.updated_at = touched;
        }
        let next = Counters {
            version: counters.version + 1,
            messages,
            bytes,
            last,
        };
        let mut items =
            vec![self.put_conversation(&conversation, &next, Some(counters.version))?];
        items.extend(writes);
        let grown = totals::delta(counters.bytes, next.bytes);
        if grown != 0 {
            items.push(self.add_totals(owner, 0, grown)?);
        }
        match self.transact(items).await? {
            TransactOutcome::Committed => {
                self.cache.put(owner, &conversation, &next);
                Ok(Attempt::Done(()))
            }
            TransactOutcome::Cancelled(codes) => {
                let failed =
                    |at: usize| codes.get(at).is_some_and(|c| c == "ConditionalCheckFailed");
                if (appended_from..appended_from + splice.append.len()).any(failed) {
                    return Err(Error::storage("message id already exists"));
                }
                // The conversation changed (or is gone) since it was read: read again.
                Ok(Attempt::Raced)
            }
        }
    }

    /// Deletes the conversation item at the version read, with its id guard, and takes it
    /// off the owner's totals; `false` when there is none.
    async fn delete_head_once(&self, owner: &str, id: ConversationId) -> Result<Attempt<bool>> {
        let Some((_, counters)) = self.conversation_item(owner, id).await? else {
            return Ok(Attempt::Done(false));
        };
        let head = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(codec::key(keys::owner(owner), keys::conversation(id))))
            .condition_expression("#v = :v")
            .expression_attribute_names("#v", codec::VERSION)
            .expression_attribute_values(":v", n(counters.version))
            .build()
            .map_err(build)?;
        let items = vec![
            TransactWriteItem::builder().delete(head).build(),
            self.delete(codec::key(keys::guard(id), keys::GUARD.to_owned()), None)?,
            self.add_totals(owner, -1, totals::delta(counters.bytes, 0))?,
        ];
        match self.transact(items).await? {
            TransactOutcome::Committed => Ok(Attempt::Done(true)),
            TransactOutcome::Cancelled(_) => Ok(Attempt::Raced),
        }
    }

    async fn update_once(
        &self,
        owner: &str,
        id: ConversationId,
        patch: &ConversationPatch,
    ) -> Result<Attempt<Conversation>> {
        let (mut conversation, counters) = self.existing(owner, id).await?;
        patch.apply(&mut conversation)?;
        let next = Counters {
            version: counters.version + 1,
            ..counters
        };
        let item = self.put_conversation(&conversation, &next, Some(counters.version))?;
        match self.transact(vec![item]).await? {
            TransactOutcome::Committed => {
                self.cache.put(owner, &conversation, &next);
                Ok(Attempt::Done(conversation))
            }
            TransactOutcome::Cancelled(_) => Ok(Attempt::Raced),
        }
    }
}

/// What a `TransactWriteItems` came to, short of an error.
enum TransactOutcome {
    Committed,
    /// Cancelled: the cancellation reason's code of each item, in order.
    Cancelled(Vec<String>),
}

fn service(what: &str, error: TransactWriteItemsError) -> Error {
    use aws_sdk_dynamodb::error::ProvideErrorMetadata;
    crate::error::service(what, error.code(), error.message())
}

#[async_trait]
impl ConversationStore for DynamoStore {
    async fn create(&self, conversation: &Conversation, messages: &[Message]) -> Result<()> {
        let counters = Counters {
            version: 1,
            messages: u64::try_from(messages.len()).unwrap_or(u64::MAX),
            bytes: StoreUsage::bytes_of(messages),
            last: messages.last().map(|m| m.id),
        };
        let guard = codec::Item::from([
            (keys::PK.to_owned(), s(keys::guard(conversation.id))),
            (keys::SK.to_owned(), s(keys::GUARD)),
            ("owner".to_owned(), s(conversation.owner.clone())),
        ]);
        let mut items = vec![
            self.put(guard, Some("attribute_not_exists(PK)"))?,
            self.put_conversation(conversation, &counters, None)?,
        ];
        for message in messages {
            let item = codec::message_item(&conversation.owner, conversation.id, message)?;
            items.push(self.put(item, Some("attribute_not_exists(PK)"))?);
        }
        items.push(self.add_totals(&conversation.owner, 1, totals::delta(0, counters.bytes))?);
        match self.transact(items).await? {
            TransactOutcome::Committed => {
                self.cache.put(&conversation.owner, conversation, &counters);
                Ok(())
            }
            TransactOutcome::Cancelled(codes) => {
                if codes.iter().any(|c| c == "ConditionalCheckFailed") {
                    Err(Error::storage(format!(
                        "a conversation with id {} already exists",
                        conversation.id
                    )))
                } else {
                    Err(busy(
                        "DynamoDB TransactWriteItems: a concurrent transaction",
                    ))
                }
            }
        }
    }

    async fn get(&self, owner: &str, id: ConversationId) -> Result<Option<Conversation>> {
        let Some((conversation, counters)) = self.conversation_item(owner, id).await? else {
            return Ok(None);
        };
        self.cache.put(owner, &conversation, &counters);
        Ok(Some(conversation))
    }

    async fn turn_state(
        &self,
        owner: &str,
        id: ConversationId,
        window: usize,
    ) -> Result<link_core::TurnState> {
        self.read_turn(owner, id, window).await
    }

    async fn list(&self, owner: &str, page: &PageRequest) -> Result<Page<Conversation>> {
        let below = match &page.after {
            Some(cursor) => {
                let (nanos, id) = decode_position::<ConversationId>(cursor)?;
                Some(keys::updated(nanos, id))
            }
            None => None,
        };
        let limit = page.limit.max(1);
        let mut items: Vec<Item> = Vec::new();
        let mut start = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::UPDATED_INDEX)
                .expression_attribute_names("#pk", keys::GSI1PK)
                .expression_attribute_values(":pk", s(keys::owner(owner)))
                .scan_index_forward(false)
                .limit(i32::try_from(limit + 1 - items.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start);
            query = match &below {
                Some(below) => query
                    .key_condition_expression("#pk = :pk AND #sk < :below")
                    .expression_attribute_names("#sk", keys::GSI1SK)
                    .expression_attribute_values(":below", s(below.clone())),
                None => query.key_condition_expression("#pk = :pk"),
            };
            let output = query.send().await.map_err(|e| sdk("Query", e))?;
            items.extend(output.items.unwrap_or_default());
            start = output.last_evaluated_key;
            if start.is_none() || items.len() > limit {
                break;
            }
        }
        let more = items.len() > limit;
        let conversations = items
            .iter()
            .take(limit)
            .map(|item| codec::conversation(item).map(|(c, _)| c))
            .collect::<Result<Vec<_>>>()?;
        let next = match (more, conversations.last()) {
            (true, Some(last)) => Some(encode_position(
                last.updated_at.unix_timestamp_nanos(),
                last.id,
            )),
            _ => None,
        };
        Ok(Page {
            items: conversations,
            next,
        })
    }

    async fn update(
        &self,
        owner: &str,
        id: ConversationId,
        patch: &ConversationPatch,
    ) -> Result<Conversation> {
        self.retrying("update", || self.update_once(owner, id, patch))
            .await
    }

    async fn delete(&self, owner: &str, id: ConversationId) -> Result<bool> {
        // The conversation item first, in one transaction with its id guard and the owner's
        // totals: from then on every read and write of it is NotFound; then its avatar and
        // messages.
        self.cache.take(owner, id);
        if !self
            .retrying("delete", || self.delete_head_once(owner, id))
            .await?
        {
            return Ok(false);
        }
        // Its avatar's parts and its messages, whose keys are adjacent.
        let messages = self
            .range(
                owner,
                keys::avatar_part(id, 0),
                keys::messages_end(id),
                true,
                None,
            )
            .await?;
        for chunk in messages.chunks(MAX_TRANSACTION_ITEMS) {
            let deletes = chunk
                .iter()
                .map(|item| {
                    let sk = codec::string(item, keys::SK)?.to_owned();
                    self.delete(codec::key(keys::owner(owner), sk), None)
                })
                .collect::<Result<Vec<_>>>()?;
            if let TransactOutcome::Cancelled(codes) = self.transact(deletes).await? {
                return Err(busy(format!(
                    "DynamoDB: deleting the messages was cancelled ({codes:?})"
                )));
            }
        }
        Ok(true)
    }

    async fn splice(&self, owner: &str, id: ConversationId, splice: &Splice) -> Result<()> {
        // Appends commute: no read, no race for the version (see `append.rs`).
        let mut cached = self.cache.take(owner, id);
        if splice.only_appends()
            && self
                .retrying("append", || self.append_once(owner, id, splice))
                .await?
        {
            return Ok(());
        }
        // The first attempt trusts the item this store last saw (the turn's read, most often):
        // its version is the transaction's condition, so a stale one just loses the race.
        self.retrying("splice", || {
            self.splice_once(owner, id, splice, cached.take())
        })
        .await
    }

    async fn messages(
        &self,
        owner: &str,
        id: ConversationId,
        last: Option<usize>,
    ) -> Result<Vec<Message>> {
        self.existing(owner, id).await?;
        if let Some(last) = last {
            // The newest `last`: one query from the end, then turned oldest first.
            return self.newest(owner, id, last).await;
        }
        let (from, to) = (keys::messages(id), keys::messages_end(id));
        let items = self.range(owner, from, to, true, None).await?;
        items.iter().map(codec::message).collect()
    }

    async fn avatar(&self, owner: &str, id: ConversationId) -> Result<Option<Avatar>> {
        self.read_avatar(owner, id).await
    }

    async fn set_avatar(
        &self,
        owner: &str,
        id: ConversationId,
        avatar: Option<Avatar>,
    ) -> Result<()> {
        self.write_avatar(owner, id, avatar.as_ref()).await
    }

    async fn user_persona(&self, owner: &str) -> Result<Option<UserPersona>> {
        let item = self
            .get_item(keys::owner(owner), keys::USER_PERSONA.to_owned())
            .await?;
        item.as_ref()
            .map(|item| codec::data(item, "user persona"))
            .transpose()
    }

    async fn set_user_persona(&self, owner: &str, persona: Option<UserPersona>) -> Result<()> {
        match persona {
            Some(persona) => {
                let item = codec::data_item(
                    keys::owner(owner),
                    keys::USER_PERSONA,
                    &persona,
                    "user persona",
                )?;
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .send()
                    .await
                    .map_err(|e| sdk("PutItem", e))?;
            }
            None => {
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(codec::key(
                        keys::owner(owner),
                        keys::USER_PERSONA.to_owned(),
                    )))
                    .send()
                    .await
                    .map_err(|e| sdk("DeleteItem", e))?;
            }
        }
        Ok(())
    }

    /// Counts from the counters on the conversation items (one item per conversation, read
    /// through the `updated` index), never from the messages.
    async fn usage(&self, owner: &str, conversation: Option<ConversationId>) -> Result<StoreUsage> {
        // The owner's totals item, and the conversation's item for its message count.
        let mut keys = vec![totals::key(owner)];
        if let Some(id) = conversation {
            keys.push(codec::key(keys::owner(owner), keys::conversation(id)));
        }
        let items = self.batch_get(keys).await?;
        let with_sk = |sk: &str| codec::with_sk(&items, sk);
        let messages = match conversation {
            Some(id) => {
                let item = with_sk(&keys::conversation(id))
                    .ok_or_else(|| Error::not_found("conversation"))?;
                codec::conversation(item)?.1.messages
            }
            None => 0,
        };
        Ok(totals::Totals::of(with_sk(keys::TOTALS))?.usage(messages))
    }

    async fn token_usage(&self, owner: &str, month: Month) -> Result<Vec<ConversationTokens>> {
        let prefix = keys::tallies(month);
        let items = self
            .range(owner, prefix.clone(), format!("{prefix}~"), true, None)
            .await?;
        let mut tallies = items
            .iter()
            .map(|item| {
                let sk = codec::string(item, keys::SK)?;
                let conversation = sk
                    .strip_prefix(&prefix)
                    .and_then(|id| id.parse().ok())
                    .ok_or_else(|| Error::storage("a token tally has a malformed key"))?;
                Ok(ConversationTokens {
                    conversation,
                    tokens: TokenTally {
                        input_tokens: codec::count(item, "input")?,
                        output_tokens: codec::count(item, "output")?,
                        calls: codec::count(item, "calls")?,
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        sort_tallies(&mut tallies);
        Ok(tallies)
    }

    async fn ping(&self) -> Result<()> {
        self.client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| sdk("DescribeTable", e))?;
        Ok(())
    }
}
