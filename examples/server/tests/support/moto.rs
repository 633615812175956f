//! A local Amazon Cognito (link-testkit's moto_server) with a user pool and an app client
//! (with a secret) made by the boto3 helper `tests/cognito_pool.py`.

use std::path::Path;

pub use link_testkit::moto::Moto;

/// The pool and app client the helper made.
pub struct Pool {
    /// Its region.
    pub region: String,
    /// The user pool id.
    pub pool_id: String,
    /// The app client id.
    pub client_id: String,
    /// The app client secret.
    pub client_secret: String,
}

/// Creates a pool and an app client with a secret on `moto`.
pub fn create_pool(moto: &Moto) -> Pool {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cognito_pool.py");
    let json = moto.run_helper(&script);
    let text = |name: &str| json[name].as_str().unwrap().to_owned();
    Pool {
        region: text("region"),
        pool_id: text("pool_id"),
        client_id: text("client_id"),
        client_secret: text("client_secret"),
    }
}

/// The environment of a `link-server` in Cognito mode against `pool` on `moto` (its Cognito
/// client and JWKS pointed at the emulator), with `account_limit` account requests per IP
/// per minute.
pub fn cognito_env(moto: &Moto, pool: &Pool, account_limit: u32) -> Vec<(&'static str, String)> {
    let jwks = format!("{}/{}/.well-known/jwks.json", moto.endpoint(), pool.pool_id);
    vec![
        ("LINK_AUTH", "cognito".into()),
        ("COGNITO_REGION", pool.region.clone()),
        ("COGNITO_USER_POOL_ID", pool.pool_id.clone()),
        ("COGNITO_CLIENT_ID", pool.client_id.clone()),
        ("COGNITO_CLIENT_SECRET", pool.client_secret.clone()),
        ("COGNITO_JWKS_URL", jwks),
        (
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
            moto.endpoint(),
        ),
        ("AWS_REGION", pool.region.clone()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        (
            "LINK_ACCOUNT_RATE_LIMIT_PER_MINUTE",
            account_limit.to_string(),
        ),
    ]
}
