//! Appends that commute: a splice that only appends is one transaction that adds to the
//! conversation item's counters (`SET msgs = msgs + :n`, ...) and puts the new message items,
//! without reading the conversation first and without rewriting it. Concurrent appends to one
//! conversation then all land, from any number of instances, instead of racing for its
//! version. The item's version is still bumped, so a general splice (an edit, a rewind) that
//! read it before an append loses its race and reads again.
//!
//! The newest message id and the time of the last change (the index key) only move forward:
//! the first try sets them under the condition that they are older; if a newer append landed
//! first, the second try leaves them, under the condition that both are newer; anything else
//! (a missing conversation) goes to the general path, which reads.

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use link_core::{ConversationId, Error, Result, Splice, StoreUsage};

use super::{Attempt, DynamoStore, TransactOutcome, totals};
use crate::codec::{self, n, s};
use crate::error::build;
use crate::keys;

/// Whether the append moves the newest message and the time of the last change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Moves {
    /// It does: they are older than what it appends.
    Forward,
    /// They stay: something newer landed first.
    Nothing,
}

impl DynamoStore {
    /// One attempt at `splice` (only appends, at least one) as a transaction without a read:
    /// `Done(true)` when it landed, `Done(false)` when the general path must take it, `Raced`
    /// when a concurrent transaction got in the way (try again).
    pub(super) async fn append_once(
        &self,
        owner: &str,
        id: ConversationId,
        splice: &Splice,
    ) -> Result<Attempt<bool>> {
        for moves in [Moves::Forward, Moves::Nothing] {
            let mut items = vec![self.append_update(owner, id, splice, moves)?];
            for message in &splice.append {
                let item = codec::message_item(owner, id, message)?;
                items.push(self.put(item, Some("attribute_not_exists(PK)"))?);
            }
            if let Some((month, tally)) = splice.tokens {
                items.push(self.add_tokens(owner, id, month, tally)?);
            }
            let bytes = StoreUsage::bytes_of(&splice.append);
            items.push(self.add_totals(owner, 0, totals::delta(0, bytes))?);
            let codes = match self.transact(items).await? {
                TransactOutcome::Committed => return Ok(Attempt::Done(true)),
                TransactOutcome::Cancelled(codes) => codes,
            };
            let failed = |at: usize| codes.get(at).is_some_and(|c| c == "ConditionalCheckFailed");
            if (1..=splice.append.len()).any(failed) {
                return Err(Error::storage("message id already exists"));
            }
            if !failed(0) {
                return Ok(Attempt::Raced);
            }
        }
        Ok(Attempt::Done(false))
    }

    /// The update of the conversation item an append makes.
    fn append_update(
        &self,
        owner: &str,
        id: ConversationId,
        splice: &Splice,
        moves: Moves,
    ) -> Result<TransactWriteItem> {
        let (Some(last), Some(touched)) = (splice.append.last(), splice.touched_at()) else {
            return Err(Error::invalid("an append without messages"));
        };
        let count = splice.append.len();
        let bytes = StoreUsage::bytes_of(&splice.append);
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(codec::key(keys::owner(owner), keys::conversation(id))))
            .expression_attribute_names("#v", codec::VERSION)
            .expression_attribute_names("#m", codec::MESSAGES)
            .expression_attribute_names("#b", codec::BYTES)
            .expression_attribute_names("#l", codec::LAST)
            .expression_attribute_names("#g", keys::GSI1SK)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":n", n(count))
            .expression_attribute_values(":bytes", n(bytes))
            .expression_attribute_values(":last", s(last.id.to_string()))
            .expression_attribute_values(
                ":g",
                s(keys::updated(touched.unix_timestamp_nanos(), id)),
            );
        let update = match moves {
            Moves::Forward => update
                .update_expression(
                    "SET #v = #v + :one, #m = #m + :n, #b = #b + :bytes, #l = :last, #g = :g",
                )
                .condition_expression(
                    "attribute_exists(PK) AND (attribute_not_exists(#l) OR #l < :last) \
                     AND #g <= :g",
                ),
            Moves::Nothing => update
                .update_expression("SET #v = #v + :one, #m = #m + :n, #b = #b + :bytes")
                .condition_expression("attribute_exists(PK) AND #l > :last AND #g >= :g"),
        };
        Ok(TransactWriteItem::builder()
            .update(update.build().map_err(build)?)
            .build())
    }
}
