//! [`DynamoRateLimiter`]: the same allowance for a principal across every instance, as GCRA
//! (the generic cell rate algorithm) in one DynamoDB item per principal.
//!
//! The item (`PK = RL#{sub}`, `SK = RL`) keeps the theoretical arrival time `tat` in
//! nanoseconds since the epoch. A request costing `c` moves it to `max(tat, now) + c·T`
//! (`T = period / limit`) and passes while that is at most `limit·T` ahead of now. The new
//! `tat` is written with one `UpdateItem` conditioned on the `tat` that was read, so two
//! instances counting the same principal at once never both win: the loser reads again and
//! retries. A denied request writes nothing. `expires` (the table's time to live) is set past
//! the moment the bucket is full again, so idle principals' items go away on their own.

use std::sync::mpsc as blocking;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use link_core::{Error, Principal, RateDecision, RateLimiter, Result};
use tokio::sync::mpsc;

use crate::codec::{self, n};
use crate::error::sdk;

/// How many times a check that lost a race on the principal's item reads again.
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
}

struct Job {
    key: String,
    cost: u32,
    reply: blocking::SyncSender<Result<RateDecision>>,
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
        let remaining = u32::try_from((self.burst() - ahead) / self.interval).unwrap_or(0);
        let decision = RateDecision::Allowed {
            limit: self.limit,
            remaining,
        };
        (decision, Some(next))
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
                            let decision = worker.check(&job.key, job.cost).await;
                            let _ = job.reply.send(decision);
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
        })
    }

    /// How long a check waits for DynamoDB before letting the request pass (2 s by default).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn ask(&self, principal: &Principal, cost: u32) -> RateDecision {
        let (reply, answer) = blocking::sync_channel(1);
        let job = Job {
            key: principal.sub.clone(),
            cost,
            reply,
        };
        let outcome = match self.jobs.send(job) {
            Ok(()) => answer
                .recv_timeout(self.timeout)
                .unwrap_or_else(|_| Err(Error::storage("the rate limiter did not answer in time"))),
            Err(_) => Err(Error::storage("the rate limiter's thread has stopped")),
        };
        outcome.unwrap_or_else(|error| {
            tracing::warn!(%error, "DynamoDB rate limit unavailable; letting the request pass");
            RateDecision::Allowed {
                limit: self.limit,
                remaining: 0,
            }
        })
    }
}

impl RateLimiter for DynamoRateLimiter {
    fn check(&self, principal: &Principal) -> RateDecision {
        self.ask(principal, 1)
    }

    fn check_n(&self, principal: &Principal, cost: u32) -> RateDecision {
        self.ask(principal, cost)
    }
}

/// The half of the limiter that talks to DynamoDB, on the limiter's thread.
struct Worker {
    client: Client,
    table: String,
    rate: Rate,
}

impl Worker {
    async fn check(&self, sub: &str, cost: u32) -> Result<RateDecision> {
        let key = codec::key(format!("RL#{sub}"), "RL".to_owned());
        for _ in 0..RACE_RETRIES {
            let item = self
                .client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(key.clone()))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| sdk("GetItem", e))?
                .item;
            let stored = match &item {
                Some(item) => Some(u128::from(codec::count(item, "tat")?)),
                None => None,
            };
            let (decision, next) = self.rate.decide(stored, now(), cost);
            let Some(next) = next else {
                return Ok(decision);
            };
            let expires = next.div_ceil(1_000_000_000) + 60;
            let mut update = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key.clone()))
                .update_expression("SET tat = :next, expires = :expires")
                .expression_attribute_values(":next", n(next))
                .expression_attribute_values(":expires", n(expires));
            update = match stored {
                Some(tat) => update
                    .condition_expression("tat = :tat")
                    .expression_attribute_values(":tat", n(tat)),
                None => update.condition_expression("attribute_not_exists(PK)"),
            };
            match update.send().await {
                Ok(_) => return Ok(decision),
                Err(error) if error.code() == Some("ConditionalCheckFailedException") => {
                    tracing::debug!("lost a race on a rate-limit item; reading again");
                }
                Err(error) => return Err(sdk("UpdateItem", error)),
            }
        }
        // Many instances counting this one principal at once: it is busy enough to wait.
        Ok(RateDecision::Denied {
            limit: self.rate.limit,
            retry_after: Duration::from_secs(1),
        })
    }
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
