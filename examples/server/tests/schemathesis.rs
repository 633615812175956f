//! A property-based test of the whole API from its OpenAPI document: schemathesis (PyPI,
//! installed by `scripts/setup.d/50-schemathesis.sh`) generates requests for every operation
//! of the document the running `link-server` serves, valid and invalid ones, and follows the
//! document's links (create a conversation, then read, message, export and delete it) in its
//! stateful phase. Every check it has must pass: no 5xx, every status code, content type,
//! header and body as documented, invalid input refused, authentication enforced, and a
//! deleted conversation gone.
//!
//! One check is left out, `positive_data_acceptance` (a request the schema allows must get a
//! 2xx): the API refuses some schema-valid bodies for reasons JSON Schema does not say, by
//! design, each with its documented 400 or 422: both or neither of `persona_request` and
//! `persona`, a persona that fails the engine's checks (control characters, lengths, an
//! empty greeting), an object that is not a Character Card V2. (Where the schema could say
//! it, it does: non-blank strings, length bounds, UUID ids.)
//!
//! The server runs with dev auth and a token from its dev token route, its model a mock
//! OpenAI on 127.0.0.1, and limits high enough that the generated traffic is never refused
//! for its volume (a 429 is a documented answer, but one that would hide every other check).
//! The account routes answer their documented 404 in dev mode.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Server, Stack};

/// Test cases per operation and phase: enough to reach every status of every route, few
/// enough that the run takes well under a minute on CI's two cores.
const MAX_EXAMPLES: &str = "40";

/// The seed of a run, so that a failure in CI reproduces; `LINK_SCHEMATHESIS_SEED` picks
/// another to explore.
const SEED: &str = "22";

/// The bound on the whole run; only there to fail a run that hangs.
const RUN_LIMIT: Duration = Duration::from_secs(600);

/// The phases that must run (and pass); `examples` runs too, but the document has none.
const PHASES: [&str; 3] = ["coverage", "fuzzing", "stateful"];

#[tokio::test(flavor = "multi_thread")]
async fn every_route_answers_generated_requests_as_its_openapi_document_says() {
    let stack = Stack::start(vec![
        ("LINK_RATE_LIMIT_PER_MINUTE", "1000000".into()),
        ("LINK_ACCOUNT_RATE_LIMIT_PER_MINUTE", "1000000".into()),
    ])
    .await;
    let token = stack.server.token("schemathesis").await;
    let seed = std::env::var("LINK_SCHEMATHESIS_SEED").unwrap_or_else(|_| SEED.to_owned());
    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("report.json");

    let started = Instant::now();
    let output = run_bounded(schemathesis(&stack.server, &token, &seed, &report_path)).await;
    eprintln!(
        "schemathesis (seed {seed}) ran for {:.1}s:\n{}\n{}",
        started.elapsed().as_secs_f64(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(
        output.status.success(),
        "schemathesis found faults (seed {seed}); see its output above"
    );

    let report: Value = serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    let document: Value = reqwest::get(format!("{}/openapi.json", stack.server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_everything_ran(&report, operation_count(&document));
    assert_a_conversation_went_through_its_life(&stack.server);
}

/// `st run` against the server's own document, authenticated as the dev user of `token`,
/// writing its JSON report to `report`.
fn schemathesis(server: &Server, token: &str, seed: &str, report: &Path) -> Command {
    let mut command = Command::new(cli());
    command
        .arg("run")
        .arg(format!("{}/openapi.json", server.url))
        .args(["--checks", "all"])
        .args(["--exclude-checks", "positive_data_acceptance"])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--seed", seed])
        .args(["--generation-database", "none"])
        .args(["--request-timeout", "20"])
        // One worker: hypothesis describes its strategies with `ast.parse`, which CPython
        // 3.11 cannot run on two threads at once (a "recursion depth mismatch" error).
        .args(["--workers", "1"])
        .args(["--no-color", "--output-truncate", "false"])
        .args(["--report", "json", "--report-json-path"])
        .arg(report)
        .arg("--header")
        .arg(format!("Authorization: Bearer {token}"))
        .current_dir(report.parent().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// The report says that every operation was tested and every phase ran, with no failure and
/// no error: a run that tested less is not a pass.
fn assert_everything_ran(report: &Value, operations: u64) {
    let counts = &report["operations"];
    assert_eq!(counts["total"], operations, "{counts}");
    assert_eq!(
        counts["tested"], operations,
        "not every route was tested: {counts}"
    );
    assert_eq!(counts["errored"], 0, "{counts}");
    for phase in PHASES {
        assert_eq!(
            report["phases"][phase]["status"], "success",
            "phase {phase} did not run and pass: {}",
            report["phases"]
        );
    }
    assert_eq!(report["failures"], serde_json::json!([]));
    assert_eq!(report["errors"], serde_json::json!([]));
    assert_eq!(report["complete"], true);
}

/// How many operations the document has.
fn operation_count(document: &Value) -> u64 {
    let paths = document["paths"].as_object().unwrap();
    paths
        .values()
        .map(|item| item.as_object().unwrap().len() as u64)
        .sum()
}

/// The stateful phase followed the document's links for real: some conversation was
/// created, then read, then deleted, each successfully, as the audit log records it.
fn assert_a_conversation_went_through_its_life(server: &Server) {
    let events: Vec<Value> = server
        .audit_lines()
        .iter()
        .filter_map(|line| line.split_once("AUDIT_LOG ").map(|(_, json)| json))
        .filter_map(|json| serde_json::from_str(json).ok())
        .filter(|event: &Value| event["outcome"] == "ok")
        .collect();
    let step = |action: &str, id: &Value, after: usize| {
        events
            .iter()
            .enumerate()
            .skip(after)
            .find(|(_, e)| e["action"] == action && &e["conversation_id"] == id)
            .map(|(i, _)| i)
    };
    let lived = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e["action"] == "create_conversation")
        .any(|(created, e)| {
            let id = &e["conversation_id"];
            step("get_conversation", id, created)
                .and_then(|read| step("delete_conversation", id, read))
                .is_some()
        });
    assert!(
        lived,
        "no conversation was created, read and deleted in that order ({} audited actions)",
        events.len()
    );
}

/// Runs `command` to its end on a blocking thread (the mock upstream keeps being served
/// meanwhile); kills it if it outlives [`RUN_LIMIT`].
async fn run_bounded(mut command: Command) -> Output {
    let child = command.spawn().expect("schemathesis could not start");
    let pid = child.id().to_string();
    let waiting = tokio::task::spawn_blocking(move || child.wait_with_output());
    match tokio::time::timeout(RUN_LIMIT, waiting).await {
        Ok(output) => output.unwrap().expect("schemathesis could not run"),
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
            panic!("schemathesis did not finish within {RUN_LIMIT:?}");
        }
    }
}

/// The schemathesis CLI, `st`. Its absence fails the test (never skips it): the test
/// command installs it.
fn cli() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("st"))
        .find(|candidate| candidate.is_file())
        .expect(
            "the schemathesis CLI `st` is not on the PATH: run scripts/setup.d/50-schemathesis.sh",
        )
}
