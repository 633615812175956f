//! The engine with the governor limiter, counting for itself (as in-process embedders and
//! the CLI do, with no transport handing a decision in): each action costs what
//! `AuditAction::cost` says, and the tokens its model calls report are spent against the
//! daily quota (streamed replies too: tests/costs.rs of link-server shows it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use link_auth::clock::FakeRelativeClock;
use link_auth::{GovernorRateLimiter, RateLimitConfig};
use link_core::testing::{RecordingAuditSink, ScriptedChatModel, ScriptedExtractor};
use link_core::{
    AuditOutcome, Error, Link, PersonaSource, Principal, RateDecision, RateLimiter, RequestContext,
};

/// 10 requests a period that never refills, and `daily_tokens`.
fn limiter(daily_tokens: Option<u64>) -> Arc<GovernorRateLimiter<FakeRelativeClock>> {
    let config = RateLimitConfig {
        requests: 10,
        burst: 10,
        ..RateLimitConfig::default()
    };
    let limiter = GovernorRateLimiter::with_clock(config, FakeRelativeClock::default()).unwrap();
    Arc::new(limiter.with_daily_tokens(daily_tokens))
}

fn engine(limiter: Arc<dyn RateLimiter>, audit: &RecordingAuditSink) -> Link {
    Link::builder()
        .extractor(Arc::new(ScriptedExtractor::default()))
        .chat_model(Arc::new(ScriptedChatModel::replying(["Elementary."])))
        .rate_limiter(limiter)
        .audit(Arc::new(audit.clone()))
        .build()
        .unwrap()
}

fn ctx(sub: &str) -> RequestContext {
    RequestContext::new(Principal::new(sub))
}

#[tokio::test]
async fn each_action_costs_what_it_does() {
    let limiter = limiter(None);
    let link = engine(limiter.clone(), &RecordingAuditSink::default());
    let alice = ctx("alice");
    // An extraction 4, a reply 2, a read 1, a conversation from a given persona 1.
    let request = PersonaSource::Request("Sherlock Holmes".into());
    let detail = link.create_conversation(&alice, request).await.unwrap();
    let id = detail.conversation.id;
    link.send(&alice, id, "Who are you?").await.unwrap();
    link.list_conversations(&alice, &Default::default())
        .await
        .unwrap();
    let given = PersonaSource::Persona(Box::new(detail.conversation.persona));
    link.create_conversation(&alice, given).await.unwrap();
    assert_eq!(
        limiter.check_n(&alice.principal, 2),
        RateDecision::Allowed {
            limit: 10,
            remaining: 0
        },
        "4 + 2 + 1 + 1 used, 2 left"
    );
    let refused = link.send(&alice, id, "Again?").await.unwrap_err();
    assert!(matches!(refused, Error::RateLimited { .. }), "{refused:?}");
}

#[tokio::test]
async fn model_calls_stop_once_the_reported_tokens_reach_the_quota() {
    let limiter = limiter(Some(1));
    let audit = RecordingAuditSink::default();
    let link = engine(limiter.clone(), &audit);
    let (alice, bob) = (ctx("alice"), ctx("bob"));
    let request = PersonaSource::Request("Sherlock Holmes".into());
    let id = (link.create_conversation(&alice, request.clone()).await)
        .unwrap()
        .conversation
        .id;
    let reply = link.send(&alice, id, "Who are you?").await.unwrap();
    assert!(reply.usage.unwrap().total_tokens > 1);

    let refused = link.send(&alice, id, "Again?").await.unwrap_err();
    let Error::QuotaExceeded {
        message,
        retry_after,
    } = &refused
    else {
        panic!("expected the quota's refusal, got {refused:?}");
    };
    assert!(message.contains("daily token quota"), "{message}");
    assert!(*retry_after > Duration::ZERO && *retry_after <= Duration::from_secs(86_400));
    assert_eq!(refused.code(), "quota_exceeded");
    let refusal = audit.events().pop().unwrap();
    assert_eq!(refusal.outcome, AuditOutcome::RateLimited);
    assert_eq!(refusal.error.as_deref(), Some("quota_exceeded"));
    // Reads still pass; starting a conversation from a request calls a model, and does not.
    link.get_conversation(&alice, id).await.unwrap();
    let create = link.create_conversation(&alice, request.clone()).await;
    assert!(matches!(create, Err(Error::QuotaExceeded { .. })));

    // Bob's tokens are his own.
    let id = (link.create_conversation(&bob, request).await)
        .unwrap()
        .conversation
        .id;
    link.send(&bob, id, "Hello?").await.unwrap();
}
