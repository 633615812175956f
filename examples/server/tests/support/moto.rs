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
