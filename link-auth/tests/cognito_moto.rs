//! Verifies tokens issued by a real Cognito emulator: moto_server on a free loopback port.
//! Needs `moto[server]` and boto3 (installed by scripts/setup.sh); fails, not skips, without.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use link_auth::{AuthError, CognitoAuthenticator, CognitoTokenUse};
use link_core::{Authenticator, TokenUse};
use serde_json::Value;

const SETUP_HINT: &str =
    "run scripts/setup.sh (scripts/setup.d/20-moto.sh installs moto[server] and boto3)";

/// A moto_server child process, killed when dropped.
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start moto_server ({e}): {SETUP_HINT}"));
        let moto = Moto { child, port };
        moto.wait_until_listening(Duration::from_secs(60));
        moto
    }

    fn wait_until_listening(&self, limit: Duration) {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                started.elapsed() < limit,
                "moto_server did not listen on {addr} within {limit:?}: {SETUP_HINT}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the boto3 helper: creates pool, client and user, signs in, returns its JSON.
fn sign_in(moto: &Moto) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/moto_cognito.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(moto.endpoint())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}): {SETUP_HINT}"));
    assert!(
        output.status.success(),
        "the boto3 helper failed ({SETUP_HINT}):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_from_the_moto_cognito_emulator_verify() {
    let moto = Moto::start();
    let session = sign_in(&moto);
    let text = |name: &str| session[name].as_str().unwrap().to_owned();
    let (region, pool_id, client_id) = (text("region"), text("pool_id"), text("client_id"));
    let jwks_url = format!("{}/{pool_id}/.well-known/jwks.json", moto.endpoint());

    let auth = CognitoAuthenticator::builder(&region, &pool_id)
        .client_id(&client_id)
        .token_use(CognitoTokenUse::Any)
        .jwks_url(&jwks_url)
        .build()
        .unwrap();
    let id = auth.authenticate(&text("id_token")).await.unwrap();
    assert_eq!(id.token_use, Some(TokenUse::Id));
    assert_eq!(id.username.as_deref(), Some("ada"));
    assert!(!id.sub.is_empty());
    let access = auth.authenticate(&text("access_token")).await.unwrap();
    assert_eq!(access.token_use, Some(TokenUse::Access));
    assert_eq!(access.sub, id.sub);

    // The same tokens, checked for another app client or token use, are refused.
    let other_client = CognitoAuthenticator::builder(&region, &pool_id)
        .client_id("another-client")
        .jwks_url(&jwks_url)
        .build()
        .unwrap();
    assert_eq!(
        other_client.verify(&text("id_token")).await.unwrap_err(),
        AuthError::WrongClientId
    );
    let id_only = CognitoAuthenticator::builder(&region, &pool_id)
        .client_id(&client_id)
        .token_use(CognitoTokenUse::Id)
        .jwks_url(&jwks_url)
        .build()
        .unwrap();
    assert_eq!(
        id_only.verify(&text("access_token")).await.unwrap_err(),
        AuthError::WrongTokenUse { expected: "id" }
    );
}
