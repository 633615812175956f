//! A conversation's avatar on DynamoDB: split into parts of at most [`PART_BYTES`] (an item
//! holds at most 400 KB), stored beside the conversation item, and written in one
//! transaction with a check that the conversation exists.
//!
//! Every part carries the write's generation. A `Query` is only read-committed (it can see
//! part of a transaction that commits while it reads), so a reader that finds parts of two
//! generations reads again rather than return a mix.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem};
use link_core::{Avatar, ConversationId, Error, Result};

use super::{Attempt, DynamoStore, TransactOutcome};
use crate::codec::{self, Item, n, s};
use crate::error::{build, busy};
use crate::keys;

/// The most PNG bytes one part holds, leaving room for the keys under DynamoDB's 400 KB.
pub(crate) const PART_BYTES: usize = 350 * 1024;
/// The attribute holding a part's bytes.
const PNG: &str = "png";
/// The attribute of part 0 holding how many parts the avatar has.
const PARTS: &str = "parts";
/// The attribute holding the generation of the write that made the part.
const GENERATION: &str = "gen";
/// How often a read that saw two generations reads again.
const READ_RETRIES: u32 = 4;

impl DynamoStore {
    /// The avatar of `owner`'s conversation `id`: the conversation item and the parts in one
    /// query (their keys are adjacent).
    pub(super) async fn read_avatar(
        &self,
        owner: &str,
        id: ConversationId,
    ) -> Result<Option<Avatar>> {
        for _ in 0..READ_RETRIES {
            let items = self
                .range(
                    owner,
                    keys::conversation(id),
                    keys::avatar_end(id),
                    true,
                    None,
                )
                .await?;
            let (first, parts) = items
                .split_first()
                .ok_or_else(|| Error::not_found("conversation"))?;
            if codec::string(first, keys::SK)? != keys::conversation(id) {
                return Err(Error::not_found("conversation"));
            }
            if let Some(avatar) = assemble(parts)? {
                return Ok(avatar);
            }
            tracing::debug!("an avatar read met a write in progress; reading again");
        }
        Err(busy("the avatar kept changing while it was read"))
    }

    /// Sets or removes the avatar, retried when the parts changed meanwhile.
    pub(super) async fn write_avatar(
        &self,
        owner: &str,
        id: ConversationId,
        avatar: Option<&Avatar>,
    ) -> Result<()> {
        self.retrying("set_avatar", || self.write_avatar_once(owner, id, avatar))
            .await
    }

    async fn write_avatar_once(
        &self,
        owner: &str,
        id: ConversationId,
        avatar: Option<&Avatar>,
    ) -> Result<Attempt<()>> {
        let existing = self
            .range(
                owner,
                keys::avatar_part(id, 0),
                keys::avatar_end(id),
                true,
                None,
            )
            .await?;
        let chunks: Vec<&[u8]> =
            avatar.map_or_else(Vec::new, |a| a.as_bytes().chunks(PART_BYTES).collect());
        let generation = uuid::Uuid::new_v4().to_string();
        let mut items = vec![self.conversation_exists(owner, id)?];
        for (part, bytes) in chunks.iter().enumerate() {
            let item = part_item(owner, id, part, bytes, &generation, chunks.len());
            items.push(self.put(item, None)?);
        }
        for stale in existing.iter().skip(chunks.len()) {
            let sk = codec::string(stale, keys::SK)?.to_owned();
            items.push(self.delete(codec::key(keys::owner(owner), sk), None)?);
        }
        match self.transact(items).await? {
            TransactOutcome::Committed => Ok(Attempt::Done(())),
            TransactOutcome::Cancelled(codes) => match codes.first().map(String::as_str) {
                Some("ConditionalCheckFailed") => Err(Error::not_found("conversation")),
                // A concurrent write of the same items: read the parts again and retry.
                _ => Ok(Attempt::Raced),
            },
        }
    }

    /// A transaction item that fails unless `owner`'s conversation `id` exists.
    fn conversation_exists(&self, owner: &str, id: ConversationId) -> Result<TransactWriteItem> {
        let check = ConditionCheck::builder()
            .table_name(self.table())
            .set_key(Some(codec::key(keys::owner(owner), keys::conversation(id))))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(build)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }
}

fn part_item(
    owner: &str,
    id: ConversationId,
    part: usize,
    bytes: &[u8],
    generation: &str,
    parts: usize,
) -> Item {
    let mut item = codec::key(keys::owner(owner), keys::avatar_part(id, part));
    item.insert(PNG.to_owned(), AttributeValue::B(Blob::new(bytes)));
    item.insert(GENERATION.to_owned(), s(generation));
    if part == 0 {
        item.insert(PARTS.to_owned(), n(parts));
    }
    item
}

/// The avatar the parts (in key order) make: `Some(None)` when there is none, `None` when
/// they are of different generations (a write committed during the read).
fn assemble(parts: &[Item]) -> Result<Option<Option<Avatar>>> {
    let Some(first) = parts.first() else {
        return Ok(Some(None));
    };
    let count = usize::try_from(codec::count(first, PARTS)?).unwrap_or(usize::MAX);
    let generation = codec::string(first, GENERATION)?;
    if parts.len() < count {
        return Ok(None);
    }
    let mut png = Vec::with_capacity(count * PART_BYTES);
    for part in &parts[..count] {
        if codec::string(part, GENERATION)? != generation {
            return Ok(None);
        }
        let bytes = part
            .get(PNG)
            .and_then(|v| v.as_b().ok())
            .ok_or_else(|| Error::storage("a stored avatar part has no `png` attribute"))?;
        png.extend_from_slice(bytes.as_ref());
    }
    Avatar::new(png).map(|avatar| Some(Some(avatar)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(avatar: &[u8], generation: &str) -> Vec<Item> {
        let chunks: Vec<&[u8]> = avatar.chunks(PART_BYTES).collect();
        let id = ConversationId::new();
        chunks
            .iter()
            .enumerate()
            .map(|(i, bytes)| part_item("o", id, i, bytes, generation, chunks.len()))
            .collect()
    }

    fn png_of(len: usize) -> Vec<u8> {
        let mut bytes = link_core::card::png::SIGNATURE.to_vec();
        bytes.extend((8..len).map(|i| i as u8));
        bytes
    }

    #[test]
    fn parts_of_one_generation_make_the_avatar() {
        let png = png_of(3 * PART_BYTES + 17);
        let read = assemble(&parts(&png, "a")).unwrap().unwrap().unwrap();
        assert_eq!(read.as_bytes(), png);
    }

    #[test]
    fn parts_of_two_generations_are_read_again() {
        let png = png_of(2 * PART_BYTES + 1);
        let mut mixed = parts(&png, "a");
        mixed[2] = parts(&png, "b").remove(2);
        assert!(assemble(&mixed).unwrap().is_none());
        let missing = &parts(&png, "a")[..2];
        assert!(
            assemble(missing).unwrap().is_none(),
            "a part not yet visible"
        );
    }

    #[test]
    fn parts_left_past_the_count_are_ignored() {
        let old = parts(&png_of(2 * PART_BYTES), "old");
        let mut read = parts(&png_of(100), "new");
        read.push(old[1].clone());
        let avatar = assemble(&read).unwrap().unwrap().unwrap();
        assert_eq!(avatar.len(), 100);
        assert!(assemble(&[]).unwrap().unwrap().is_none());
    }
}
