//! Avatars and lorebooks through the engine: a card's avatar kept on import (and refused
//! before anything is created when too large), copied to forks, replaced and removed by the
//! owner only, never left half-made; a conversation's lorebook edited by its owner and used
//! by the next turn.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use link_core::card::{ImportedCard, png, read_any};
use link_core::testing::{ScriptedChatModel, ScriptedExtractor};
use link_core::{
    Avatar, Conversation, ConversationId, ConversationPatch, ConversationStore, ConversationTokens,
    Error, Link, LoreEntry, Lorebook, MAX_AVATAR_BYTES, MemoryStore, Message, Month, Page,
    PageRequest, Persona, PersonaKind, Principal, RequestContext, Result, Splice, UserPersona,
};

fn ctx(who: &str) -> RequestContext {
    RequestContext::new(Principal::new(who))
}

fn link_on(store: Arc<dyn ConversationStore>, model: &ScriptedChatModel) -> Link {
    Link::builder()
        .extractor(Arc::new(ScriptedExtractor::default()))
        .chat_model(Arc::new(model.clone()))
        .store(store)
        .build()
        .unwrap()
}

fn ada() -> Persona {
    Persona::new(
        "Ada",
        PersonaKind::Historical,
        "A mathematician.",
        "Good day!",
    )
}

/// A conversation of `ctx`'s with Ada, started from her persona.
async fn started_with_ada(link: &Link, ctx: &RequestContext) -> ConversationId {
    let source = link_core::PersonaSource::Persona(Box::new(ada()));
    let started = link.create_conversation(ctx, source).await.unwrap();
    started.conversation.id
}

/// A PNG card of Ada (the placeholder picture with both card chunks), as a file.
fn card_file() -> Vec<u8> {
    png::write(&ada(), None).unwrap()
}

/// A `side` x `side` RGBA PNG of noise, which does not compress.
fn noise_png(side: u32) -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    let pixels: Vec<u8> = (0..side * side * 4)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();
    let mut out = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut out, side, side);
    encoder.set_color(::png::ColorType::Rgba);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    out
}

#[tokio::test]
async fn an_imported_cards_avatar_is_kept_served_to_its_owner_only_and_forked() {
    let model = ScriptedChatModel::replying(["Hello."]);
    let link = link_on(Arc::new(MemoryStore::default()), &model);
    let file = card_file();
    let detail = link
        .import_card(&ctx("alice"), read_any(&file).unwrap())
        .await
        .unwrap();
    let id = detail.conversation.id;
    let avatar = link.avatar(&ctx("alice"), id).await.unwrap().expect("kept");
    assert_eq!(
        avatar.as_bytes(),
        png::strip(&file).unwrap(),
        "the pixels, no card chunks"
    );
    assert!(
        png::read(avatar.as_bytes()).is_err(),
        "the card is not in the avatar"
    );
    let stranger = link.avatar(&ctx("mallory"), id).await;
    assert!(
        matches!(stranger, Err(Error::NotFound { .. })),
        "{stranger:?}"
    );
    let fork = link.fork(&ctx("alice"), id, None).await.unwrap();
    let forked = link
        .avatar(&ctx("alice"), fork.conversation.id)
        .await
        .unwrap();
    assert_eq!(forked, Some(avatar), "a fork keeps the picture");
    let json = br#"{"spec": "chara_card_v2", "spec_version": "2.0",
                    "data": {"name": "Bo", "description": "x", "first_mes": "Hi"}}"#;
    let plain = link
        .import_card(&ctx("alice"), read_any(json).unwrap())
        .await
        .unwrap();
    let none = link
        .avatar(&ctx("alice"), plain.conversation.id)
        .await
        .unwrap();
    assert_eq!(none, None, "a JSON card has no avatar");
}

#[tokio::test]
async fn the_owner_replaces_and_removes_the_avatar_and_a_broken_image_is_refused() {
    let model = ScriptedChatModel::replying(["Hello."]);
    let link = link_on(Arc::new(MemoryStore::default()), &model);
    let alice = ctx("alice");
    let id = started_with_ada(&link, &alice).await;
    assert_eq!(link.avatar(&alice, id).await.unwrap(), None);
    let upload = card_file();
    link.set_avatar(&alice, id, Some(&upload)).await.unwrap();
    let stored = link.avatar(&alice, id).await.unwrap().unwrap();
    assert!(
        png::read(stored.as_bytes()).is_err(),
        "text chunks are stripped from uploads"
    );
    for broken in [b"GIF89a...".as_slice(), &upload[..upload.len() / 2]] {
        let refused = link.set_avatar(&alice, id, Some(broken)).await;
        assert!(
            matches!(refused, Err(Error::InvalidRequest { .. })),
            "{refused:?}"
        );
    }
    let other = link.set_avatar(&ctx("mallory"), id, None).await;
    assert!(matches!(other, Err(Error::NotFound { .. })), "{other:?}");
    assert_eq!(link.avatar(&alice, id).await.unwrap(), Some(stored));
    link.set_avatar(&alice, id, None).await.unwrap();
    assert_eq!(link.avatar(&alice, id).await.unwrap(), None);
}

#[tokio::test]
async fn a_card_whose_avatar_is_too_large_creates_nothing() {
    let model = ScriptedChatModel::replying(["Hello."]);
    let store = Arc::new(MemoryStore::default());
    let link = link_on(store.clone(), &model);
    let mut card = read_any(&card_file()).unwrap();
    card.avatar = Some(png::strip(&noise_png(1024)).unwrap());
    assert!(card.avatar.as_ref().unwrap().len() > MAX_AVATAR_BYTES);
    let refused = link.import_card(&ctx("alice"), card).await;
    let Err(Error::InvalidRequest { message, .. }) = refused else {
        panic!("an avatar over the bound is refused: {refused:?}")
    };
    assert!(message.contains("3 MiB"), "{message}");
    let page = store.list("alice", &PageRequest::default()).await.unwrap();
    assert!(page.items.is_empty(), "no conversation was created");
}

#[tokio::test]
async fn an_import_whose_avatar_cannot_be_stored_is_undone() {
    let model = ScriptedChatModel::replying(["Hello."]);
    let store = Arc::new(AvatarsFail::default());
    let link = link_on(store.clone(), &model);
    let failed = link
        .import_card(&ctx("alice"), read_any(&card_file()).unwrap())
        .await;
    assert!(matches!(failed, Err(Error::Storage { .. })), "{failed:?}");
    let page = store.list("alice", &PageRequest::default()).await.unwrap();
    assert!(
        page.items.is_empty(),
        "the half-made conversation was deleted"
    );
    store.fail.store(false, Ordering::SeqCst);
    let imported: ImportedCard = read_any(&card_file()).unwrap();
    link.import_card(&ctx("alice"), imported).await.unwrap();
}

#[tokio::test]
async fn the_owner_edits_the_lorebook_and_the_next_turn_uses_it() {
    let model = ScriptedChatModel::replying(["One.", "Two.", "Three."]);
    let link = link_on(Arc::new(MemoryStore::default()), &model);
    let alice = ctx("alice");
    let id = started_with_ada(&link, &alice).await;
    assert_eq!(link.lorebook(&alice, id).await.unwrap(), None);
    let book = Lorebook {
        entries: vec![LoreEntry::new(
            ["Babbage"],
            "Babbage built the Difference Engine.",
        )],
        ..Lorebook::default()
    };
    let stored = link
        .set_lorebook(&alice, id, Some(book.clone()))
        .await
        .unwrap();
    assert_eq!(stored.as_ref(), Some(&book));
    assert_eq!(link.lorebook(&alice, id).await.unwrap(), Some(book.clone()));
    let system = |model: &ScriptedChatModel| model.requests().last().unwrap().system.clone();
    link.send(&alice, id, "How is Mr babbage?").await.unwrap();
    assert!(
        system(&model).contains("Difference Engine"),
        "the entry reached the prompt"
    );
    let other = link.set_lorebook(&ctx("mallory"), id, None).await;
    assert!(matches!(other, Err(Error::NotFound { .. })), "{other:?}");
    let huge = Lorebook {
        entries: vec![LoreEntry::new(["x"], &"word ".repeat(2_000))],
        ..Lorebook::default()
    };
    let refused = link.set_lorebook(&alice, id, Some(huge)).await;
    assert!(
        matches!(refused, Err(Error::InvalidPersona { .. })),
        "{refused:?}"
    );
    assert_eq!(
        link.lorebook(&alice, id).await.unwrap(),
        Some(book),
        "unchanged"
    );
    link.set_lorebook(&alice, id, None).await.unwrap();
    link.send(&alice, id, "And babbage now?").await.unwrap();
    assert!(!system(&model).contains("Difference Engine"), "removed");
}

/// A memory store whose `set_avatar` fails while `fail` is set.
#[derive(Debug)]
struct AvatarsFail {
    inner: MemoryStore,
    fail: AtomicBool,
}

impl Default for AvatarsFail {
    fn default() -> Self {
        Self {
            inner: MemoryStore::default(),
            fail: AtomicBool::new(true),
        }
    }
}

#[async_trait]
impl ConversationStore for AvatarsFail {
    async fn create(&self, conversation: &Conversation, messages: &[Message]) -> Result<()> {
        self.inner.create(conversation, messages).await
    }
    async fn get(&self, owner: &str, id: ConversationId) -> Result<Option<Conversation>> {
        self.inner.get(owner, id).await
    }
    async fn list(&self, owner: &str, page: &PageRequest) -> Result<Page<Conversation>> {
        self.inner.list(owner, page).await
    }
    async fn update(
        &self,
        owner: &str,
        id: ConversationId,
        patch: &ConversationPatch,
    ) -> Result<Conversation> {
        self.inner.update(owner, id, patch).await
    }
    async fn delete(&self, owner: &str, id: ConversationId) -> Result<bool> {
        self.inner.delete(owner, id).await
    }
    async fn splice(&self, owner: &str, id: ConversationId, splice: &Splice) -> Result<()> {
        self.inner.splice(owner, id, splice).await
    }
    async fn messages(
        &self,
        owner: &str,
        id: ConversationId,
        last: Option<usize>,
    ) -> Result<Vec<Message>> {
        self.inner.messages(owner, id, last).await
    }
    async fn user_persona(&self, owner: &str) -> Result<Option<UserPersona>> {
        self.inner.user_persona(owner).await
    }
    async fn set_user_persona(&self, owner: &str, persona: Option<UserPersona>) -> Result<()> {
        self.inner.set_user_persona(owner, persona).await
    }
    async fn token_usage(&self, owner: &str, month: Month) -> Result<Vec<ConversationTokens>> {
        self.inner.token_usage(owner, month).await
    }
    async fn avatar(&self, owner: &str, id: ConversationId) -> Result<Option<Avatar>> {
        self.inner.avatar(owner, id).await
    }
    async fn set_avatar(&self, owner: &str, id: ConversationId, a: Option<Avatar>) -> Result<()> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(Error::storage("the avatar write failed"));
        }
        self.inner.set_avatar(owner, id, a).await
    }
}
