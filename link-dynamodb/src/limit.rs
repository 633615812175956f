//! [`DynamoRateLimiter`]: the same allowance for a principal across every instance, as GCRA
//! (the generic cell rate algorithm) in one DynamoDB item per principal.
//!
//! The item (`PK = RL#{sub}`, `SK = RL`) keeps the theoretical arrival time `tat` in
//! nanoseconds since the epoch. A request costing `c` moves it to `max(tat, now) + c·T`
//! (`T = period / limit`) and passes while that is at most `limit·T` ahead of now. No read
//! comes first: one `UpdateItem` adds `c·T` to the stored `tat` on the condition that it is
//! ahead of now and stays within the burst, else a second one sets it to `now + c·T` on the
//! condition that it is not ahead of now. DynamoDB applies the updates of one item one at a
//! time, so instances counting the same principal at once never race: each check is one
//! round trip under load, two after a quiet spell. A denied request writes nothing (the failed
//! condition hands back the stored `tat`, which tells how long to wait). `expires` (the table's time to live) is set past
//! the moment the bucket is full again, so idle principals' items go away on their own.

use std::sync::mpsc as blocking;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use link_core::{Error, Principal, RateDecision, RateLimiter, Result};
use tokio::sync::mpsc;

use crate::codec::{self, n};
use crate::error::sdk;

/// How many times a check tries again when another instance changed the bucket between its
/// two conditional updates.
const RACE_RETRIES: u32 = 8;

/// How long [`RateLimiter::check`] waits for DynamoDB before letting the request pass.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// A [`RateLimiter`] whose buckets live in DynamoDB, shared by every instance.
///
/// The [`RateLimiter`] port is synchronous, DynamoDB is not: the limiter runs its calls on a
/// thread of its own (with its own small runtime) and blocks the caller until the answer
/// comes, at most the timeout. When DynamoDB cannot answer (down, throttled, too slow) the
/// request is **allowed** and a warning logged: an outage of the limiter should not take the
/// service down with it.
///
/// ```no_run
/// # async fn demo(client: aws_sdk_dynamodb::Client) -> link_core::Result<()> {
/// use std::time::Duration;
/// use link_dynamodb::DynamoRateLimiter;
/// // 25 requests a minute per principal, in the table the store uses.
/// let limiter = DynamoRateLimiter::new(client, "link", 25, Duration::from_secs(60))?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DynamoRateLimiter {
    jobs: mpsc::UnboundedSender<Job>,
    limit: u32,
    timeout: Duration,
    daily_tokens: Option<u64>,
}

struct Job {
    sub: String,
    task: Task,
    reply: blocking::SyncSender<Result<Answer>>,
}

/// What the limiter's thread is asked to do for one principal.
#[derive(Debug, Clone, Copy)]
enum Task {
    /// Count a request of this cost.
    Check(u32),
    /// Add tokens to today's count.
    Spend(u64),
    /// Read today's count.
    Spent,
}

/// What it answers.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Decision(RateDecision),
    Tokens(u64),
}

/// The GCRA parameters, in nanoseconds.
#[derive(Debug, Clone, Copy)]
struct Rate {
    limit: u32,
    /// `T`: the time one request uses.
    interval: u128,
}

impl Rate {
    fn burst(&self) -> u128 {
        self.interval * u128::from(self.limit)
    }

    /// The decision for a request costing `cost` at `now` over the stored `tat`, and the new
    /// `tat` to store if it passes.
    fn decide(&self, tat: Option<u128>, now: u128, cost: u32) -> (RateDecision, Option<u128>) {
        let cost = cost.clamp(1, self.limit);
        let start = tat.unwrap_or(now).max(now);
        let next = start + u128::from(cost) * self.interval;
        let ahead = next - now;
        if ahead > self.burst() {
            let wait = ahead - self.burst();
            let seconds = u64::try_from(wait.div_ceil(1_000_000_000))
                .unwrap_or(u64::MAX)
                .max(1);
            let decision = RateDecision::Denied {
                limit: self.limit,
                retry_after: Duration::from_secs(seconds),
            };
            return (decision, None);
        }
        (self.allowed(next, now), Some(next))
    }

    /// The decision for a request that moved the `tat` to `tat` at `now`.
    fn allowed(&self, tat: u128, now: u128) -> RateDecision {
        let ahead = tat.saturating_sub(now).min(self.burst());
        let remaining = u32::try_from((self.burst() - ahead) / self.interval).unwrap_or(0);
        RateDecision::Allowed {
            limit: self.limit,
            remaining,
        }
    }
}

impl DynamoRateLimiter {
    /// A limiter of `limit` requests per `period` for each principal, in the table `table`
    /// (made by [`DynamoStore::create_table`](crate::DynamoStore::create_table)).
    /// Fails with [`Error::Config`] if `limit` or `period` is zero.
    pub fn new(
        client: Client,
        table: impl Into<String>,
        limit: u32,
        period: Duration,
    ) -> Result<Self> {
        if limit == 0 || period.is_zero() {
            return Err(Error::Config {
                message: "a DynamoDB rate limit needs a positive limit and period".into(),
            });
        }
        let rate = Rate {
            limit,
            interval: (period.as_nanos() / u128::from(limit)).max(1),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Config {
                message: format!("cannot start the rate limiter's runtime: {e}"),
            })?;
        let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
        let worker = Worker {
            client,
            table: table.into(),
            rate,
        };
        std::thread::Builder::new()
            .name("link-dynamodb-limit".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let worker = std::sync::Arc::new(worker);
                    while let Some(job) = queue.recv().await {
                        let worker = std::sync::Arc::clone(&worker);
                        tokio::spawn(async move {
                            let answer = worker.run(&job.sub, job.task).await;
                            let _ = job.reply.send(answer);
                        });
                    }
                });
            })
            .map_err(|e| Error::Config {
                message: format!("cannot start the rate limiter's thread: {e}"),
            })?;
        Ok(Self {
            jobs,
            limit,
            timeout: DEFAULT_TIMEOUT,
            daily_tokens: None,
        })
    }

    /// Adds a daily quota of `quota` model tokens per principal, renewed at midnight UTC and
    /// counted in DynamoDB, so it is one quota across every instance (`None`: no quota).
    ///
    /// ```no_run
    /// # fn demo(limiter: link_dynamodb::DynamoRateLimiter) {
    /// let limiter = limiter.with_daily_tokens(Some(100_000));
    /// # }
    /// ```
    pub fn with_daily_tokens(mut self, quota: Option<u64>) -> Self {
        self.daily_tokens = quota;
        self
    }

    /// How long a check waits for DynamoDB before letting the request pass (2 s by default).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs `task` on the limiter's thread and waits for its answer, at most the timeout.
    fn ask(&self, principal: &Principal, task: Task) -> Result<Answer> {
        let (reply, answer) = blocking::sync_channel(1);
        let job = Job {
            sub: principal.sub.clone(),
            task,
            reply,
        };
        match self.jobs.send(job) {
            Ok(()) => answer
                .recv_timeout(self.timeout)
                .unwrap_or_else(|_| Err(Error::storage("the rate limiter did not answer in time"))),
            Err(_) => Err(Error::storage("the rate limiter's thread has stopped")),
        }
    }

    fn decide(&self, principal: &Principal, cost: u32) -> RateDecision {
        match self.ask(principal, Task::Check(cost)) {
            Ok(Answer::Decision(decision)) => decision,
            Ok(Answer::Tokens(_)) => unavailable(&Error::storage("a confused answer"), self.limit),
            Err(error) => unavailable(&error, self.limit),
        }
    }
}

/// The decision when DynamoDB cannot answer: let the request pass, and say so in the logs.
fn unavailable(error: &Error, limit: u32) -> RateDecision {
    tracing::warn!(%error, "DynamoDB rate limit unavailable; letting the request pass");
    RateDecision::Allowed {
        limit,
        remaining: 0,
    }
}

const DAY_SECONDS: u64 = 24 * 3600;

/// Today (UTC) as a day number since the epoch, and the time left until tomorrow.
fn today() -> (u64, Duration) {
    let seconds = u64::try_from(now() / 1_000_000_000).unwrap_or(u64::MAX);
    let day = seconds / DAY_SECONDS;
    let left = (day + 1) * DAY_SECONDS - seconds;
    (day, Duration::from_secs(left.max(1)))
}

impl RateLimiter for DynamoRateLimiter {
    fn check(&self, principal: &Principal) -> RateDecision {
        self.decide(principal, 1)
    }

    fn check_n(&self, principal: &Principal, cost: u32) -> RateDecision {
        self.decide(principal, cost)
    }

    fn tokens_exhausted(&self, principal: &Principal) -> Option<Duration> {
        let quota = self.daily_tokens?;
        match self.ask(principal, Task::Spent) {
            Ok(Answer::Tokens(spent)) if spent >= quota => Some(today().1),
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(%error, "DynamoDB token quota unavailable; letting the call pass");
                None
            }
        }
    }

    fn spend_tokens(&self, principal: &Principal, tokens: u64) {
        if self.daily_tokens.is_none() || tokens == 0 {
            return;
        }
        if let Err(error) = self.ask(principal, Task::Spend(tokens)) {
            tracing::warn!(%error, tokens, "could not count tokens against the DynamoDB quota");
        }
    }
}

/// The half of the limiter that talks to DynamoDB, on the limiter's thread.
struct Worker {
    client: Client,
    table: String,
    rate: Rate,
}

impl Worker {
    async fn run(&self, sub: &str, task: Task) -> Result<Answer> {
        match task {
            Task::Check(cost) => self.check(sub, cost).await.map(Answer::Decision),
            Task::Spend(tokens) => self.spend(sub, tokens).await.map(Answer::Tokens),
            Task::Spent => self.spent(sub).await.map(Answer::Tokens),
        }
    }

    /// The key of `sub`'s token count of today, and when that item may expire.
    fn tokens_key(sub: &str) -> (codec::Item, u64) {
        let (day, _) = today();
        let key = codec::key(format!("RLT#{sub}"), format!("D{day}"));
        (key, (day + 2) * DAY_SECONDS)
    }

    async fn spend(&self, sub: &str, tokens: u64) -> Result<u64> {
        let (key, expires) = Self::tokens_key(sub);
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression("ADD spent :t SET expires = :e")
            .expression_attribute_values(":t", n(tokens))
            .expression_attribute_values(":e", n(expires))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| sdk("UpdateItem", e))?;
        match output.attributes {
            Some(item) => codec::count(&item, "spent"),
            None => Ok(tokens),
        }
    }

    async fn spent(&self, sub: &str) -> Result<u64> {
        let (key, _) = Self::tokens_key(sub);
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk("GetItem", e))?
            .item;
        match item {
            Some(item) => codec::count(&item, "spent"),
            None => Ok(0),
        }
    }

    /// One request of `cost` for `sub`: a conditional `UpdateItem` that moves the `tat`
    /// stored in DynamoDB (where updates of one item are serialized), so instances checking
    /// one principal at once never race. A failed condition hands back the stored `tat`,
    /// which says whether the request is denied or the bucket is idle (a second update).
    async fn check(&self, sub: &str, cost: u32) -> Result<RateDecision> {
        let key = codec::key(format!("RL#{sub}"), "RL".to_owned());
        for _ in 0..RACE_RETRIES {
            let at = now();
            // The usual case under load first: the bucket is in use and has room.
            let stored = match self.advance(&key, at, cost, Step::Busy).await? {
                Advanced::Moved(tat) => return Ok(self.rate.allowed(tat, at)),
                Advanced::Refused(stored) => stored,
            };
            if stored.is_some_and(|tat| tat > at) {
                let (decision, next) = self.rate.decide(stored, at, cost);
                if next.is_none() {
                    return Ok(decision);
                }
                continue;
            }
            if let Advanced::Moved(tat) = self.advance(&key, at, cost, Step::Idle).await? {
                return Ok(self.rate.allowed(tat, at));
            }
            // Another instance took the idle bucket first: it is in use now.
        }
        Ok(RateDecision::Denied {
            limit: self.rate.limit,
            retry_after: Duration::from_secs(1),
        })
    }

    /// Moves `tat` by `cost` requests if `step`'s condition holds at `now`.
    async fn advance(
        &self,
        key: &codec::Item,
        now: u128,
        cost: u32,
        step: Step,
    ) -> Result<Advanced> {
        let cost = u128::from(cost.clamp(1, self.rate.limit)) * self.rate.interval;
        let full_at = (now + self.rate.burst()).div_ceil(1_000_000_000) + 60;
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key.clone()))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":expires", n(full_at))
            .return_values(ReturnValue::UpdatedNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let update = match step {
            // In use: add the cost to the stored tat if that stays within the burst.
            Step::Busy => update
                .update_expression("SET tat = tat + :cost, expires = :expires")
                .condition_expression("tat > :now AND tat <= :max")
                .expression_attribute_values(":cost", n(cost))
                .expression_attribute_values(":max", n(now + self.rate.burst() - cost)),
            // Idle (or new): start from now.
            Step::Idle => update
                .update_expression("SET tat = :next, expires = :expires")
                .condition_expression("attribute_not_exists(tat) OR tat <= :now")
                .expression_attribute_values(":next", n(now + cost)),
        };
        match update.send().await {
            Ok(output) => match output.attributes {
                Some(item) => Ok(Advanced::Moved(tat(&item)?.unwrap_or(now + cost))),
                None => Err(Error::storage("DynamoDB UpdateItem returned no tat")),
            },
            Err(SdkError::ServiceError(failed)) => match failed.err() {
                UpdateItemError::ConditionalCheckFailedException(refused) => {
                    let stored = refused.item().map(tat).transpose()?.flatten();
                    Ok(Advanced::Refused(stored))
                }
                _ => Err(sdk("UpdateItem", SdkError::ServiceError(failed))),
            },
            Err(error) => Err(sdk("UpdateItem", error)),
        }
    }
}

/// The `tat` of a rate-limit item, if it has one.
fn tat(item: &codec::Item) -> Result<Option<u128>> {
    if !item.contains_key("tat") {
        return Ok(None);
    }
    Ok(Some(u128::from(codec::count(item, "tat")?)))
}

/// What a conditional update of the bucket came to.
enum Advanced {
    /// It passed: the new `tat`.
    Moved(u128),
    /// Its condition failed: the stored `tat` (`None`: no bucket yet).
    Refused(Option<u128>),
}

/// Which of the two conditional updates of a check.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// The stored `tat` is ahead of now.
    Busy,
    /// It is not (or there is none).
    Idle,
}

fn now() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_counts_down_then_denies_and_refills() {
        let rate = Rate {
            limit: 3,
            interval: 1_000_000_000,
        };
        let (first, tat) = rate.decide(None, 0, 1);
        assert_eq!(
            first,
            RateDecision::Allowed {
                limit: 3,
                remaining: 2
            }
        );
        let (second, tat) = rate.decide(tat, 0, 2);
        assert_eq!(
            second,
            RateDecision::Allowed {
                limit: 3,
                remaining: 0
            }
        );
        let (denied, none) = rate.decide(tat, 0, 1);
        assert!(none.is_none());
        assert_eq!(
            denied,
            RateDecision::Denied {
                limit: 3,
                retry_after: Duration::from_secs(1)
            }
        );
        let (later, _) = rate.decide(tat, 1_000_000_000, 1);
        assert_eq!(
            later,
            RateDecision::Allowed {
                limit: 3,
                remaining: 0
            }
        );
    }
}
