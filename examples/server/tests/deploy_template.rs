//! The reference deployment's wiring, read from deploy/template.yaml: the pieces that must
//! name each other do (authorizer and Link on the same pool and client, the function's
//! environment on the stack's table and guardrail), the table is link-dynamodb's, every IAM
//! statement names its resources, and the log metric filters match real audit lines.
//! (cfn-lint and `sam validate` check the rest: scripts/deploy-check.sh.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use clap::CommandFactory;
use link_core::{
    AuditAction, AuditEvent, AuditOutcome, AuditSink, ContentPolicy, RequestId, TracingAuditSink,
};
use tracing_subscriber::layer::SubscriberExt;
use yaml_rust2::{Yaml, YamlLoader};

fn template() -> Yaml {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/template.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

/// The logical ids and bodies of the resources of `kind`.
fn resources<'a>(template: &'a Yaml, kind: &str) -> Vec<(&'a str, &'a Yaml)> {
    let all = template["Resources"].as_hash().unwrap();
    all.iter()
        .filter(|(_, body)| body["Type"].as_str() == Some(kind))
        .map(|(id, body)| (id.as_str().unwrap(), body))
        .collect()
}

/// The one resource of `kind`.
fn the<'a>(template: &'a Yaml, kind: &str) -> (&'a str, &'a Yaml) {
    let found = resources(template, kind);
    assert_eq!(found.len(), 1, "expected one {kind}");
    found[0]
}

fn is_ref(value: &Yaml, name: &str) -> bool {
    value["Ref"].as_str() == Some(name)
}

fn is_get_att(value: &Yaml, name: &str, attribute: &str) -> bool {
    let Some(parts) = value["Fn::GetAtt"].as_vec() else {
        return false;
    };
    parts.len() == 2 && parts[0].as_str() == Some(name) && parts[1].as_str() == Some(attribute)
}

fn function(template: &Yaml) -> &Yaml {
    the(template, "AWS::Serverless::Function").1
}

fn environment(template: &Yaml) -> &Yaml {
    &function(template)["Properties"]["Environment"]["Variables"]
}

#[test]
fn the_authorizer_and_link_check_tokens_of_the_same_pool_and_client() {
    let t = template();
    let (pool, _) = the(&t, "AWS::Cognito::UserPool");
    let (client, client_body) = the(&t, "AWS::Cognito::UserPoolClient");
    assert!(is_ref(&client_body["Properties"]["UserPoolId"], pool));

    let (_, api) = the(&t, "AWS::Serverless::HttpApi");
    let auth = &api["Properties"]["Auth"];
    let name = auth["DefaultAuthorizer"].as_str().unwrap();
    let jwt = &auth["Authorizers"][name]["JwtConfiguration"];
    assert_eq!(
        jwt["issuer"]["Fn::Sub"].as_str().unwrap(),
        format!("https://cognito-idp.${{AWS::Region}}.amazonaws.com/${{{pool}}}")
    );
    let audience = jwt["audience"].as_vec().unwrap();
    assert_eq!(audience.len(), 1);
    assert!(is_ref(&audience[0], client));
    let source = auth["Authorizers"][name]["IdentitySource"].as_str();
    assert_eq!(source, Some("$request.header.Authorization"));

    // Link verifies against the same issuer (region and pool) and audience (client).
    let env = environment(&t);
    assert_eq!(env["LINK_AUTH"].as_str(), Some("cognito"));
    assert!(is_ref(&env["COGNITO_REGION"], "AWS::Region"));
    assert!(is_ref(&env["COGNITO_USER_POOL_ID"], pool));
    assert!(is_ref(&env["COGNITO_CLIENT_ID"], client));
}

#[test]
fn only_the_account_routes_and_the_page_skip_the_authorizer() {
    let t = template();
    let (api, _) = the(&t, "AWS::Serverless::HttpApi");
    let events = function(&t)["Properties"]["Events"].as_hash().unwrap();
    let mut open = BTreeSet::new();
    let mut guarded = BTreeSet::new();
    for event in events.values() {
        assert_eq!(event["Type"].as_str(), Some("HttpApi"));
        let properties = &event["Properties"];
        assert!(is_ref(&properties["ApiId"], api));
        let path = properties["Path"].as_str().unwrap_or("$default").to_owned();
        match properties["Auth"]["Authorizer"].as_str() {
            Some("NONE") => open.insert(path),
            _ => guarded.insert(path),
        };
    }
    let open: Vec<&str> = open.iter().map(String::as_str).collect();
    assert_eq!(open, ["$default", "/v1/auth/{proxy+}"]);
    assert!(guarded.contains("/v1/{proxy+}"), "{guarded:?}");
}

#[test]
fn the_function_is_the_lambda_build_and_streams_through_its_url() {
    let t = template();
    let properties = &function(&t)["Properties"];
    assert_eq!(properties["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(properties["Handler"].as_str(), Some("bootstrap"));
    assert!(is_ref(&properties["Architectures"][0], "Architecture"));
    let architecture = &t["Parameters"]["Architecture"];
    assert_eq!(architecture["Default"].as_str(), Some("arm64"));
    let allowed: Vec<&str> = (architecture["AllowedValues"].as_vec().unwrap().iter())
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(allowed, ["arm64", "x86_64"]);

    let url = &properties["FunctionUrlConfig"];
    assert_eq!(url["InvokeMode"].as_str(), Some("RESPONSE_STREAM"));
    // The function must outlive the longest stream Link allows, and the HTTP API's 30 s
    // integration limit must not cut a request Link would still answer.
    let timeout = properties["Timeout"].as_i64().unwrap();
    let env = environment(&t);
    let stream: i64 = env["LINK_MAX_STREAM_SECS"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let request: i64 = (env["LINK_REQUEST_TIMEOUT_SECS"].as_str().unwrap())
        .parse()
        .unwrap();
    assert!(
        stream < timeout && request < 30,
        "{stream} {request} {timeout}"
    );
}

#[test]
fn the_environment_names_the_stacks_table_guardrail_and_model() {
    let t = template();
    let env = environment(&t);
    let (table, _) = the(&t, "AWS::DynamoDB::Table");
    assert_eq!(env["LINK_STORE"].as_str(), Some("dynamodb"));
    assert!(is_ref(&env["LINK_DYNAMODB_TABLE"], table));
    assert_eq!(env["LINK_RATE_LIMIT_STORE"].as_str(), Some("dynamodb"));

    let (guardrail, _) = the(&t, "AWS::Bedrock::Guardrail");
    let (version, version_body) = the(&t, "AWS::Bedrock::GuardrailVersion");
    let identifier = &version_body["Properties"]["GuardrailIdentifier"];
    assert!(is_get_att(identifier, guardrail, "GuardrailId"));
    assert!(is_get_att(
        &env["LINK_GUARDRAIL_ID"],
        guardrail,
        "GuardrailId"
    ));
    assert!(is_get_att(
        &env["LINK_GUARDRAIL_VERSION"],
        version,
        "Version"
    ));
    assert_eq!(env["LINK_MODERATION"].as_str(), Some("bedrock"));
    assert_eq!(env["LINK_CHAT_PROVIDER"].as_str(), Some("bedrock"));
    assert_eq!(env["LINK_PERSONA_PROVIDER"].as_str(), Some("bedrock"));
    assert!(is_ref(&env["LINK_BEDROCK_MODEL"], "BedrockModelId"));
    assert_eq!(env["LINK_LAMBDA"].as_str(), Some("true"));

    // Every setting is one link-server reads (a misspelt name would be silently ignored).
    let known: BTreeSet<String> = link_server::Config::command()
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|name| name.to_string_lossy().into_owned())
        .collect();
    for name in env.as_hash().unwrap().keys() {
        let name = name.as_str().unwrap();
        let accepted = known.contains(name) || name == "RUST_LOG";
        assert!(accepted, "link-server has no setting {name}");
    }
}

#[test]
fn the_table_has_link_dynamodbs_keys_ttl_and_recovery() {
    let t = template();
    let properties = &the(&t, "AWS::DynamoDB::Table").1["Properties"];
    let keys = |schema: &Yaml| -> Vec<(String, String)> {
        (schema.as_vec().unwrap().iter())
            .map(|k| {
                let name = k["AttributeName"].as_str().unwrap().to_owned();
                (name, k["KeyType"].as_str().unwrap().to_owned())
            })
            .collect()
    };
    let pair = |a: &str, b: &str| vec![(a.into(), "HASH".into()), (b.into(), "RANGE".into())];
    // link-dynamodb/src/keys.rs: PK, SK; the index `updated` on GSI1PK, GSI1SK; `expires`.
    assert_eq!(keys(&properties["KeySchema"]), pair("PK", "SK"));
    let indexes = properties["GlobalSecondaryIndexes"].as_vec().unwrap();
    assert_eq!(indexes.len(), 1);
    assert_eq!(indexes[0]["IndexName"].as_str(), Some("updated"));
    assert_eq!(keys(&indexes[0]["KeySchema"]), pair("GSI1PK", "GSI1SK"));
    assert_eq!(
        indexes[0]["Projection"]["ProjectionType"].as_str(),
        Some("ALL")
    );
    for attribute in properties["AttributeDefinitions"].as_vec().unwrap() {
        assert_eq!(attribute["AttributeType"].as_str(), Some("S"));
    }
    let ttl = &properties["TimeToLiveSpecification"];
    assert_eq!(ttl["AttributeName"].as_str(), Some("expires"));
    assert_eq!(ttl["Enabled"].as_bool(), Some(true));
    let pitr = &properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"];
    assert_eq!(pitr.as_bool(), Some(true));
    assert_eq!(properties["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
}

/// The logical ids a resource value names (`Ref`, `Fn::GetAtt`, `${Name...}` in `Fn::Sub`),
/// and whether it has a wildcard.
fn named_resources(value: &Yaml) -> (BTreeSet<String>, bool) {
    let mut names = BTreeSet::new();
    let mut wildcard = false;
    let values = match value.as_vec() {
        Some(list) => list.clone(),
        None => vec![value.clone()],
    };
    for value in &values {
        if let Some(text) = value.as_str() {
            wildcard |= text.contains('*');
        } else if let Some(name) = value["Ref"].as_str() {
            names.insert(name.to_owned());
        } else if let Some(parts) = value["Fn::GetAtt"].as_vec() {
            names.insert(parts[0].as_str().unwrap().to_owned());
        } else if let Some(text) = value["Fn::Sub"].as_str() {
            wildcard |= text.contains('*');
            for part in text.split("${").skip(1) {
                let name = part.split(['}', '.']).next().unwrap();
                if !name.starts_with("AWS::") {
                    names.insert(name.to_owned());
                }
            }
        } else {
            panic!("a resource the test cannot read: {value:?}");
        }
    }
    (names, wildcard)
}

#[test]
fn every_iam_statement_names_its_resources() {
    let t = template();
    let properties = &function(&t)["Properties"];
    let (role, role_body) = the(&t, "AWS::IAM::Role");
    // The function's own role: SAM adds no policy of its own (its basic execution role
    // would let the function write to any log group).
    assert!(is_get_att(&properties["Role"], role, "Arn"));
    assert!(properties["Policies"].is_badvalue());
    assert!(role_body["Properties"]["ManagedPolicyArns"].is_badvalue());

    // Each service's actions on the stack's own resource of that service, nothing else.
    let (table, _) = the(&t, "AWS::DynamoDB::Table");
    let (guardrail, _) = the(&t, "AWS::Bedrock::Guardrail");
    let (log_group, _) = the(&t, "AWS::Logs::LogGroup");
    let owner = |action: &str| -> &str {
        match action {
            "bedrock:ApplyGuardrail" => guardrail,
            "bedrock:InvokeModel" | "bedrock:InvokeModelWithResponseStream" => "BedrockModelId",
            a if a.starts_with("dynamodb:") => table,
            a if a.starts_with("logs:") => log_group,
            other => panic!("an action the test does not expect: {other}"),
        }
    };
    let policies = role_body["Properties"]["Policies"].as_vec().unwrap();
    let mut statements = 0;
    for policy in policies {
        for statement in policy["PolicyDocument"]["Statement"].as_vec().unwrap() {
            statements += 1;
            assert_eq!(statement["Effect"].as_str(), Some("Allow"));
            let actions = match statement["Action"].as_vec() {
                Some(list) => list.iter().map(|a| a.as_str().unwrap()).collect(),
                None => vec![statement["Action"].as_str().unwrap()],
            };
            let (names, wildcard) = named_resources(&statement["Resource"]);
            assert!(!wildcard, "a wildcard resource in {statement:?}");
            for action in actions {
                assert!(!action.contains('*'), "a wildcard action: {action}");
                let expected = BTreeSet::from([owner(action).to_owned()]);
                assert_eq!(names, expected, "{action}");
            }
        }
    }
    assert_eq!(statements, 4);
}

/// A `Write` into a shared buffer, for a log layer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One audit line as the function logs it: the engine's tracing audit sink with the
/// deployment's content policy, through the JSON log layer (`LINK_LOG_FORMAT=json`).
fn audit_line(outcome: AuditOutcome, error: Option<&str>) -> String {
    let event = AuditEvent {
        timestamp: time::OffsetDateTime::now_utc(),
        request_id: RequestId::generate(),
        client_request_id: None,
        sub: "0f6c2a4e-1c1b-4a4f-9d8e-3b2a1c0d9e8f".into(),
        action: AuditAction::SendMessage,
        conversation_id: None,
        outcome,
        error: error.map(str::to_owned),
        latency_ms: 12.0,
        model: Some("amazon.nova-micro-v1:0".into()),
        usage: None,
        input: None,
        prompt: Some("upstream_error rate_limited".into()),
        response: None,
    };
    let captured = Captured::default();
    let writer = captured.clone();
    let log = tracing_subscriber::fmt::layer()
        .json()
        .with_writer(move || writer.clone());
    let subscriber = tracing_subscriber::registry().with(log);
    let sink = TracingAuditSink::new(ContentPolicy::Hash);
    tracing::subscriber::with_default(subscriber, || {
        futures::executor::block_on(sink.record(&event)).unwrap();
    });
    let line = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert_eq!(line.lines().count(), 1, "{line}");
    line
}

/// Whether a CloudWatch term pattern (quoted terms, all required) matches `line`.
fn matches(pattern: &str, line: &str) -> bool {
    let terms: Vec<&str> = pattern.split('"').skip(1).step_by(2).collect();
    assert!(!terms.is_empty(), "{pattern}");
    terms.iter().all(|term| line.contains(term))
}

#[test]
fn the_metric_filters_count_the_audit_lines_they_name() {
    let t = template();
    let (log_group, _) = the(&t, "AWS::Logs::LogGroup");
    let filters = resources(&t, "AWS::Logs::MetricFilter");
    let pattern = |metric: &str| -> String {
        let (_, filter) = (filters.iter())
            .find(|(_, f)| {
                let transform = &f["Properties"]["MetricTransformations"][0];
                transform["MetricName"].as_str() == Some(metric)
            })
            .unwrap_or_else(|| panic!("no metric filter for {metric}"));
        assert!(is_ref(&filter["Properties"]["LogGroupName"], log_group));
        filter["Properties"]["FilterPattern"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let ok = audit_line(AuditOutcome::Ok, None);
    let denied = audit_line(AuditOutcome::RateLimited, Some("quota_exceeded"));
    let failed = audit_line(AuditOutcome::Error, Some("upstream_error"));
    let other = audit_line(AuditOutcome::Error, Some("not_found"));
    // The prompt's words are hashed away (LINK_AUDIT_CONTENT=hash): they match nothing.
    assert_eq!(environment(&t)["LINK_AUDIT_CONTENT"].as_str(), Some("hash"));
    assert_eq!(environment(&t)["LINK_LOG_FORMAT"].as_str(), Some("json"));

    let requests = pattern("Requests");
    assert!(
        [&ok, &denied, &failed, &other]
            .iter()
            .all(|l| matches(&requests, l))
    );
    assert!(ok.contains(r#"\"outcome\":\"ok\""#), "{ok}");
    assert!(!matches(&requests, r#"{"fields":{"message":"serving"}}"#));
    let denials = pattern("Denials");
    assert!(matches(&denials, &denied));
    assert!(![&ok, &failed, &other].iter().any(|l| matches(&denials, l)));
    let upstream = pattern("UpstreamFailures");
    assert!(matches(&upstream, &failed));
    assert!(![&ok, &denied, &other].iter().any(|l| matches(&upstream, l)));
}
