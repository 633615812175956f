//! Items to and from Link's types. A conversation or message is kept whole as one JSON
//! attribute (`data`), beside the key attributes and the counters the store reads on its own.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use link_core::StoreUsage;
use link_core::{Conversation, Error, Message, MessageId, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::keys;

/// One item: attribute name to value.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// The largest item this store writes, in bytes: DynamoDB's limit is "400 KB" counting
/// attribute names and values; 400,000 stays under it whichever way a KB is read (moto
/// refuses items above 405,000 bytes).
pub const MAX_ITEM_BYTES: usize = 400_000;

/// Room left in an item for the keys and counters beside `data`.
const KEY_ROOM: usize = 1024;

/// The whole-value attribute.
const DATA: &str = "data";
/// Optimistic lock of a conversation item: bumped by every change.
pub(crate) const VERSION: &str = "ver";
/// A conversation item's message count.
pub(crate) const MESSAGES: &str = "msgs";
/// A conversation item's bytes of message text.
pub(crate) const BYTES: &str = "bytes";
/// A conversation item's newest message id.
pub(crate) const LAST: &str = "last";

/// What a conversation item keeps beside the conversation itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    /// The optimistic lock.
    pub version: u64,
    /// How many messages the conversation holds.
    pub messages: u64,
    /// Their bytes as [`StoreUsage::message_bytes`] counts them.
    pub bytes: u64,
    /// The newest message.
    pub last: Option<MessageId>,
}

/// A string attribute.
pub(crate) fn s(text: impl Into<String>) -> AttributeValue {
    AttributeValue::S(text.into())
}

/// A number attribute.
pub(crate) fn n(number: impl ToString) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

fn json<T: Serialize>(value: &T, what: &str) -> Result<String> {
    let text = serde_json::to_string(value)
        .map_err(|e| Error::storage(format!("cannot encode the {what}: {e}")))?;
    if text.len() + KEY_ROOM > MAX_ITEM_BYTES {
        return Err(Error::invalid(format!(
            "the {what} is too large to store: {} bytes, DynamoDB keeps at most {} per item",
            text.len(),
            MAX_ITEM_BYTES - KEY_ROOM
        )));
    }
    Ok(text)
}

fn text<'a>(item: &'a Item, name: &str) -> Result<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| corrupt(name))
}

fn number(item: &Item, name: &str) -> Result<u64> {
    match item.get(name) {
        None => Ok(0),
        Some(value) => value
            .as_n()
            .ok()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| corrupt(name)),
    }
}

fn corrupt(name: &str) -> Error {
    Error::storage(format!("a stored item has no valid `{name}` attribute"))
}

fn decode<T: DeserializeOwned>(item: &Item, what: &str) -> Result<T> {
    serde_json::from_str(text(item, DATA)?)
        .map_err(|e| Error::storage(format!("cannot decode a stored {what}: {e}")))
}

/// The item of `conversation` with its counters.
pub(crate) fn conversation_item(conversation: &Conversation, counters: &Counters) -> Result<Item> {
    let owner = keys::owner(&conversation.owner);
    let mut item = Item::from([
        (keys::PK.to_owned(), s(owner.clone())),
        (keys::SK.to_owned(), s(keys::conversation(conversation.id))),
        (keys::GSI1PK.to_owned(), s(owner)),
        (
            keys::GSI1SK.to_owned(),
            s(keys::updated(
                conversation.updated_at.unix_timestamp_nanos(),
                conversation.id,
            )),
        ),
        (DATA.to_owned(), s(json(conversation, "conversation")?)),
        (VERSION.to_owned(), n(counters.version)),
        (MESSAGES.to_owned(), n(counters.messages)),
        (BYTES.to_owned(), n(counters.bytes)),
    ]);
    if let Some(last) = counters.last {
        item.insert(LAST.to_owned(), s(last.to_string()));
    }
    Ok(item)
}

/// A conversation item read back.
pub(crate) fn conversation(item: &Item) -> Result<(Conversation, Counters)> {
    let last = match item.get(LAST) {
        None => None,
        Some(_) => Some(text(item, LAST)?.parse().map_err(|_| corrupt(LAST))?),
    };
    let counters = Counters {
        version: number(item, VERSION)?,
        messages: number(item, MESSAGES)?,
        bytes: number(item, BYTES)?,
        last,
    };
    let mut conversation: Conversation = decode(item, "conversation")?;
    // An append adds to the counters and moves the index key without rewriting `data`: the
    // index key holds the time of the last change.
    if let Some(nanos) = item
        .get(keys::GSI1SK)
        .and_then(|v| v.as_s().ok())
        .and_then(|sk| keys::updated_nanos(sk))
        && let Ok(updated) = time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
    {
        conversation.updated_at = updated;
    }
    Ok((conversation, counters))
}

/// The item of `items` whose sort key is `sk`.
pub(crate) fn with_sk<'a>(items: &'a [Item], sk: &str) -> Option<&'a Item> {
    items
        .iter()
        .find(|item| text(item, keys::SK).is_ok_and(|k| k == sk))
}

/// The item of `message` in the conversation `conversation` of `owner`; a message too large
/// for one item is [`Error::InvalidRequest`].
pub(crate) fn message_item(
    owner: &str,
    conversation: link_core::ConversationId,
    message: &Message,
) -> Result<Item> {
    Ok(Item::from([
        (keys::PK.to_owned(), s(keys::owner(owner))),
        (
            keys::SK.to_owned(),
            s(keys::message(conversation, message.id)),
        ),
        (DATA.to_owned(), s(json(message, "message")?)),
        (BYTES.to_owned(), n(StoreUsage::message_bytes(message))),
    ]))
}

/// A message item read back.
pub(crate) fn message(item: &Item) -> Result<Message> {
    decode(item, "message")
}

/// Any JSON value kept in `data` (the user persona).
pub(crate) fn data_item<T: Serialize>(pk: String, sk: &str, value: &T, what: &str) -> Result<Item> {
    Ok(Item::from([
        (keys::PK.to_owned(), s(pk)),
        (keys::SK.to_owned(), s(sk)),
        (DATA.to_owned(), s(json(value, what)?)),
    ]))
}

/// The value of a [`data_item`].
pub(crate) fn data<T: DeserializeOwned>(item: &Item, what: &str) -> Result<T> {
    decode(item, what)
}

/// A number attribute of a tally item.
pub(crate) fn count(item: &Item, name: &str) -> Result<u64> {
    number(item, name)
}

/// A string attribute.
pub(crate) fn string<'a>(item: &'a Item, name: &str) -> Result<&'a str> {
    text(item, name)
}

/// The key of an item.
pub(crate) fn key(pk: String, sk: String) -> Item {
    Item::from([(keys::PK.to_owned(), s(pk)), (keys::SK.to_owned(), s(sk))])
}
