//! The interactive chat of the real `link` binary, driven through a pseudo-terminal: the
//! greeting, a streamed reply, Ctrl-C stopping a slow reply without leaving, the commands,
//! resuming in a new process, and leaving with /quit and with Ctrl-D.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::mock_openai::REPLY;
use support::{World, entered, exits_cleanly, stop_slow_reply};

#[test]
fn chat_interrupt_resume_and_leave() {
    let world = World::new();
    let mut chat = world.pty(&["chat", "Sherlock Holmes"]);
    let id = entered(&mut chat);
    chat.exp_string("Good evening. I am Sherlock Holmes. What brings you here?")
        .unwrap();
    chat.exp_string("you> ").unwrap();

    // A whole reply streams in.
    chat.send_line("Who are you?").unwrap();
    chat.exp_string(REPLY).unwrap();
    chat.exp_string("you> ").unwrap();

    // A slow reply: some words arrive, Ctrl-C stops it, and the program stays.
    stop_slow_reply(&mut chat);

    // Commands.
    chat.send_line("/persona").unwrap();
    chat.exp_string("setting: Victorian London").unwrap();
    let card = world.dir.path().join("holmes.json");
    chat.send_line(&format!("/export {}", card.display()))
        .unwrap();
    chat.exp_string("saved ").unwrap();
    chat.send_line("/list").unwrap();
    chat.exp_string(&id).unwrap();
    chat.send_line("/frobnicate").unwrap();
    chat.exp_string("unknown command /frobnicate").unwrap();
    chat.send_line("/help").unwrap();
    chat.exp_string("/resume <id|n>").unwrap();
    chat.send_line("/quit").unwrap();
    exits_cleanly(&mut chat);

    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&card).unwrap()).unwrap();
    assert_eq!(card["spec"], "chara_card_v2");
    assert_eq!(card["data"]["name"], "Sherlock Holmes");

    // A new process resumes the conversation: the recap shows the stopped reply, kept in
    // part, and the chat goes on; Ctrl-D leaves.
    let mut resumed = world.pty(&["chat", "--conversation", &id]);
    resumed.exp_string(&format!("conversation {id}")).unwrap();
    resumed.exp_string("you> tell it slowly").unwrap();
    resumed
        .exp_string("Sherlock Holmes: word0 word1 word2")
        .unwrap();
    resumed.exp_string("you> ").unwrap();
    resumed.send_line("Go on.").unwrap();
    resumed.exp_string(REPLY).unwrap();
    resumed.exp_string("you> ").unwrap();
    resumed.send_control('d').unwrap();
    exits_cleanly(&mut resumed);

    // The history file under the data directory kept the lines typed.
    let history = std::fs::read_to_string(world.database().with_file_name("history")).unwrap();
    assert!(history.contains("tell it slowly"), "{history}");
    assert!(history.contains("Go on."), "{history}");
}

#[test]
fn new_and_resume_switch_conversations_in_one_session() {
    let world = World::new();
    let first = world.create("Ada Lovelace");
    let mut chat = world.pty(&["chat"]);
    chat.exp_string("No conversation yet").unwrap();
    chat.exp_string("you> ").unwrap();
    chat.send_line("hello?").unwrap();
    chat.exp_string("no conversation yet").unwrap();
    chat.send_line("/new Sherlock Holmes").unwrap();
    chat.exp_string("I am Sherlock Holmes").unwrap();
    chat.send_line("/list").unwrap();
    chat.exp_string(&first).unwrap();
    chat.exp_string("you> ").unwrap();
    // Most recent first: Holmes is 1, Ada is 2.
    chat.send_line("/resume 2").unwrap();
    chat.exp_string(&format!("conversation {first}")).unwrap();
    chat.exp_string("Ada Lovelace: Good evening. I am Ada Lovelace.")
        .unwrap();
    chat.send_line("/resume 0190a1b2-0000").unwrap();
    chat.exp_string("not found").unwrap();
    // Ctrl-C at the prompt does not leave.
    chat.send_control('c').unwrap();
    chat.exp_string("(Ctrl-D or /quit leaves)").unwrap();
    chat.send_line("/persona").unwrap();
    chat.exp_string("Ada Lovelace (fictional character)")
        .unwrap();
    chat.send_control('d').unwrap();
    exits_cleanly(&mut chat);
}
