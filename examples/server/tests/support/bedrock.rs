//! The environment that points a `link-server` at the testkit's Bedrock mock: its endpoint,
//! the SDK's test credentials (the mock recomputes every SigV4 signature with them), and a
//! guardrail, so the server's Bedrock path runs as it does in the reference deployment.

use link_testkit::bedrock::sigv4::TEST_SECRET;
#[allow(unused_imports)] // not every test file uses them
pub use link_testkit::bedrock::{BLOCKED, TRIGGER};
use link_testkit::bedrock::{Mock, REGION};

/// The access key of `aws_config`'s test credentials, paired with [`TEST_SECRET`].
const TEST_ACCESS_KEY: &str = "ANOTREAL";

/// The guardrail the server is configured with.
pub const GUARDRAIL: &str = "gr-test";

/// Both providers on Bedrock (the mock at `mock.url`) behind [`GUARDRAIL`].
pub fn env(mock: &Mock) -> Vec<(&'static str, String)> {
    vec![
        ("LINK_PERSONA_PROVIDER", "bedrock".into()),
        ("LINK_CHAT_PROVIDER", "bedrock".into()),
        ("LINK_GUARDRAIL_ID", GUARDRAIL.into()),
        ("LINK_GUARDRAIL_VERSION", "1".into()),
        ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", mock.url.clone()),
        ("AWS_REGION", REGION.into()),
        ("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY.into()),
        ("AWS_SECRET_ACCESS_KEY", TEST_SECRET.into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
}
