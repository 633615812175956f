//! The [`ConversationStore`] checks of the chat controls: splices (regenerate, edit, rewind)
//! all or nothing, conversation settings, user personas, and listing in pages.
//!
//! Like every conformance check, each makes its own owners and runs in any order.

use time::Duration;

use super::store::{conversation, expect_not_found, get, listed, message_at, messages_of, stored};
use super::{expect_err, expect_ok, unique};
use crate::{
    Conversation, ConversationId, ConversationPatch, ConversationStore, Cursor, Error, LoreEntry,
    Lorebook, Message, MessageId, PageRequest, Role, Splice, UserPersona,
};

/// Runs every check of this module, in order.
pub async fn conversation_store_controls(store: &dyn ConversationStore) {
    message_versions_and_flags_read_back_exactly(store).await;
    forks_and_user_personas_of_conversations_read_back_exactly(store).await;
    splice_replaces_in_place_keeping_id_role_and_time(store).await;
    splice_of_a_stale_revision_is_a_conflict_and_changes_nothing(store).await;
    splice_keep_through_removes_the_later_messages_then_appends(store).await;
    splice_with_a_stale_expect_last_is_a_conflict_and_changes_nothing(store).await;
    splice_of_a_missing_message_is_not_found_and_changes_nothing(store).await;
    splice_cannot_replace_a_message_it_removes(store).await;
    splice_is_owner_scoped(store).await;
    splice_bumps_updated_at_for_edits_and_appends(store).await;
    empty_append_to_another_owners_conversation_is_not_found(store).await;
    update_sets_and_clears_the_user_persona(store).await;
    update_replaces_and_removes_the_lorebook(store).await;
    update_is_owner_scoped(store).await;
    user_personas_are_kept_per_owner(store).await;
    list_pages_cover_everything_once_in_order(store).await;
    list_refuses_a_cursor_it_did_not_make(store).await;
}

/// A stored conversation of `owner` with a greeting and `turns` user/assistant pairs.
async fn with_turns(
    store: &dyn ConversationStore,
    owner: &str,
    turns: i64,
) -> (Conversation, Vec<Message>) {
    let (conversation, greeting) = stored(store, owner).await;
    let mut messages = vec![greeting];
    for turn in 0..turns {
        let user = message_at(&conversation, 2 * turn + 1, Role::User, &format!("q{turn}"));
        let reply = message_at(
            &conversation,
            2 * turn + 2,
            Role::Assistant,
            &format!("a{turn}"),
        );
        let pair = [user, reply];
        expect_ok(
            store.append_all(owner, conversation.id, &pair).await,
            "append_all",
        );
        messages.extend(pair);
    }
    (conversation, messages)
}

async fn splice(
    store: &dyn ConversationStore,
    conversation: &Conversation,
    splice: &Splice,
) -> crate::Result<()> {
    store
        .splice(&conversation.owner, conversation.id, splice)
        .await
}

/// Versions, the chosen index, the interrupted flag and the edit time read back exactly.
pub async fn message_versions_and_flags_read_back_exactly(store: &dyn ConversationStore) {
    let (conversation, greeting) = stored(store, &unique("alice")).await;
    let mut reply = message_at(&conversation, 5, Role::Assistant, "first");
    reply.add_alternative("second ✨");
    reply.choose(0).unwrap_or_else(|e| panic!("{e}"));
    reply.interrupted = true;
    reply.edited_at = Some(conversation.created_at + Duration::seconds(6));
    let appended = store
        .append(&conversation.owner, conversation.id, &reply)
        .await;
    expect_ok(appended, "append");
    assert_eq!(
        messages_of(store, &conversation, None).await,
        vec![greeting, reply],
        "a message's versions, chosen index, flags and edit time must read back exactly"
    );
}

/// A fork's origin and a conversation's user persona read back exactly.
pub async fn forks_and_user_personas_of_conversations_read_back_exactly(
    store: &dyn ConversationStore,
) {
    let (source, greeting) = stored(store, &unique("alice")).await;
    let mut fork = source.fork_at(greeting.id);
    fork.user_persona = Some(UserPersona::new("Watson", "A doctor <b>."));
    expect_ok(store.create(&fork, &[greeting.copied()]).await, "create");
    assert_eq!(
        get(store, &fork.owner, fork.id).await,
        Some(fork.clone()),
        "a fork's origin and user persona must read back exactly"
    );
}

/// `replace` overwrites text, versions and flags, never the id, role or creation time.
pub async fn splice_replaces_in_place_keeping_id_role_and_time(store: &dyn ConversationStore) {
    let (conversation, messages) = with_turns(store, &unique("alice"), 1).await;
    let mut reply = messages[2].clone();
    reply.add_alternative("a0, again");
    reply.edited_at = Some(conversation.created_at + Duration::seconds(9));
    let mut forged = reply.clone();
    forged.role = Role::User;
    forged.created_at = conversation.created_at + Duration::days(3);
    let done = splice(store, &conversation, &Splice::default().replace(forged)).await;
    expect_ok(done, "splice");
    let read = messages_of(store, &conversation, None).await;
    let stored = reply.stored_revision();
    assert_eq!(
        read,
        vec![messages[0].clone(), messages[1].clone(), stored.clone()]
    );
    assert_eq!(stored.revision, 1, "a replace bumps the revision");
}

/// A replace that names a revision other than the stored one (someone rewrote the message
/// since it was read) fails with [`Error::Conflict`] and changes nothing.
pub async fn splice_of_a_stale_revision_is_a_conflict_and_changes_nothing(
    store: &dyn ConversationStore,
) {
    let (conversation, messages) = with_turns(store, &unique("alice"), 1).await;
    let mut first = messages[2].clone();
    first.add_alternative("first writer");
    let mut second = messages[2].clone();
    second.add_alternative("second writer");
    let done = splice(
        store,
        &conversation,
        &Splice::default().replace(first.clone()),
    )
    .await;
    expect_ok(done, "splice");
    let change = Splice::default()
        .append(message_at(&conversation, 9, Role::User, "x"))
        .replace(second);
    let err = expect_err(
        splice(store, &conversation, &change).await,
        "a stale revision",
    );
    assert!(
        matches!(err, Error::Conflict { .. }),
        "expected a conflict, got {err:?}"
    );
    let read = messages_of(store, &conversation, None).await;
    assert_eq!(
        read[2..],
        [first.stored_revision()],
        "the first writer's version stays"
    );
}

/// `keep_through` removes every later message, then `append` adds after what is kept.
pub async fn splice_keep_through_removes_the_later_messages_then_appends(
    store: &dyn ConversationStore,
) {
    let (conversation, messages) = with_turns(store, &unique("alice"), 3).await;
    let new = message_at(&conversation, 20, Role::Assistant, "new");
    let change = Splice::default()
        .keep_through(messages[3].id)
        .expect_last(messages[6].id)
        .append(new.clone());
    expect_ok(splice(store, &conversation, &change).await, "splice");
    let mut expected = messages[..4].to_vec();
    expected.push(new);
    assert_eq!(messages_of(store, &conversation, None).await, expected);
    let last_two = messages_of(store, &conversation, Some(2)).await;
    assert_eq!(last_two, expected[3..], "`last` must see the spliced order");
}

/// A splice whose `expect_last` is not the newest message fails with [`Error::Conflict`] and
/// changes nothing.
pub async fn splice_with_a_stale_expect_last_is_a_conflict_and_changes_nothing(
    store: &dyn ConversationStore,
) {
    let (conversation, messages) = with_turns(store, &unique("alice"), 2).await;
    let change = Splice::default()
        .expect_last(messages[2].id)
        .keep_through(messages[0].id)
        .append(message_at(&conversation, 30, Role::User, "late"));
    let err = expect_err(
        splice(store, &conversation, &change).await,
        "stale expect_last",
    );
    assert!(
        matches!(err, Error::Conflict { .. }),
        "expected a conflict, got {err:?}"
    );
    assert_eq!(messages_of(store, &conversation, None).await, messages);
}

/// A splice naming a message that is not in the conversation (missing, or another
/// conversation's) fails with [`Error::NotFound`] and changes nothing, also the removals and
/// appends that came before it in the splice.
pub async fn splice_of_a_missing_message_is_not_found_and_changes_nothing(
    store: &dyn ConversationStore,
) {
    let alice = unique("alice");
    let (conversation, messages) = with_turns(store, &alice, 2).await;
    let (_, elsewhere) = with_turns(store, &alice, 1).await;
    let mut stranger = elsewhere[1].clone();
    stranger.content = "moved".into();
    let appended = message_at(&conversation, 40, Role::User, "x");
    for change in [
        Splice::default()
            .keep_through(messages[2].id)
            .replace(stranger.clone()),
        Splice::default()
            .keep_through(MessageId::new())
            .append(appended.clone()),
        Splice::default().append(appended.clone()).replace(stranger),
    ] {
        expect_not_found(
            splice(store, &conversation, &change).await,
            "missing message",
        );
        assert_eq!(messages_of(store, &conversation, None).await, messages);
    }
    assert_eq!(messages_of(store, &conversation, None).await, messages);
    let other = store.messages(&alice, elsewhere_id(&elsewhere, store, &alice).await, None);
    assert_eq!(expect_ok(other.await, "messages"), elsewhere);
}

async fn elsewhere_id(
    messages: &[Message],
    store: &dyn ConversationStore,
    owner: &str,
) -> ConversationId {
    for conversation in listed(store, owner).await {
        let read = expect_ok(
            store.messages(owner, conversation.id, None).await,
            "messages",
        );
        if read.first().map(|m| m.id) == messages.first().map(|m| m.id) {
            return conversation.id;
        }
    }
    panic!("the other conversation is gone")
}

/// A splice may not replace a message its `keep_through` removes.
pub async fn splice_cannot_replace_a_message_it_removes(store: &dyn ConversationStore) {
    let (conversation, messages) = with_turns(store, &unique("alice"), 2).await;
    let mut late = messages[4].clone();
    late.content = "changed".into();
    let change = Splice::default().keep_through(messages[1].id).replace(late);
    expect_not_found(
        splice(store, &conversation, &change).await,
        "replace after keep",
    );
    assert_eq!(messages_of(store, &conversation, None).await, messages);
}

/// A splice of another owner's conversation is [`Error::NotFound`] and changes nothing.
pub async fn splice_is_owner_scoped(store: &dyn ConversationStore) {
    let (conversation, messages) = with_turns(store, &unique("alice"), 1).await;
    let change = Splice::default().keep_through(messages[0].id);
    let bob = unique("bob");
    expect_not_found(
        store.splice(&bob, conversation.id, &change).await,
        "splice of another owner's conversation",
    );
    expect_not_found(
        store.splice(&bob, ConversationId::new(), &change).await,
        "splice of a missing conversation",
    );
    assert_eq!(messages_of(store, &conversation, None).await, messages);
}

/// Appends and edits move `updated_at` forward to their time, never back; a rewind leaves it.
pub async fn splice_bumps_updated_at_for_edits_and_appends(store: &dyn ConversationStore) {
    let (conversation, messages) = with_turns(store, &unique("alice"), 1).await;
    let owner = &conversation.owner;
    let updated = |c: Option<Conversation>| c.map(|c| c.updated_at);
    let mut edited = messages[1].clone();
    edited.edit("q0 edited");
    edited.edited_at = Some(conversation.created_at + Duration::seconds(50));
    expect_ok(
        splice(store, &conversation, &Splice::default().replace(edited)).await,
        "splice",
    );
    let at = get(store, owner, conversation.id).await;
    assert_eq!(
        updated(at),
        Some(conversation.created_at + Duration::seconds(50))
    );
    let rewind = Splice::default().keep_through(messages[0].id);
    expect_ok(splice(store, &conversation, &rewind).await, "splice");
    let at = get(store, owner, conversation.id).await;
    assert_eq!(
        updated(at),
        Some(conversation.created_at + Duration::seconds(50)),
        "a splice without a time must leave updated_at"
    );
}

/// An empty append to another owner's conversation is still [`Error::NotFound`].
pub async fn empty_append_to_another_owners_conversation_is_not_found(
    store: &dyn ConversationStore,
) {
    let (conversation, _) = stored(store, &unique("alice")).await;
    expect_not_found(
        store.append_all(&unique("bob"), conversation.id, &[]).await,
        "an empty append_all to another owner's conversation",
    );
}

/// `update` sets the conversation's user persona, returns and keeps it, and clears it.
pub async fn update_sets_and_clears_the_user_persona(store: &dyn ConversationStore) {
    let (conversation, _) = stored(store, &unique("alice")).await;
    let (owner, id) = (&conversation.owner, conversation.id);
    let me = UserPersona::new("Ann", "A sailor.");
    let set = ConversationPatch::default().user_persona(Some(me.clone()));
    let returned = expect_ok(store.update(owner, id, &set).await, "update");
    assert_eq!(returned.user_persona.as_ref(), Some(&me));
    assert_eq!(get(store, owner, id).await, Some(returned));
    let cleared = ConversationPatch::default().user_persona(None);
    let returned = expect_ok(store.update(owner, id, &cleared).await, "update");
    assert_eq!(
        returned, conversation,
        "clearing must restore the conversation"
    );
    let unchanged = expect_ok(
        store.update(owner, id, &ConversationPatch::default()).await,
        "update",
    );
    assert_eq!(unchanged, conversation, "an empty patch changes nothing");
}

/// A lorebook set by `update` reads back exactly (from `update`, `get` and `list`), leaves
/// the rest of the persona as it was, and `None` removes it.
pub async fn update_replaces_and_removes_the_lorebook(store: &dyn ConversationStore) {
    let (conversation, _) = stored(store, &unique("lore")).await;
    let (owner, id) = (&conversation.owner, conversation.id);
    let mut entry = LoreEntry::new(
        ["Moriarty", "the Professor"],
        "Moriarty is a mathematician. 🎩",
    );
    entry.secondary_keys = Some(vec!["crime".to_owned()]);
    let book = Lorebook {
        name: Some("London".to_owned()),
        token_budget: Some(300),
        entries: vec![entry],
        ..Lorebook::default()
    };
    let set = ConversationPatch::default().lorebook(Some(book.clone()));
    let returned = expect_ok(store.update(owner, id, &set).await, "update");
    let mut expected = conversation.clone();
    expected.persona.lorebook = Some(book);
    assert_eq!(
        returned, expected,
        "update returns the lorebook, the rest unchanged"
    );
    assert_eq!(
        get(store, owner, id).await.as_ref(),
        Some(&expected),
        "get reads it back"
    );
    assert_eq!(listed(store, owner).await, [expected], "list reads it back");
    let removed = ConversationPatch::default().lorebook(None);
    let returned = expect_ok(store.update(owner, id, &removed).await, "update");
    assert_eq!(returned, conversation, "None removes the lorebook");
    assert_eq!(get(store, owner, id).await, Some(conversation));
}

/// `update` of another owner's conversation is [`Error::NotFound`] and changes nothing.
pub async fn update_is_owner_scoped(store: &dyn ConversationStore) {
    let (conversation, _) = stored(store, &unique("alice")).await;
    let patch = ConversationPatch::default().user_persona(Some(UserPersona::new("Eve", "")));
    expect_not_found(
        store.update(&unique("bob"), conversation.id, &patch).await,
        "update of another owner's conversation",
    );
    let read = get(store, &conversation.owner, conversation.id).await;
    assert_eq!(read, Some(conversation));
}

/// Each owner has their own default user persona; setting replaces it, `None` clears it.
pub async fn user_personas_are_kept_per_owner(store: &dyn ConversationStore) {
    let (alice, bob) = (unique("alice"), unique("bob"));
    assert_eq!(
        expect_ok(store.user_persona(&alice).await, "user_persona"),
        None
    );
    let first = UserPersona::new("Alice", "Likes tea.");
    let second = UserPersona::new("Alicia", "");
    for persona in [&first, &second] {
        let set = store.set_user_persona(&alice, Some(persona.clone())).await;
        expect_ok(set, "set_user_persona");
    }
    assert_eq!(
        expect_ok(store.user_persona(&alice).await, "user_persona"),
        Some(second)
    );
    assert_eq!(
        expect_ok(store.user_persona(&bob).await, "user_persona"),
        None
    );
    expect_ok(
        store.set_user_persona(&alice, None).await,
        "set_user_persona",
    );
    assert_eq!(
        expect_ok(store.user_persona(&alice).await, "user_persona"),
        None
    );
}

/// Following the cursors reads every conversation once, newest first, and the last page has
/// no cursor.
pub async fn list_pages_cover_everything_once_in_order(store: &dyn ConversationStore) {
    let alice = unique("alice");
    let mut made = Vec::new();
    for i in 0..5 {
        let mut c = conversation(&alice, &format!("c{i}"));
        // Two share a time, so the id breaks the tie across a page boundary.
        c.updated_at = c.created_at + Duration::seconds([3, 1, 2, 2, 5][i]);
        expect_ok(store.create(&c, &[]).await, "create");
        made.push(c);
    }
    made.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
    let mut seen = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let read = expect_ok(store.list(&alice, &page).await, "list");
        assert!(read.items.len() <= 2, "a page holds at most its limit");
        seen.extend(read.items.iter().map(|c| c.id));
        match read.next {
            Some(cursor) => page = PageRequest::first(2).after(Some(cursor)),
            None => break,
        }
        assert!(seen.len() <= made.len(), "the cursors must end");
    }
    let expected: Vec<ConversationId> = made.iter().map(|c| c.id).collect();
    assert_eq!(
        seen, expected,
        "pages must read every conversation once, in order"
    );
    let all = expect_ok(store.list(&alice, &PageRequest::first(5)).await, "list");
    assert_eq!(all.next, None, "a page that holds the rest has no cursor");
}

/// A cursor the store did not make is an invalid request.
pub async fn list_refuses_a_cursor_it_did_not_make(store: &dyn ConversationStore) {
    let page = PageRequest::default().after(Some(Cursor::new("not a cursor")));
    let err = expect_err(store.list(&unique("alice"), &page).await, "a forged cursor");
    assert!(
        matches!(err, Error::InvalidRequest { .. }),
        "expected invalid, got {err:?}"
    );
}
