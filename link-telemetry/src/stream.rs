//! [`ObservedStream`]: a streamed reply passed through unchanged while its [`Call`] records
//! the first token, the gaps, guardrail events and how it ended. Its span is entered while
//! the inner stream is polled, and closes when the stream is dropped.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use link_core::{ChatEvent, ChatStream, Result};

use crate::call::Call;
use crate::content::Transcript;

/// A reply stream under observation.
pub(crate) struct ObservedStream {
    inner: ChatStream,
    call: Call,
    transcript: Option<Transcript>,
}

impl ObservedStream {
    pub(crate) fn new(inner: ChatStream, call: Call, transcript: Option<Transcript>) -> Self {
        Self {
            inner,
            call,
            transcript,
        }
    }

    fn observe(&mut self, item: Option<&Result<ChatEvent>>) {
        match item {
            Some(Ok(ChatEvent::Delta { text })) => {
                self.call.text();
                if let Some(transcript) = &mut self.transcript {
                    transcript.push(text);
                }
            }
            Some(Ok(ChatEvent::GuardrailIntervened { .. })) => self.call.guardrail_event(),
            Some(Ok(ChatEvent::Done { stop_reason, usage })) => {
                self.call.finish(stop_reason, usage.as_ref());
                self.emit(Some(stop_reason.as_str()));
            }
            Some(Err(error)) => {
                self.call.fail(error);
                self.emit(None);
            }
            // Events a later version of link-core adds pass through uncounted.
            Some(Ok(_)) => {}
            None => {
                self.call.incomplete();
                self.emit(None);
            }
        }
    }

    fn emit(&mut self, finish_reason: Option<&str>) {
        if let Some(transcript) = self.transcript.take() {
            transcript.emit(&self.call.span, finish_reason);
        }
    }
}

impl Drop for ObservedStream {
    /// A stream dropped before its end (the caller went away, or stopped reading at a
    /// guardrail event) still gives its text so far.
    fn drop(&mut self) {
        self.emit(None);
    }
}

impl Stream for ObservedStream {
    type Item = Result<ChatEvent>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // `ObservedStream` is `Unpin`: every field is.
        let this = self.get_mut();
        let item = {
            let _entered = this.call.span.enter();
            futures::ready!(this.inner.as_mut().poll_next(cx))
        };
        this.observe(item.as_ref());
        Poll::Ready(item)
    }
}
