//! An owner's totals: how many conversations they have and the bytes of all their messages,
//! in one item that every write adjusts in its own transaction (`ADD`), so the storage caps
//! read one item instead of every conversation of the owner.

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use link_core::{Error, Result, StoreUsage};

use super::DynamoStore;
use crate::codec::{self, Item, n};
use crate::error::build;
use crate::keys;

/// The attribute counting the owner's conversations.
const CONVERSATIONS: &str = "convs";
/// The attribute counting the bytes of the owner's messages.
const BYTES: &str = "bytes";

/// What an owner's totals item says (zero for an owner without one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) conversations: u64,
    pub(crate) bytes: u64,
}

impl Totals {
    /// The totals an item holds.
    pub(crate) fn of(item: Option<&Item>) -> Result<Self> {
        let Some(item) = item else {
            return Ok(Self::default());
        };
        Ok(Self {
            conversations: signed(item, CONVERSATIONS)?,
            bytes: signed(item, BYTES)?,
        })
    }
}

impl Totals {
    /// The usage these totals make with `messages`, the message count of the conversation
    /// asked about (0 for none).
    pub(crate) fn usage(self, messages: u64) -> StoreUsage {
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        StoreUsage {
            conversations: size(self.conversations),
            bytes: self.bytes,
            messages: size(messages),
        }
    }
}

/// A number attribute that `ADD` may have taken below zero for a moment, read as at least 0.
fn signed(item: &Item, name: &str) -> Result<u64> {
    match item.get(name) {
        None => Ok(0),
        Some(value) => value
            .as_n()
            .ok()
            .and_then(|v| v.parse::<i64>().ok())
            .map(|v| u64::try_from(v).unwrap_or(0))
            .ok_or_else(|| Error::storage(format!("the owner's totals have no valid `{name}`"))),
    }
}

/// The key of `owner`'s totals item.
pub(crate) fn key(owner: &str) -> Item {
    codec::key(keys::owner(owner), keys::TOTALS.to_owned())
}

impl DynamoStore {
    /// A transaction item adding `conversations` and `bytes` (either may be negative) to
    /// `owner`'s totals, creating the item on first use.
    pub(super) fn add_totals(
        &self,
        owner: &str,
        conversations: i64,
        bytes: i64,
    ) -> Result<TransactWriteItem> {
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key(owner)))
            .update_expression("ADD #c :c, #b :b")
            .expression_attribute_names("#c", CONVERSATIONS)
            .expression_attribute_names("#b", BYTES)
            .expression_attribute_values(":c", n(conversations))
            .expression_attribute_values(":b", n(bytes))
            .build()
            .map_err(build)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

/// The signed difference `to - from`, saturating.
pub(crate) fn delta(from: u64, to: u64) -> i64 {
    let signed = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    signed(to).saturating_sub(signed(from))
}
