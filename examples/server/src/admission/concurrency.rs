//! Model calls running at once, per user (`LINK_MAX_MODEL_CALLS_PER_USER`): without a cap one
//! user's burst fills a model's queue (the local model runs one request at a time and queues
//! 8, then answers `busy`) or an upstream's concurrency, and everyone else's requests fail.
//!
//! A call over the cap is refused at once (429 `quota_exceeded`, `Retry-After: 1`) rather
//! than made to wait: waiting would hold a connection for as long as the user's other calls
//! run (a stream may run for minutes), and the refusal tells the client what to do.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::response::Response;
use http_body::{Frame, SizeHint};

/// How many model calls each user has running, and the cap.
#[derive(Debug)]
pub struct ModelCalls {
    max: usize,
    running: Mutex<HashMap<String, usize>>,
}

impl ModelCalls {
    /// At most `max` model calls per user at once; 0 means no cap.
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            running: Mutex::default(),
        })
    }

    /// The cap (0: none).
    pub fn max(&self) -> usize {
        self.max
    }

    /// A slot for one more call of the user `sub`, or `None` when `sub` already has the
    /// cap's worth running. The call runs until the slot is dropped.
    pub fn try_start(self: &Arc<Self>, sub: &str) -> Option<Slot> {
        if self.max == 0 {
            return Some(Slot { held: None });
        }
        let mut running = self.lock();
        let count = running.entry(sub.to_owned()).or_default();
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Slot {
            held: Some((self.clone(), sub.to_owned())),
        })
    }

    /// How many calls `sub` has running.
    pub fn running(&self, sub: &str) -> usize {
        self.lock().get(sub).copied().unwrap_or(0)
    }

    fn finish(&self, sub: &str) {
        let mut running = self.lock();
        if let Some(count) = running.get_mut(sub) {
            *count = count.saturating_sub(1);
            // Users with nothing running are forgotten, so the map holds only active ones.
            if *count == 0 {
                running.remove(sub);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, usize>> {
        // The counts stay consistent whatever panicked while holding the lock.
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One running model call; dropping it ends the call's count.
#[derive(Debug)]
pub struct Slot {
    held: Option<(Arc<ModelCalls>, String)>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some((calls, sub)) = self.held.take() {
            calls.finish(&sub);
        }
    }
}

/// `response` with `slot` held until its body has been sent or dropped: a streamed reply is a
/// model call for as long as it streams, and ends when the client goes away.
pub fn hold(response: Response, slot: Slot) -> Response {
    response.map(|inner| Body::new(Held { inner, _slot: slot }))
}

struct Held {
    inner: Body,
    _slot: Slot,
}

impl http_body::Body for Held {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[test]
    fn each_user_gets_the_cap_and_a_dropped_slot_frees_one() {
        let calls = ModelCalls::new(2);
        let first = calls.try_start("alice").unwrap();
        let _second = calls.try_start("alice").unwrap();
        assert!(calls.try_start("alice").is_none());
        let _bob = calls.try_start("bob").unwrap();
        drop(first);
        assert_eq!(calls.running("alice"), 1);
        assert!(calls.try_start("alice").is_some());
    }

    #[test]
    fn no_cap_counts_nothing() {
        let calls = ModelCalls::new(0);
        let slots: Vec<Slot> = (0..100).filter_map(|_| calls.try_start("a")).collect();
        assert_eq!(slots.len(), 100);
        assert_eq!(calls.running("a"), 0);
    }

    #[tokio::test]
    async fn a_held_response_frees_its_slot_when_its_body_is_done() {
        let calls = ModelCalls::new(1);
        let slot = calls.try_start("alice").unwrap();
        let response = hold(Response::new(Body::from("reply")), slot);
        assert_eq!(calls.running("alice"), 1);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, "reply");
        assert_eq!(calls.running("alice"), 0);
    }
}
