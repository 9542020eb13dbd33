//! The OSS backend against a local HTTP server that records every request
//! and answers as OSS would. There is no real OSS here, so the server checks
//! the shape of what the client sends (method, `?cors`, host style, XML
//! body, Content-MD5, date and content-sha256 headers) and recomputes the
//! V4 signature from the request it received; the signer itself is pinned
//! by the official example in its unit test. Answers with OSS XML errors
//! exercise the error mapping, and a local STS stand-in exercises RRSA.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use bucketcors_engine::format::{Format, parse};
use bucketcors_engine::{CorsConfig, Rule};
use bucketcors_sync::backend::oss::credentials::{ProvideCredentials, RrsaProvider, RrsaSettings};
use bucketcors_sync::backend::oss::signer::{SignableRequest, SigningTime, sign};
use bucketcors_sync::backend::oss::{OssClient, OssSettings};
use bucketcors_sync::backend::{AccessKeys, Backend, CredentialSource, ErrorKind};
use md5::{Digest, Md5};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const AK: &str = "LTAI5tTestAccessKey";
const SK: &str = "oss-secret-key-never-shown";
const TOKEN: &str = "sts-security-token-never-shown";

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Server {
    seen: Mutex<Vec<Seen>>,
    /// Scripted answers; when empty the server behaves as a small OSS:
    /// PUT stores, GET returns what is stored, DELETE clears.
    script: Mutex<VecDeque<(u16, String)>>,
    stored: Mutex<Option<String>>,
}

fn oss_error(code: &str, message: &str, ec: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>{code}</Code>\n  <Message>{message}</Message>\n  \
         <RequestId>6565D5B7C6A5C43135AF1A1B</RequestId>\n  <HostId>b1.oss-cn-hangzhou.aliyuncs.com</HostId>\n  \
         <EC>{ec}</EC>\n</Error>\n"
    )
}

async fn handle(
    State(server): State<Arc<Server>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let seen = Seen {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    server.seen.lock().unwrap().push(seen.clone());
    if let Some((status, body)) = server.script.lock().unwrap().pop_front() {
        return (StatusCode::from_u16(status).unwrap(), body).into_response();
    }
    match method {
        Method::PUT => {
            *server.stored.lock().unwrap() = Some(seen.body);
            StatusCode::OK.into_response()
        }
        Method::GET => match server.stored.lock().unwrap().clone() {
            Some(xml) => (StatusCode::OK, xml).into_response(),
            None => (
                StatusCode::NOT_FOUND,
                oss_error(
                    "NoSuchCORSConfiguration",
                    "The CORS Configuration does not exist.",
                    "0034-00000001",
                ),
            )
                .into_response(),
        },
        Method::DELETE => {
            *server.stored.lock().unwrap() = None;
            StatusCode::NO_CONTENT.into_response()
        }
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
}

async fn start() -> (Arc<Server>, SocketAddr) {
    let server = Arc::new(Server::default());
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (server, addr)
}

fn keys(token: Option<&str>) -> CredentialSource {
    CredentialSource::Keys(AccessKeys {
        access_key_id: AK.into(),
        secret_access_key: SK.into(),
        session_token: token.map(str::to_owned),
    })
}

fn config() -> CorsConfig {
    CorsConfig {
        rules: vec![Rule {
            id: None,
            allowed_origins: vec!["https://app.example.com".into()],
            allowed_methods: vec!["GET".into(), "PUT".into()],
            allowed_headers: vec!["x-oss-*".into()],
            expose_headers: vec!["ETag".into()],
            max_age_seconds: Some(600),
        }],
        response_vary: true,
    }
}

/// Recomputes the signature of `seen` with the signer and `secret`, using
/// the region, date and additional headers the Authorization header names.
fn check_signature(seen: &Seen, bucket: &str, secret: &str) {
    let auth = seen.header("authorization").expect("Authorization header");
    let rest = auth
        .strip_prefix("OSS4-HMAC-SHA256 Credential=")
        .expect("V4 algorithm");
    let parts: Vec<&str> = rest.split(',').collect();
    let credential: Vec<&str> = parts[0].split('/').collect();
    assert_eq!(credential.len(), 5, "{auth}");
    let (ak, date, region) = (credential[0], credential[1], credential[2]);
    assert_eq!(&credential[3..], ["oss", "aliyun_v4_request"]);
    assert_eq!(parts[1], "AdditionalHeaders=host", "{auth}");
    let signature = parts[2].strip_prefix("Signature=").expect("signature last");

    let datetime = seen.header("x-oss-date").expect("x-oss-date");
    assert_eq!(datetime.len(), 16, "yyyymmddTHHMMSSZ: {datetime}");
    assert!(datetime.ends_with('Z') && &datetime[8..9] == "T" && datetime.starts_with(date));
    assert_eq!(
        seen.header("x-oss-content-sha256"),
        Some("UNSIGNED-PAYLOAD")
    );

    let headers: Vec<(&str, &str)> = seen
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let recomputed = sign(
        &SignableRequest {
            method: &seen.method,
            bucket: Some(bucket),
            key: None,
            query: &[("cors", None)],
            headers: &headers,
            additional_headers: &["host"],
        },
        ak,
        secret,
        region,
        &SigningTime {
            datetime: datetime.to_owned(),
            date: date.to_owned(),
        },
    );
    assert_eq!(
        recomputed.signature, signature,
        "signature over what the server received"
    );
}

#[tokio::test]
async fn virtual_hosted_requests_have_the_documented_shape() {
    let (server, addr) = start().await;
    let client = OssClient::new(&OssSettings {
        endpoint: Some(format!(
            "http://oss-cn-hangzhou.aliyuncs.com:{}",
            addr.port()
        )),
        region: None, // derived from the endpoint: cn-hangzhou
        path_style: false,
        credentials: keys(Some(TOKEN)),
        resolve_to: Some(addr),
        max_attempts: Some(1),
    })
    .unwrap();
    let bucket = client.bucket("b1");

    assert_eq!(
        bucket.get_cors().await.unwrap(),
        None,
        "NoSuchCORSConfiguration is a normal answer"
    );
    bucket.put_cors(&config()).await.unwrap();
    assert_eq!(bucket.get_cors().await.unwrap(), Some(config()));
    bucket.delete_cors().await.unwrap();

    let seen = server.seen.lock().unwrap().clone();
    let methods: Vec<&str> = seen.iter().map(|s| s.method.as_str()).collect();
    assert_eq!(methods, ["GET", "PUT", "GET", "DELETE"]);
    for request in &seen {
        assert_eq!(
            request.path, "/",
            "virtual-hosted: the bucket is in the host"
        );
        assert_eq!(request.query.as_deref(), Some("cors"));
        assert_eq!(
            request.header("host"),
            Some(format!("b1.oss-cn-hangzhou.aliyuncs.com:{}", addr.port()).as_str())
        );
        assert_eq!(request.header("x-oss-security-token"), Some(TOKEN));
        assert!(
            request
                .header("authorization")
                .unwrap()
                .contains("/cn-hangzhou/oss/aliyun_v4_request")
        );
        check_signature(request, "b1", SK);
    }

    let put = &seen[1];
    assert_eq!(put.header("content-type"), Some("application/xml"));
    let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(put.body.as_bytes()));
    assert_eq!(put.header("content-md5"), Some(md5.as_str()));
    assert!(
        put.body.contains("<ResponseVary>true</ResponseVary>"),
        "{}",
        put.body
    );
    assert_eq!(
        parse(&put.body, Format::OssXml).unwrap(),
        config(),
        "the body is OSS XML of the rules"
    );
}

#[tokio::test]
async fn path_style_puts_the_bucket_in_the_path() {
    let (server, addr) = start().await;
    let client = OssClient::new(&OssSettings {
        endpoint: Some(format!("http://{addr}")),
        region: Some("eu-central-1".into()),
        path_style: true,
        credentials: keys(None),
        resolve_to: None,
        max_attempts: Some(1),
    })
    .unwrap();
    client.bucket("assets").put_cors(&config()).await.unwrap();
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen[0].path, "/assets/");
    assert_eq!(seen[0].query.as_deref(), Some("cors"));
    assert_eq!(seen[0].header("host"), Some(addr.to_string().as_str()));
    assert_eq!(seen[0].header("x-oss-security-token"), None);
    assert!(
        seen[0]
            .header("authorization")
            .unwrap()
            .contains("/eu-central-1/oss/")
    );
    check_signature(&seen[0], "assets", SK);
}

#[tokio::test]
async fn oss_errors_map_to_classes_without_secrets() {
    let (server, addr) = start().await;
    let client = OssClient::new(&OssSettings {
        endpoint: Some(format!("http://{addr}")),
        region: Some("cn-hangzhou".into()),
        path_style: true,
        credentials: keys(Some(TOKEN)),
        resolve_to: None,
        max_attempts: Some(2),
    })
    .unwrap();
    let bucket = client.bucket("b1");
    let cases = [
        (
            404,
            "NoSuchBucket",
            "0015-00000101",
            ErrorKind::BucketNotFound,
        ),
        (
            403,
            "AccessDenied",
            "0003-00000001",
            ErrorKind::AccessDenied,
        ),
        (
            403,
            "InvalidAccessKeyId",
            "0002-00000902",
            ErrorKind::AccessDenied,
        ),
        (
            403,
            "SignatureDoesNotMatch",
            "0002-00000040",
            ErrorKind::AccessDenied,
        ),
        (400, "InvalidArgument", "0034-00000011", ErrorKind::Refused),
        (400, "MalformedXML", "0034-00000002", ErrorKind::Refused),
    ];
    for (status, code, ec, kind) in cases {
        server
            .script
            .lock()
            .unwrap()
            .push_back((status, oss_error(code, "the message", ec)));
        let error = bucket.put_cors(&config()).await.unwrap_err();
        assert_eq!(error.kind, kind, "{code}: {error}");
        let text = format!("{error} {error:?}");
        assert!(
            text.contains("oss bucket `b1`") && text.contains(code) && text.contains(ec),
            "{text}"
        );
        assert!(!text.contains(SK) && !text.contains(TOKEN), "{text}");
    }

    // 5xx and RequestTimeout are transient: retried, and reported as such
    // when every attempt fails.
    let before = server.seen.lock().unwrap().len();
    server.script.lock().unwrap().push_back((
        503,
        oss_error("ServiceUnavailable", "busy", "0000-00000001"),
    ));
    bucket
        .put_cors(&config())
        .await
        .expect("the second attempt succeeds");
    assert_eq!(server.seen.lock().unwrap().len() - before, 2, "one retry");
    // 408 Request Timeout without an error body: transient by status alone
    // (RFC 9110 15.5.9: the client may repeat the request), as for S3,
    // STS and the edge API.
    let before = server.seen.lock().unwrap().len();
    server
        .script
        .lock()
        .unwrap()
        .push_back((408, String::new()));
    bucket
        .put_cors(&config())
        .await
        .expect("a 408 is retried and the second attempt succeeds");
    assert_eq!(server.seen.lock().unwrap().len() - before, 2, "one retry");
    for _ in 0..2 {
        server
            .script
            .lock()
            .unwrap()
            .push_back((400, oss_error("RequestTimeout", "slow", "0000-00000002")));
    }
    let before = server.seen.lock().unwrap().len();
    let error = bucket.get_cors().await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Transient, "{error}");
    assert_eq!(
        server.seen.lock().unwrap().len() - before,
        2,
        "a transient code is retried like a transient status"
    );

    // Nothing listening: connection refused is transient.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let down = OssClient::new(&OssSettings {
        endpoint: Some(format!("http://{closed}")),
        region: Some("cn-hangzhou".into()),
        path_style: true,
        credentials: keys(None),
        resolve_to: None,
        max_attempts: Some(1),
    })
    .unwrap();
    let error = down.bucket("b1").get_cors().await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Transient, "{error}");
}

/// A local STS stand-in: checks the AssumeRoleWithOIDC form and hands out
/// numbered temporary keys that expire after `lifetime`.
#[derive(Default)]
struct Sts {
    calls: Mutex<Vec<String>>,
    lifetime: Mutex<i64>,
}

async fn sts(State(sts): State<Arc<Sts>>, uri: Uri, body: Bytes) -> Response {
    let query = uri.query().unwrap_or_default().to_owned();
    let form = String::from_utf8_lossy(&body).into_owned();
    let n = {
        let mut calls = sts.calls.lock().unwrap();
        calls.push(format!("{query}&{form}"));
        calls.len()
    };
    let expiration =
        time::OffsetDateTime::now_utc() + time::Duration::seconds(*sts.lifetime.lock().unwrap());
    let expiration = expiration
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let answer = serde_json::json!({
        "RequestId": "3D57EAD2-8723-1F26-B69C-F8707D8B565D",
        "Credentials": {
            "AccessKeyId": format!("STS.key{n}"),
            "AccessKeySecret": format!("sts-secret-{n}"),
            "SecurityToken": format!("sts-token-{n}"),
            "Expiration": expiration,
        }
    });
    (StatusCode::OK, answer.to_string()).into_response()
}

#[tokio::test]
async fn rrsa_exchanges_the_oidc_token_and_refreshes_before_expiry() {
    let sts_state = Arc::new(Sts {
        lifetime: Mutex::new(3600),
        ..Sts::default()
    });
    let app = axum::Router::new()
        .fallback(sts)
        .with_state(sts_state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sts_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "eyJhbGciOiJSUzI1NiJ9.oidc-token-value.sig\n").unwrap();
    let provider = Arc::new(RrsaProvider::new(
        RrsaSettings {
            role_arn: "acs:ram::1234567890:role/bucketcors".into(),
            oidc_provider_arn: "acs:ram::1234567890:oidc-provider/ack-rrsa-c1".into(),
            oidc_token_file: token_file.clone(),
            role_session_name: "bucketcors-test".into(),
            sts_endpoint: format!("http://{sts_addr}"),
            duration: Duration::from_secs(3600),
        },
        bucketcors_sync::backend::oss::client::http_client(None),
    ));

    let (oss, oss_addr) = start().await;
    let client = OssClient::with_credentials(
        &OssSettings {
            endpoint: Some(format!("http://{oss_addr}")),
            region: Some("cn-hangzhou".into()),
            path_style: true,
            ..OssSettings::default()
        },
        provider.clone(),
    )
    .unwrap();
    let bucket = client.bucket("b1");
    bucket.put_cors(&config()).await.unwrap();
    bucket.get_cors().await.unwrap();

    let calls = sts_state.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "credentials are cached while fresh");
    for part in [
        "Action=AssumeRoleWithOIDC",
        "Version=2015-04-01",
        "Format=JSON",
        "RoleArn=acs%3Aram%3A%3A1234567890%3Arole%2Fbucketcors",
        "OIDCProviderArn=acs%3Aram%3A%3A1234567890%3Aoidc-provider%2Fack-rrsa-c1",
        "OIDCToken=eyJhbGciOiJSUzI1NiJ9.oidc-token-value.sig",
        "RoleSessionName=bucketcors-test",
        "DurationSeconds=3600",
    ] {
        assert!(calls[0].contains(part), "{part} missing from {}", calls[0]);
    }
    let seen = oss.seen.lock().unwrap().clone();
    for request in &seen {
        assert!(
            request
                .header("authorization")
                .unwrap()
                .contains("Credential=STS.key1/")
        );
        assert_eq!(request.header("x-oss-security-token"), Some("sts-token-1"));
        check_signature(request, "b1", "sts-secret-1");
    }

    // Keys that expire within the refresh margin are replaced on next use,
    // and the (rotated) token file is read again.
    *sts_state.lifetime.lock().unwrap() = 60;
    std::fs::write(&token_file, "rotated-token").unwrap();
    let first = provider.credentials().await.unwrap();
    assert_eq!(first.access_key_id, "STS.key1", "still fresh");
    // A provider whose STS answers with keys valid for 60 s (inside the 5-minute margin).
    let provider_short = RrsaProvider::new(
        RrsaSettings {
            role_arn: "acs:ram::1234567890:role/bucketcors".into(),
            oidc_provider_arn: "acs:ram::1234567890:oidc-provider/ack-rrsa-c1".into(),
            oidc_token_file: token_file,
            role_session_name: "bucketcors-test".into(),
            sts_endpoint: format!("http://{sts_addr}"),
            duration: Duration::from_secs(900),
        },
        bucketcors_sync::backend::oss::client::http_client(None),
    );
    let a = provider_short.credentials().await.unwrap();
    let b = provider_short.credentials().await.unwrap();
    assert_ne!(
        a.access_key_id, b.access_key_id,
        "keys expiring within 5 minutes are refreshed"
    );
    let calls = sts_state.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 3);
    assert!(calls[2].contains("OIDCToken=rotated-token"));
    let shown = format!("{a:?} {provider_short:?}");
    assert!(
        !shown.contains("sts-secret")
            && !shown.contains("sts-token")
            && !shown.contains("rotated-token"),
        "{shown}"
    );
}

#[tokio::test]
async fn rrsa_sts_refusal_is_access_denied_without_the_token() {
    let app = axum::Router::new().fallback(|| async {
        (
            StatusCode::BAD_REQUEST,
            r#"{"RequestId":"R1","Code":"AuthenticationFail.OIDCToken.Invalid","Message":"The OIDC token is invalid."}"#,
        )
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sts_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "secret-oidc-token").unwrap();
    let provider = Arc::new(RrsaProvider::new(
        RrsaSettings {
            role_arn: "acs:ram::1:role/r".into(),
            oidc_provider_arn: "acs:ram::1:oidc-provider/p".into(),
            oidc_token_file: dir.path().join("token"),
            role_session_name: "s".into(),
            sts_endpoint: format!("http://{sts_addr}"),
            duration: Duration::from_secs(3600),
        },
        bucketcors_sync::backend::oss::client::http_client(None),
    ));
    let client = OssClient::with_credentials(
        &OssSettings {
            endpoint: Some("http://127.0.0.1:9".into()),
            region: Some("cn-hangzhou".into()),
            path_style: true,
            ..OssSettings::default()
        },
        provider,
    )
    .unwrap();
    let error = client.bucket("b1").get_cors().await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::AccessDenied, "{error}");
    let text = error.to_string();
    assert!(
        text.contains("AuthenticationFail.OIDCToken.Invalid") && text.contains("b1"),
        "{text}"
    );
    assert!(!text.contains("secret-oidc-token"), "{text}");
}

#[test]
fn debug_output_never_shows_the_secret() {
    let client = OssClient::new(&OssSettings {
        endpoint: Some("oss-cn-hangzhou.aliyuncs.com".into()),
        credentials: keys(Some(TOKEN)),
        ..OssSettings::default()
    })
    .unwrap();
    let shown = format!("{client:?} {:?}", client.bucket("b1"));
    assert!(shown.contains(AK), "{shown}");
    assert!(!shown.contains(SK) && !shown.contains(TOKEN), "{shown}");
}

/// The reconcile core on the OSS dialect: ResponseVary travels, and a
/// second apply only reads.
#[tokio::test]
async fn reconcile_on_oss_is_idempotent() {
    use bucketcors_sync::reconcile::{Change, Desired, Reconciler};
    let (server, addr) = start().await;
    let client = OssClient::new(&OssSettings {
        endpoint: Some(format!("http://{addr}")),
        region: Some("cn-hangzhou".into()),
        path_style: true,
        credentials: keys(None),
        resolve_to: None,
        max_attempts: Some(1),
    })
    .unwrap();
    let bucket = client.bucket("b1");
    let reconciler = Reconciler::new(&bucket);
    let first = reconciler.apply(&Desired::new(config())).await.unwrap();
    assert_eq!(first.change, Change::Created);
    let second = reconciler.apply(&Desired::new(config())).await.unwrap();
    assert_eq!(second.change, Change::Unchanged);
    let methods: Vec<String> = server
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.method.clone())
        .collect();
    assert_eq!(
        methods,
        ["GET", "PUT", "GET", "GET"],
        "read, write, read back; then one read"
    );

    // ResponseVary alone is a change on OSS.
    let mut no_vary = config();
    no_vary.response_vary = false;
    assert_eq!(
        reconciler
            .apply(&Desired::new(no_vary))
            .await
            .unwrap()
            .change,
        Change::Updated
    );
    assert!(
        server
            .stored
            .lock()
            .unwrap()
            .as_deref()
            .unwrap()
            .contains("<ResponseVary>false</ResponseVary>")
    );
}

/// Keeps what it is asked to publish.
#[derive(Default)]
struct Recording(Mutex<Vec<bucketcors_engine::ruleset::RuleSet>>);

#[async_trait::async_trait]
impl bucketcors_sync::edge::Publisher for Recording {
    async fn publish(
        &self,
        _target: &bucketcors_sync::edge::EdgeTarget,
        rules: &bucketcors_engine::ruleset::RuleSet,
    ) -> Result<bucketcors_sync::edge::Published, bucketcors_sync::edge::PublishError> {
        self.0.lock().unwrap().push(rules.clone());
        Ok(bucketcors_sync::edge::Published {
            routes: Vec::new(),
            written: Vec::new(),
        })
    }
    async fn withdraw(
        &self,
        _routes: &[bucketcors_sync::edge::Route],
    ) -> Result<(), bucketcors_sync::edge::PublishError> {
        Ok(())
    }
}

/// The plan's rule set, built once, is the value compared, written and
/// published: the bucket holds its rules, the edge gets it unchanged, and
/// its revision is the engine's for the OSS dialect.
#[tokio::test]
async fn the_plans_rule_set_is_written_and_published() {
    use bucketcors_engine::Dialect;
    use bucketcors_engine::ruleset::RuleSet;
    use bucketcors_sync::edge::EdgeTarget;
    use bucketcors_sync::reconcile::{Change, Desired, EdgeResult, Reconciler};
    let (server, addr) = start().await;
    let client = OssClient::new(&OssSettings {
        endpoint: Some(format!("http://{addr}")),
        region: Some("cn-hangzhou".into()),
        path_style: true,
        credentials: keys(None),
        resolve_to: None,
        max_attempts: Some(1),
    })
    .unwrap();
    let bucket = client.bucket("b1");
    let publisher = Recording::default();
    let reconciler = Reconciler::new(&bucket).with_publisher(&publisher);
    let desired = Desired::new(config()).with_edge(EdgeTarget {
        hosts: vec!["cdn.example.com".into()],
        path_prefix: None,
        origin_url: format!("http://{addr}/b1"),
    });
    let expected = RuleSet::new(Dialect::Oss, config()).unwrap();

    let plan = reconciler.plan(&desired).await.unwrap();
    assert_eq!(plan.rules, expected);
    assert_eq!(plan.change, Change::Created);
    assert!(
        publisher.0.lock().unwrap().is_empty(),
        "a plan publishes nothing"
    );
    let outcome = reconciler.execute(&plan, &desired).await.unwrap();
    assert_eq!(outcome.revision, expected.revision);
    assert_eq!(outcome.edge.revision(), Some(expected.revision.as_str()));
    assert!(matches!(outcome.edge, EdgeResult::Published(_)));
    assert_eq!(
        *publisher.0.lock().unwrap(),
        std::slice::from_ref(&expected)
    );
    let stored = server.stored.lock().unwrap().clone().expect("written");
    assert_eq!(parse(&stored, Format::OssXml).unwrap(), expected.config);
}

#[test]
fn environment_credentials_keys_then_rrsa() {
    use bucketcors_sync::backend::oss::credentials::from_lookup;
    let http = bucketcors_sync::backend::oss::client::http_client(None);
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    };
    let keys = from_lookup(
        env(&[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "AK1"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "SK1"),
            ("ALIBABA_CLOUD_ROLE_ARN", "r"),
        ]),
        http.clone(),
    )
    .unwrap();
    assert!(format!("{keys:?}").contains("StaticProvider") && !format!("{keys:?}").contains("SK1"));
    let rrsa = from_lookup(
        env(&[
            ("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/r"),
            (
                "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
                "acs:ram::1:oidc-provider/p",
            ),
            (
                "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
                "/var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token",
            ),
        ]),
        http.clone(),
    )
    .unwrap();
    assert!(format!("{rrsa:?}").contains("RrsaProvider"));
    let none = from_lookup(|_: &str| None, http).unwrap_err();
    assert!(
        !none.transient
            && none.message.contains("ALIBABA_CLOUD_ACCESS_KEY_ID")
            && none.message.contains("RRSA")
    );
}
