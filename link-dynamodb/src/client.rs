//! A DynamoDB client from the standard AWS chain.

/// A DynamoDB client configured the standard AWS way: region, credentials and endpoint from
/// the environment (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_PROFILE`,
/// `AWS_ENDPOINT_URL_DYNAMODB`, ...), the shared config files, or the instance's role
/// (Lambda, ECS, EC2).
///
/// ```no_run
/// # async fn demo() {
/// let client = link_dynamodb::client_from_env().await;
/// let store = link_dynamodb::DynamoStore::new(client, "link");
/// # let _ = store;
/// # }
/// ```
pub async fn client_from_env() -> aws_sdk_dynamodb::Client {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    aws_sdk_dynamodb::Client::new(&config)
}
