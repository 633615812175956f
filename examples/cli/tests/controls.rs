//! The chat controls of the real `link` binary in a pseudo-terminal (`/regen`, `/alt`, `/me`,
//! `/undo`, `/edit`, `/fork`), in-process and through a running link-server, each checked on
//! the screen and then in the database the conversation was stored in.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use link::Message;
use link::Role;
use rexpect::session::PtySession;
use support::mock_openai::{GRADUAL_REPLY, REPLY};
use support::{Server, World, entered, exits_cleanly, stop_slow_reply};

/// Says `text` and waits for the whole reply and the next prompt.
fn say(chat: &mut PtySession, text: &str, reply: &str) {
    chat.send_line(text).unwrap();
    chat.exp_string(reply).unwrap();
    chat.exp_string("you> ").unwrap();
}

/// Runs `command` and waits for `shows`, then the next prompt.
fn command(chat: &mut PtySession, command: &str, shows: &str) {
    chat.send_line(command).unwrap();
    chat.exp_string(shows).unwrap();
    chat.exp_string("you> ").unwrap();
}

/// Forks with `/fork` and gives the id of the fork the chat moved to.
fn fork(chat: &mut PtySession) -> String {
    chat.send_line("/fork").unwrap();
    let (_, forked) = chat
        .exp_regex("forked: conversation [0-9a-f-]{36}")
        .unwrap();
    chat.exp_string("you> ").unwrap();
    forked
        .trim_start_matches("forked: conversation ")
        .to_owned()
}

/// Conversation `id` as stored, asserting that after the greeting it holds a first turn and
/// then the turn `/edit` rewrote to "Tell it gradually".
fn stored_after_edit(world: &World, id: &str) -> Vec<Message> {
    let (_, messages) = world.stored(id);
    let said: Vec<_> = messages.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        said[1..],
        ["Who are you?", REPLY, "Tell it gradually", GRADUAL_REPLY],
        "{said:?}"
    );
    messages
}

/// The last system prompt the model was sent.
fn last_system_prompt(world: &World) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let bodies = runtime.block_on(world.mock.bodies());
    let last = bodies.last().unwrap();
    last["messages"][0]["content"].as_str().unwrap().to_owned()
}

#[test]
fn regen_alt_me_undo_edit_and_fork_in_process() {
    let world = World::new();
    // Room for more actions than the default 25 requests a minute (a reply costs 2).
    let args = ["--rate-limit-per-minute", "100", "chat", "Sherlock Holmes"];
    let mut chat = world.pty(&args);
    let id = entered(&mut chat);
    chat.exp_string("you> ").unwrap();
    say(&mut chat, "Who are you?", REPLY);

    // A second version streams in like a reply and says which it is.
    // (The spinner stands between the name and the first word.)
    command(&mut chat, "/regen", &format!("{REPLY} (2/2)"));
    command(&mut chat, "/alt", &format!("{REPLY} (1/2)"));
    command(&mut chat, "/alt 2", &format!("{REPLY} (2/2)"));
    command(&mut chat, "/alt prev", &format!("{REPLY} (1/2)"));
    command(&mut chat, "/alt 3", "the last reply has 2 versions");

    // Who the user is reaches the model's prompt.
    // (rexpect reads bytes as Latin-1: the em dash it prints is matched as any text.)
    for line in ["/me Dr Watson - an army doctor", "/me"] {
        chat.send_line(line).unwrap();
        chat.exp_regex("you are Dr Watson .+ an army doctor")
            .unwrap();
        chat.exp_string("you> ").unwrap();
    }
    say(&mut chat, "And the dog?", REPLY);
    assert!(last_system_prompt(&world).contains("Dr Watson"));
    say(&mut chat, "A third question", REPLY);

    // /undo removes the last turn and shows where the chat is back at.
    command(&mut chat, "/undo 0", "usage: /undo [n]");
    command(&mut chat, "/undo", "(removed 2 messages)");
    // /edit rewrites "And the dog?" and the reply to it is made again.
    command(&mut chat, "/edit Tell it gradually", GRADUAL_REPLY);

    let fork = fork(&mut chat);
    say(&mut chat, "Only in the fork", REPLY);
    command(&mut chat, "/me clear", "user persona cleared");
    command(&mut chat, "/me", "no user persona");
    chat.send_line("/quit").unwrap();
    exits_cleanly(&mut chat);

    // The original: the regenerated reply keeps both versions with the first chosen, the
    // undone turn is gone, the edited message and its new reply are last.
    let messages = stored_after_edit(&world, &id);
    assert_eq!(messages[2].alternatives, [REPLY, REPLY]);
    assert_eq!(messages[2].chosen, 0);
    assert_eq!(messages[3].role, Role::User);
    assert!(messages[3].edited_at.is_some());
    // The fork: a copy of all of it, its origin, and the turn said only there.
    let (copy, copied) = world.stored(&fork);
    assert_eq!(copy.origin.unwrap().conversation.to_string(), id);
    assert_eq!(copied.len(), messages.len() + 2);
    assert_eq!(copied[2].alternatives, [REPLY, REPLY]);
    assert_eq!(copied[5].content, "Only in the fork");
    assert_eq!(world.stored_user_persona(), None);
}

#[test]
fn a_stopped_regen_changes_nothing_and_undo_keeps_the_greeting() {
    let world = World::new();
    let mut chat = world.pty(&["chat", "Sherlock Holmes"]);
    let id = entered(&mut chat);
    chat.exp_string("you> ").unwrap();
    say(&mut chat, "Who are you?", REPLY);
    command(&mut chat, "/alt", "only one version: /regen makes another");
    command(&mut chat, "/help", "/edit <text>");

    // The slow reply is stopped, then so is its regeneration.
    stop_slow_reply(&mut chat);
    chat.send_line("/regen").unwrap();
    chat.exp_string("word1 ").unwrap();
    chat.send_control('c').unwrap();
    chat.exp_string("(stopped; nothing changed)").unwrap();
    chat.exp_string("you> ").unwrap();
    let (_, messages) = world.stored(&id);
    assert_eq!(messages.len(), 5, "{messages:#?}");
    assert!(messages[4].content.starts_with("word0 word1 word2"));
    assert!(messages[4].interrupted);
    assert!(messages[4].alternatives.len() < 2, "{messages:#?}");

    // More turns than there are: everything but the greeting goes.
    command(
        &mut chat,
        "/undo 5",
        "Sherlock Holmes: Good evening. I am Sherlock Holmes.",
    );
    command(&mut chat, "/undo", "nothing to undo");
    command(&mut chat, "/edit hello", "nothing of yours to edit");
    chat.send_control('d').unwrap();
    exits_cleanly(&mut chat);
    let (_, messages) = world.stored(&id);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].role, Role::Assistant);
}

#[test]
fn regen_undo_and_me_through_a_running_server() {
    let world = World::new();
    // Room for more actions than the default 25 requests a minute (a reply costs 2).
    let server = Server::start_with(&world, &[("LINK_RATE_LIMIT_PER_MINUTE", "100")]);
    let mut chat = world.pty(&server.args(&["chat", "Sherlock Holmes"]));
    let id = entered(&mut chat);
    chat.exp_string("you> ").unwrap();
    say(&mut chat, "Who are you?", REPLY);
    command(&mut chat, "/regen", &format!("{REPLY} (2/2)"));
    command(&mut chat, "/alt 1", &format!("{REPLY} (1/2)"));
    say(&mut chat, "And then?", REPLY);
    command(&mut chat, "/undo", "(removed 2 messages)");
    let (_, messages) = world.stored(&id);
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert_eq!(messages[2].alternatives, [REPLY, REPLY]);
    assert_eq!(messages[2].chosen, 0);

    say(&mut chat, "And the dog?", REPLY);
    command(&mut chat, "/edit Tell it gradually", GRADUAL_REPLY);
    command(&mut chat, "/me Watson — a doctor", "you are Watson");
    let fork = fork(&mut chat);
    chat.send_line("/quit").unwrap();
    exits_cleanly(&mut chat);

    let messages = stored_after_edit(&world, &id);
    assert_eq!(world.stored(&fork).1.len(), messages.len());
    let me = world.stored_user_persona().unwrap();
    assert_eq!(
        (me.name.as_str(), me.description.as_str()),
        ("Watson", "a doctor")
    );
}

#[test]
fn memory_is_shown_edited_and_pinned_and_reaches_the_model() {
    let world = World::new();
    let args = ["--rate-limit-per-minute", "100", "chat", "Sherlock Holmes"];
    let mut chat = world.pty(&args);
    let id = entered(&mut chat);
    chat.exp_string("you> ").unwrap();
    command(
        &mut chat,
        "/memory",
        "remembers nothing of earlier turns yet",
    );
    command(
        &mut chat,
        "/memory edit Sam told Holmes about the hound.",
        "remembers: Sam told Holmes about the hound.",
    );
    command(
        &mut chat,
        "/memory pin My name is Sam.",
        "1. My name is Sam.",
    );
    command(&mut chat, "/memory pin I have a cat.", "2. I have a cat.");
    command(&mut chat, "/memory unpin 3", "there are 2 pinned facts");
    command(&mut chat, "/memory unpin 1", "1. I have a cat.");
    command(&mut chat, "/memory edit", "usage: /memory edit <text>");
    say(&mut chat, "Who am I?", REPLY);
    let system = last_system_prompt(&world);
    assert!(
        system.contains("Sam told Holmes about the hound."),
        "{system}"
    );
    assert!(system.contains("I have a cat.") && !system.contains("My name is Sam."));
    command(
        &mut chat,
        "/memory clear",
        "remembers nothing of earlier turns yet",
    );
    chat.send_line("/quit").unwrap();
    exits_cleanly(&mut chat);
    let (conversation, _) = world.stored(&id);
    assert_eq!(conversation.memory.summary, "");
    assert_eq!(conversation.memory.pinned, ["I have a cat."]);
}
