//! The non-interactive commands of the real `link` binary, with the engine in-process on a
//! mock OpenAI upstream and SQLite in a temp directory: output, `--json`, and exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::World;
use support::mock_openai::{KEY, REPLY, mask_key};

#[test]
fn persona_prints_the_extracted_persona_as_json() {
    let world = World::new();
    let run = world.run(&["persona", "Ada Lovelace"]);
    run.ok();
    assert!(
        !run.stderr.contains("unmoderated"),
        "operators' startup notes stay out of a terminal: {}",
        run.stderr
    );
    let persona = run.json();
    assert_eq!(persona["name"], "Ada Lovelace");
    assert_eq!(persona["setting"], "Victorian London");
    assert!(
        persona["greeting"]
            .as_str()
            .unwrap()
            .contains("Ada Lovelace")
    );
    assert_eq!(world.mock.calls(), 1);
}

#[test]
fn a_new_chat_prints_the_greeting_and_the_conversation_id() {
    let world = World::new();
    let run = world.run(&["chat", "Sherlock Holmes"]);
    run.ok();
    assert_eq!(
        run.stdout,
        "Good evening. I am Sherlock Holmes. What brings you here?\n"
    );
    assert!(run.stderr.contains("conversation "), "{run:#?}");
    assert!(!run.stdout.contains('\x1b'), "no colour off a terminal");
}

#[test]
fn one_message_by_flag_or_stdin_prints_the_reply() {
    let world = World::new();
    let id = world.create("Sherlock Holmes");
    let by_flag = world.run(&["chat", "--conversation", &id, "--message", "Who are you?"]);
    by_flag.ok();
    assert_eq!(by_flag.stdout, format!("{REPLY}\n"));
    let by_stdin = world.run_with_stdin(&["chat", "-c", &id], "And the dog?\n");
    by_stdin.ok();
    assert_eq!(by_stdin.stdout, format!("{REPLY}\n"));
    let json = world.run(&["chat", "-c", &id, "-m", "Once more", "--json"]);
    json.ok();
    let turn = json.json();
    assert_eq!(turn["conversation_id"], id.as_str());
    assert_eq!(turn["reply"]["content"], REPLY);
    assert_eq!(turn["reply"]["stop_reason"], "end_turn");
    assert!(turn["reply"]["message_id"].is_string());
    assert!(turn["reply"]["usage"]["output_tokens"].as_u64().unwrap() > 0);
    assert!(turn.get("created").is_none());
}

#[test]
fn a_character_and_a_message_start_a_conversation_and_reply() {
    let world = World::new();
    let run = world.run(&["chat", "Sherlock Holmes", "-m", "Hello", "--json"]);
    run.ok();
    let turn = run.json();
    assert_eq!(turn["created"]["persona"]["name"], "Sherlock Holmes");
    let greeting = &turn["created"]["messages"][0];
    assert_eq!(greeting["role"], "assistant");
    assert_eq!(turn["reply"]["content"], REPLY);
}

#[test]
fn conversations_are_listed_per_user() {
    let world = World::new();
    let holmes = world.create("Sherlock Holmes");
    let ada = world.create("Ada Lovelace");
    let run = world.run(&["conversations", "--json"]);
    run.ok();
    let list = run.json();
    let ids: Vec<&str> = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&holmes.as_str()) && ids.contains(&ada.as_str()));
    let text = world.run(&["conversations"]);
    text.ok();
    assert!(text.stdout.contains("Sherlock Holmes"), "{text:#?}");
    assert!(text.stdout.contains(&ada), "{text:#?}");
    let bob = world.run(&["--user", "bob", "conversations", "--json"]);
    bob.ok();
    assert_eq!(bob.json()["conversations"].as_array().unwrap().len(), 0);
    let as_bob = world.run(&["--user", "bob", "chat", "-c", &holmes, "-m", "hi"]);
    as_bob.code_is(5);
}

#[test]
fn usage_errors_exit_with_2() {
    let world = World::new();
    world.run(&["frobnicate"]).code_is(2);
    world.run(&["chat"]).code_is(2);
    world.run(&["chat", "X", "--conversation", "Y"]).code_is(2);
    let malformed = world.run(&["chat", "-c", "not-an-id", "-m", "hi"]);
    malformed.code_is(2);
    assert!(malformed.stderr.contains("malformed"), "{malformed:#?}");
    let id = world.create("Sherlock Holmes");
    world.run(&["chat", "-c", &id, "-m", "   "]).code_is(2);
    assert_eq!(world.mock.calls(), 1, "bad input never reaches the model");
}

#[test]
fn an_unknown_conversation_exits_with_5() {
    let world = World::new();
    let run = world.run(&[
        "chat",
        "-c",
        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "-m",
        "hi",
    ]);
    run.code_is(5);
    assert!(run.stderr.contains("not found"), "{run:#?}");
    assert!(run.stdout.is_empty());
}

#[test]
fn an_upstream_failure_exits_with_4() {
    let world = World::new();
    let id = world.create("Sherlock Holmes");
    let run = world.run(&["chat", "-c", &id, "-m", "use up the quota"]);
    run.code_is(4);
    assert!(run.stderr.contains("openai"), "{run:#?}");
    assert!(!run.stderr.contains(KEY), "the key is never shown");
    let persona = world.run(&["persona", "quota"]);
    persona.code_is(4);
}

#[test]
fn a_rejected_key_is_an_upstream_failure_too() {
    let world = World::new();
    let run = world
        .link(&["persona", "Ada Lovelace"])
        .env("OPENAI_API_KEY", "wrong-key")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(4), "{run:?}");
    assert!(!String::from_utf8_lossy(&run.stderr).contains("wrong-key"));
}

#[test]
fn the_upstream_401_is_shown_without_the_key_it_masks() {
    // OpenAI's 401 echoes the key masked (`sk-proj-****...wxyz`): the CLI names the failure
    // and shows neither the key nor the masked key.
    let world = World::new();
    let wrong = "sk-proj-notthekeyatall0123456789wxyz";
    let run = world
        .link(&["persona", "Ada Lovelace"])
        .env("OPENAI_API_KEY", wrong)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(4), "{run:?}");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("Incorrect API key provided"), "{stderr}");
    assert!(!stderr.contains(wrong), "{stderr}");
    assert!(!stderr.contains(&mask_key(wrong)), "{stderr}");
    assert!(!stderr.contains("0123456789wxyz"), "{stderr}");
}

#[test]
fn rate_limits_exit_with_3() {
    let world = World::new();
    // One request a minute: starting the conversation uses it, so the message is refused.
    let limited = world
        .link(&["chat", "Sherlock Holmes", "-m", "hi"])
        .env("LINK_RATE_LIMIT_PER_MINUTE", "1")
        .output()
        .unwrap();
    assert_eq!(limited.status.code(), Some(3), "{limited:?}");
    let stderr = String::from_utf8_lossy(&limited.stderr);
    assert!(stderr.contains("rate limited"), "{stderr}");
}

#[test]
fn help_documents_the_exit_codes() {
    let world = World::new();
    let run = world.run(&["--help"]);
    run.ok();
    for needle in [
        "Exit codes",
        "2  usage",
        "3  auth",
        "4  upstream",
        "NO_COLOR",
    ] {
        assert!(run.stdout.contains(needle), "{needle}: {}", run.stdout);
    }
}

#[test]
fn a_card_exported_as_png_or_json_imports_back_in_process_and_through_a_server() {
    let world = World::new();
    let id = world.create("Sherlock Holmes");
    let png = world.dir.path().join("holmes.png");
    let v3 = world.dir.path().join("holmes.json");
    let png_arg = png.to_str().unwrap();
    let v3_arg = v3.to_str().unwrap();
    world.run(&["export", &id, "--png", "-o", png_arg]).ok();
    world.run(&["export", &id, "--v3", "-o", v3_arg]).ok();
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    let card: serde_json::Value = serde_json::from_slice(&std::fs::read(&v3).unwrap()).unwrap();
    assert_eq!(card["spec"], "chara_card_v3");

    let imported = world.run(&["import", png_arg]);
    imported.ok();
    assert!(
        imported.stdout.starts_with("Sherlock Holmes"),
        "{imported:#?}"
    );
    let json = world.run(&["import", v3_arg, "--json"]);
    json.ok();
    assert_eq!(json.json()["persona"]["name"], "Sherlock Holmes");

    let server = support::Server::start(&world);
    let remote = world.run(&server.args(&["import", png_arg, "--json"]));
    remote.ok();
    assert_eq!(remote.json()["persona"]["name"], "Sherlock Holmes");
    assert_eq!(
        world.mock.calls(),
        1,
        "only the first persona was extracted"
    );

    let missing = world.run(&["import", "/nonexistent/card.png"]);
    missing.code_is(2);
    assert!(missing.stderr.contains("cannot read"), "{missing:#?}");
    let not_a_card = world.dir.path().join("notes.txt");
    std::fs::write(&not_a_card, "hello").unwrap();
    world
        .run(&["import", not_a_card.to_str().unwrap()])
        .code_is(2);
}

#[test]
fn an_imported_cards_picture_comes_back_in_its_png_export_in_process_and_through_a_server() {
    use link::card::png;
    use link::{Persona, PersonaKind};
    let world = World::new();
    // A Holmes card whose picture is Ada's plain square, not the one drawn from his name.
    let ada = Persona::new("Ada", PersonaKind::Historical, "x", "Hi");
    let picture = png::write(&ada, None).unwrap();
    let holmes = Persona::new("Sherlock Holmes", PersonaKind::Fictional, "x", "Hello.");
    let card = world.dir.path().join("card.png");
    std::fs::write(&card, png::write(&holmes, Some(&picture)).unwrap()).unwrap();
    let kept = png::strip(&picture).unwrap();
    let exported_picture = |args: &[&str], name: &str| {
        let id = world.run(&[args, &["import", card.to_str().unwrap(), "--json"]].concat());
        id.ok();
        let id = id.json()["id"].as_str().unwrap().to_owned();
        let out = world.dir.path().join(name);
        let export = ["export", id.as_str(), "--png", "-o", out.to_str().unwrap()];
        world.run(&[args, &export].concat()).ok();
        png::read(&std::fs::read(&out).unwrap()).unwrap().avatar
    };
    assert!(exported_picture(&[], "local.png") == kept, "in process");
    let server = support::Server::start(&world);
    let remote = server.args(&[]);
    assert!(
        exported_picture(&remote, "remote.png") == kept,
        "through a server"
    );
}
