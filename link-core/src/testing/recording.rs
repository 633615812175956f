//! An audit sink that keeps every event, for assertions.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::{AuditEvent, AuditSink, Result};

/// Keeps every recorded [`AuditEvent`] in memory. Clones share the same list.
///
/// ```
/// use link_core::testing::RecordingAuditSink;
/// let sink = RecordingAuditSink::default();
/// assert!(sink.events().is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct RecordingAuditSink {
    events: Arc<Mutex<Vec<AuditEvent>>>,
}

impl RecordingAuditSink {
    /// Every event recorded so far, oldest first.
    pub fn events(&self) -> Vec<AuditEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// Waits (up to two seconds) until at least `n` events were recorded, and returns them.
    /// Events of cancelled actions are recorded from a spawned task, a moment after the drop.
    pub async fn wait_for(&self, n: usize) -> Vec<AuditEvent> {
        for _ in 0..200 {
            let events = self.events();
            if events.len() >= n {
                return events;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        self.events()
    }
}

#[async_trait]
impl AuditSink for RecordingAuditSink {
    async fn record(&self, event: &AuditEvent) -> Result<()> {
        if let Ok(mut events) = self.events.lock() {
            events.push(event.clone());
        }
        Ok(())
    }
}
