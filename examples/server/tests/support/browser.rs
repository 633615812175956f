//! Headless Chromium through ChromeDriver (WebDriver, driven by fantoccini), for the chat
//! page's end-to-end tests. Missing binaries fail the test with a hint, never skip it.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const SETUP_HINT: &str =
    "run scripts/setup.sh (scripts/setup.d/40-chromium.sh installs chromium and chromium-driver)";

/// A ChromeDriver process and a browser session through it; the driver is killed on drop.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn find_binary(names: &[&str]) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!("none of {names:?} is on the PATH: {SETUP_HINT}");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    /// Starts ChromeDriver on a free port and a headless Chromium with a fresh profile.
    pub async fn start() -> Self {
        let chromium = find_binary(&["chromium", "chromium-browser"]);
        let chromedriver = find_binary(&["chromedriver"]);
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start chromedriver ({e}): {SETUP_HINT}"));
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "chromedriver did not listen: {SETUP_HINT}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().unwrap();
        // As root Chromium needs --no-sandbox; the background-networking flags keep it from
        // calling out of this closed network.
        let args = json!([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,860",
            format!("--user-data-dir={}", profile.path().display()),
        ]);
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({"binary": chromium, "args": args}),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://{addr}"))
            .await
            .unwrap_or_else(|e| panic!("cannot open a Chromium session ({e}): {SETUP_HINT}"));
        Self {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap()
    }

    /// Waits until `script` returns something truthy; gives it back.
    pub async fn wait_js(&self, script: &str, what: &str) -> Value {
        let started = Instant::now();
        loop {
            let value = self.js(script, vec![]).await;
            let truthy = !matches!(&value, Value::Null | Value::Bool(false))
                && value != json!("")
                && value != json!(0);
            if truthy {
                return value;
            }
            if started.elapsed() > Duration::from_secs(20) {
                self.screenshot(&format!("timeout-{}", what.replace(' ', "-")))
                    .await;
                panic!("timed out waiting for {what}");
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }

    /// The trimmed text of the element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .text()
            .await
            .unwrap()
            .trim()
            .to_owned()
    }

    /// Types `keys` into the element matching `css` (`\u{E007}` is Enter).
    pub async fn type_into(&self, css: &str, keys: &str) {
        let element = self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"));
        element.send_keys(keys).await.unwrap();
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Saves a PNG screenshot as `<artifacts>/<name>.png` and gives back its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap();
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

/// A script saying whether the element `css` selects has the focus and is in view: neither
/// it nor an ancestor is transparent or hidden.
fn focused_and_shown(css: &str) -> String {
    format!(
        "const e = document.querySelector({});
         if (!e || document.activeElement !== e) return false;
         for (let n = e; n; n = n.parentElement) {{
           const style = getComputedStyle(n);
           if (style.opacity !== '1' || style.visibility !== 'visible') return false;
         }}
         return true;",
        json!(css)
    )
}

impl Browser {
    /// Signs in on the dev form of the page at `url` as `name`; waits for the chat view.
    pub async fn sign_in(&self, url: &str, name: &str) {
        self.client.goto(&format!("{url}/")).await.unwrap();
        self.wait_js(
            "return !document.getElementById('dev-form').hidden",
            "the dev sign-in form",
        )
        .await;
        self.type_into("#dev-name", &format!("{name}{ENTER}")).await;
        self.wait_js(
            "return !document.getElementById('app-view').hidden",
            "the chat view",
        )
        .await;
    }

    /// Starts a conversation with `character`; waits for its greeting.
    pub async fn start_conversation(&self, character: &str) {
        self.type_into("#character", &format!("{character}{ENTER}"))
            .await;
        self.wait_js(
            "return document.querySelectorAll('#messages .message').length === 1 \
             && !document.getElementById('message').disabled",
            "the greeting",
        )
        .await;
    }

    /// Shows the page at a phone's size (390 x 844) for a screenshot named `name`, then at
    /// the usual size again; says whether the page was wider than the phone's screen.
    pub async fn phone_screenshot(&self, name: &str) -> bool {
        let wide = self.js("return window.innerWidth", vec![]).await;
        self.client.set_window_size(390, 844).await.unwrap();
        self.wait_js(
            &format!("return window.innerWidth !== {wide}"),
            "the narrow window",
        )
        .await;
        let overflow = self
            .js(
                "return document.documentElement.scrollWidth > window.innerWidth",
                vec![],
            )
            .await;
        self.screenshot(name).await;
        self.client.set_window_size(1280, 860).await.unwrap();
        overflow == json!(true)
    }

    /// Presses the control matching `css` from the keyboard: gives it the focus, waits until
    /// it is in view (controls that appear on focus fade in), and presses Enter.
    pub async fn press(&self, css: &str) {
        let found = self
            .js(
                "const e = document.querySelector(arguments[0]);
                 if (e) e.focus();
                 return !!e && document.activeElement === e;",
                vec![json!(css)],
            )
            .await;
        assert_eq!(found, true, "no focusable {css}");
        self.wait_js(&focused_and_shown(css), &format!("{css} in view"))
            .await;
        let enter = KeyActions::new("keyboard".into())
            .then(KeyAction::Down {
                value: Key::Enter.into(),
            })
            .then(KeyAction::Up {
                value: Key::Enter.into(),
            });
        self.client.perform_actions(enter).await.unwrap();
    }
}

impl Browser {
    /// Ends the session (ChromeDriver closes Chromium), then the driver.
    pub async fn finish(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // SIGTERM first so ChromeDriver can take Chromium down with it.
        let pid = self.driver.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(3) {
            if let Ok(Some(_)) = self.driver.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `$LINK_ARTIFACTS_DIR`, else `target/artifacts/` of the workspace.
pub fn artifacts_dir() -> PathBuf {
    match std::env::var_os("LINK_ARTIFACTS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/artifacts"
        )),
    }
}

/// The Enter key, for `type_into`.
pub const ENTER: &str = "\u{E007}";
