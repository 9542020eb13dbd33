//! The controller's reconcile against kube-rs's mock API server (tower-test,
//! the controller-rs `ApiServerVerifier` pattern) with a real Garage behind
//! the backend.
//!
//! Each test runs one `reconcile` and plays the API server: it receives every
//! request the controller makes, in order, checks method, path and body, and
//! answers. The bucket side is checked on Garage itself. Covered: the
//! finalizer is added first; status and Events for success, invalid spec
//! (no backend call), missing Secret, access denied, unreachable backend
//! (backoff) and drift; deletion under `Delete` and `Retain`; a rotated
//! Secret takes effect on the next reconcile; Secret changes map to the
//! objects that reference them.

use bucketcors_engine::{CorsConfig, Rule};
use bucketcors_operator::controller::secrets::{Credentials, referencing};
use bucketcors_operator::controller::{Context, Error, error_policy, reconcile};
use bucketcors_operator::crd::{BucketCors, BucketCorsSpec, FINALIZER, Provider};
use bucketcors_operator::telemetry::Metrics;
use bucketcors_sync::backend::{AccessKeys, BackendSettings, Connector, CredentialSource};
use bucketcors_testkit::garage::Garage;
use http::{Method, Request, Response, StatusCode};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::client::Body;
use kube::runtime::controller::Action;
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

const NS: &str = "web";
const SECRET: &str = "garage-credentials";

/// The mock API server: each call takes the next request the controller
/// sent, checks it, and answers.
struct ApiServer {
    handle: Handle,
}

/// One request as received.
struct Received {
    body: Value,
    reply: tower_test::mock::SendResponse<Response<Body>>,
}

impl Received {
    fn answer(self, status: StatusCode, body: &Value) {
        self.reply.send_response(
            Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(Body::from(serde_json::to_vec(body).unwrap()))
                .unwrap(),
        );
    }
}

impl ApiServer {
    async fn next(&mut self, method: Method, path: &str) -> Received {
        let (got_method, got_path, received) = self.any().await;
        assert_eq!(
            (&got_method, got_path.as_str()),
            (&method, path),
            "unexpected request, body: {}",
            received.body
        );
        received
    }

    async fn any(&mut self) -> (Method, String, Received) {
        let (request, reply) =
            tokio::time::timeout(Duration::from_secs(30), self.handle.next_request())
                .await
                .expect("the controller sent no further request")
                .expect("the controller stopped");
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let bytes = request.into_body().collect_bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        (method, path, Received { body, reply })
    }

    /// GET of the Secret, answered with `secret` (404 when `None`).
    async fn secret(&mut self, secret: Option<&Secret>) {
        let req = self
            .next(
                Method::GET,
                &format!("/api/v1/namespaces/{NS}/secrets/{SECRET}"),
            )
            .await;
        match secret {
            Some(s) => req.answer(StatusCode::OK, &serde_json::to_value(s).unwrap()),
            None => req.answer(StatusCode::NOT_FOUND, &not_found("secrets", SECRET)),
        }
    }

    /// An Event; returns (type, reason, note). A repeat of an Event the
    /// recorder already sent arrives as a PATCH extending its series.
    async fn event(&mut self) -> (String, String, String) {
        let events = format!("/apis/events.k8s.io/v1/namespaces/{NS}/events");
        let (method, path, req) = self.any().await;
        let body = req.body.clone();
        match method {
            Method::POST => assert_eq!(path, events, "{body}"),
            Method::PATCH => {
                assert!(path.starts_with(&format!("{events}/")), "{path}");
                assert!(
                    body["series"]["count"].as_i64().unwrap_or(0) >= 2,
                    "a series patch: {body}"
                );
            }
            other => panic!("expected an Event, got {other} {path}: {body}"),
        }
        req.answer(StatusCode::CREATED, &body);
        (
            body["type"].as_str().unwrap_or_default().to_string(),
            body["reason"].as_str().unwrap_or_default().to_string(),
            body["note"].as_str().unwrap_or_default().to_string(),
        )
    }

    /// The server-side-apply status patch; returns the status written.
    async fn status(&mut self, obj: &BucketCors) -> Value {
        let path = format!(
            "/apis/bucketcors.dev/v1alpha1/namespaces/{NS}/bucketcors/{}/status",
            obj.name_any()
        );
        let req = self.next(Method::PATCH, &path).await;
        let status = req.body["status"].clone();
        assert_eq!(
            req.body["kind"], "BucketCors",
            "an apply patch names its kind"
        );
        let mut updated = serde_json::to_value(obj).unwrap();
        updated["status"] = status.clone();
        req.answer(StatusCode::OK, &updated);
        status
    }

    /// A JSON patch of the object's finalizers; returns the patch.
    async fn finalizer_patch(&mut self, obj: &BucketCors, after: &BucketCors) -> Value {
        let path = format!(
            "/apis/bucketcors.dev/v1alpha1/namespaces/{NS}/bucketcors/{}",
            obj.name_any()
        );
        let req = self.next(Method::PATCH, &path).await;
        let patch = req.body.clone();
        req.answer(StatusCode::OK, &serde_json::to_value(after).unwrap());
        patch
    }

    /// Nothing else was sent.
    async fn done(&mut self) {
        let extra =
            tokio::time::timeout(Duration::from_millis(300), self.handle.next_request()).await;
        if let Ok(Some((request, _))) = extra {
            panic!(
                "unexpected extra request: {} {}",
                request.method(),
                request.uri()
            );
        }
    }
}

fn not_found(kind: &str, name: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": format!("{kind} \"{name}\" not found"), "reason": "NotFound", "code": 404})
}

fn secret_with(keys: &AccessKeys) -> Secret {
    let mut data = std::collections::BTreeMap::new();
    data.insert(
        "accessKeyId".to_string(),
        ByteString(keys.access_key_id.clone().into_bytes()),
    );
    data.insert(
        "secretAccessKey".to_string(),
        ByteString(keys.secret_access_key.clone().into_bytes()),
    );
    Secret {
        metadata: kube::api::ObjectMeta {
            name: Some(SECRET.into()),
            namespace: Some(NS.into()),
            ..Default::default()
        },
        data: Some(data),
        ..Default::default()
    }
}

fn keys_of(garage: &Garage) -> AccessKeys {
    AccessKeys {
        access_key_id: garage.key().access_key_id.clone(),
        secret_access_key: garage.key().secret_access_key.clone(),
        session_token: None,
    }
}

/// A BucketCors on `bucket` at `endpoint`, with the finalizer already on.
fn bucket_cors(name: &str, endpoint: &str, bucket: &str, rules: Value) -> BucketCors {
    let spec: BucketCorsSpec = serde_json::from_value(json!({
        "backend": {
            "provider": "s3", "bucket": bucket, "endpoint": endpoint, "region": "garage",
            "pathStyle": true, "credentialsSecretRef": {"name": SECRET}
        },
        "rules": rules,
    }))
    .unwrap();
    let mut obj = BucketCors::new(name, spec);
    obj.meta_mut().namespace = Some(NS.into());
    obj.meta_mut().uid = Some(format!("uid-{name}"));
    obj.meta_mut().generation = Some(1);
    obj.meta_mut().resource_version = Some("1".into());
    obj.meta_mut().finalizers = Some(vec![FINALIZER.into()]);
    obj
}

fn one_rule() -> Value {
    json!([{"allowedOrigins": ["https://app.example.com"], "allowedMethods": ["GET", "PUT"], "allowedHeaders": ["content-type"], "maxAgeSeconds": 600}])
}

fn context(client: Client) -> Arc<Context> {
    let ambient = Connector::new(CredentialSource::Ambient, CredentialSource::Ambient);
    let credentials =
        Credentials::new(client.clone(), ambient).with_configure(|c| c.with_max_attempts(1));
    Arc::new(
        Context::new(client, credentials, None, Arc::new(Metrics::new()), "test")
            .with_backoff(Duration::from_secs(5), Duration::from_secs(60)),
    )
}

fn mock() -> (Client, ApiServer) {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    (Client::new(service, "default"), ApiServer { handle })
}

fn start(obj: &BucketCors, ctx: &Arc<Context>) -> JoinHandle<Result<Action, Error>> {
    tokio::spawn(reconcile(Arc::new(obj.clone()), ctx.clone()))
}

async fn finish(task: JoinHandle<Result<Action, Error>>) -> Result<Action, Error> {
    tokio::time::timeout(Duration::from_secs(60), task)
        .await
        .expect("reconcile finished")
        .expect("reconcile did not panic")
}

/// What Garage holds for `bucket`, read with the test's own backend.
async fn bucket_rules(garage: &Garage, bucket: &str) -> Option<CorsConfig> {
    let connector = Connector::new(
        CredentialSource::Keys(keys_of(garage)),
        CredentialSource::Ambient,
    );
    let settings = BackendSettings {
        provider: Provider::S3,
        endpoint: Some(garage.endpoint()),
        region: Some(garage.region().into()),
        path_style: true,
    };
    let backend = connector.backend(&settings, bucket).await.unwrap();
    backend.get_cors().await.expect("read Garage")
}

fn condition<'a>(status: &'a Value, type_: &str) -> &'a Value {
    status["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == type_))
        .unwrap_or_else(|| panic!("no {type_} condition in {status}"))
}

#[tokio::test]
async fn finalizer_is_added_before_anything_else() {
    let (client, mut api) = mock();
    let ctx = context(client);
    let mut obj = bucket_cors("site", "http://127.0.0.1:9", "site", one_rule());
    obj.meta_mut().finalizers = None;
    let task = start(&obj, &ctx);
    let mut after = obj.clone();
    after.meta_mut().finalizers = Some(vec![FINALIZER.into()]);
    let patch = api.finalizer_patch(&obj, &after).await;
    let text = patch.to_string();
    assert!(
        text.contains(FINALIZER),
        "the patch adds {FINALIZER}: {text}"
    );
    assert_eq!(
        finish(task).await.unwrap(),
        Action::await_change(),
        "the finalizer patch itself wakes the next reconcile"
    );
    api.done().await;
}

#[tokio::test]
async fn apply_writes_the_bucket_then_reports_ready() {
    let garage = Garage::start(&["site"]).expect("start Garage");
    let (client, mut api) = mock();
    let ctx = context(client);
    let obj = bucket_cors("site", &garage.endpoint(), "site", one_rule());

    let task = start(&obj, &ctx);
    api.secret(Some(&secret_with(&keys_of(&garage)))).await;
    let (type_, reason, note) = api.event().await;
    assert_eq!(
        (type_.as_str(), reason.as_str()),
        ("Normal", "Applied"),
        "{note}"
    );
    let status = api.status(&obj).await;
    let action = finish(task).await.unwrap();
    api.done().await;

    assert_eq!(
        action,
        Action::requeue(Duration::from_secs(300)),
        "the default resync"
    );
    for type_ in ["Ready", "BackendSynced"] {
        let c = condition(&status, type_);
        assert_eq!(c["status"], "True", "{c}");
        assert_eq!(c["observedGeneration"], 1);
        assert!(c["lastTransitionTime"].is_string());
    }
    assert_eq!(condition(&status, "EdgePublished")["reason"], "Disabled");
    assert_eq!(status["ruleCount"], 1);
    assert!(
        status["appliedRevision"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    assert!(status["lastSyncTime"].is_string());
    assert!(
        !status.to_string().contains(&garage.key().secret_access_key),
        "no secret in the status"
    );

    let stored = bucket_rules(&garage, "site")
        .await
        .expect("Garage holds a configuration");
    assert_eq!(stored.rules[0].allowed_origins, ["https://app.example.com"]);
    assert_eq!(stored.rules[0].max_age_seconds, Some(600));
    assert_eq!(ctx.metrics.reconciles_total(), 1);

    // The next resync finds the bucket in sync: no Event, same transition time.
    let mut synced = obj.clone();
    synced.status = Some(serde_json::from_value(status.clone()).unwrap());
    let task = start(&synced, &ctx);
    api.secret(Some(&secret_with(&keys_of(&garage)))).await;
    let again = api.status(&synced).await;
    finish(task).await.unwrap();
    api.done().await;
    assert_eq!(
        condition(&again, "Ready")["lastTransitionTime"],
        condition(&status, "Ready")["lastTransitionTime"]
    );

    // Someone edits the bucket behind our back: the resync repairs it.
    let intruder = CorsConfig {
        rules: vec![Rule {
            allowed_origins: vec!["*".into()],
            allowed_methods: vec!["DELETE".into()],
            ..Rule::default()
        }],
        response_vary: false,
    };
    let connector = Connector::new(
        CredentialSource::Keys(keys_of(&garage)),
        CredentialSource::Ambient,
    );
    let settings = BackendSettings {
        provider: Provider::S3,
        endpoint: Some(garage.endpoint()),
        region: Some(garage.region().into()),
        path_style: true,
    };
    connector
        .backend(&settings, "site")
        .await
        .unwrap()
        .put_cors(&intruder)
        .await
        .unwrap();
    let task = start(&synced, &ctx);
    api.secret(Some(&secret_with(&keys_of(&garage)))).await;
    let (_, reason, _) = api.event().await;
    assert_eq!(reason, "DriftRepaired");
    api.status(&synced).await;
    finish(task).await.unwrap();
    assert_eq!(ctx.metrics.drift_repairs_total(), 1);
    let repaired = bucket_rules(&garage, "site").await.unwrap();
    assert_eq!(
        repaired.rules[0].allowed_origins,
        ["https://app.example.com"]
    );
}

#[tokio::test]
async fn invalid_spec_is_reported_and_never_sent() {
    let garage = Garage::start(&["site"]).expect("start Garage");
    let (client, mut api) = mock();
    let ctx = context(client);
    // Two identical rules: the schema cannot see it, the engine refuses it.
    let rule = json!({"allowedOrigins": ["https://a.example"], "allowedMethods": ["GET"]});
    let obj = bucket_cors("site", &garage.endpoint(), "site", json!([rule, rule]));

    let task = start(&obj, &ctx);
    api.secret(Some(&secret_with(&keys_of(&garage)))).await;
    let (type_, reason, note) = api.event().await;
    assert_eq!(
        (type_.as_str(), reason.as_str()),
        ("Warning", "InvalidSpec")
    );
    assert!(note.contains("rule 1"), "the note names the rule: {note}");
    let status = api.status(&obj).await;
    let error = finish(task).await.unwrap_err();
    api.done().await;

    assert_eq!(error.reason(), "InvalidSpec");
    let synced = condition(&status, "BackendSynced");
    assert_eq!(
        (synced["status"].as_str(), synced["reason"].as_str()),
        (Some("False"), Some("InvalidSpec"))
    );
    assert_eq!(condition(&status, "Ready")["status"], "False");
    assert_eq!(
        bucket_rules(&garage, "site").await,
        None,
        "nothing reached the bucket"
    );
    assert_eq!(
        error_policy(Arc::new(obj), &error, ctx.clone()),
        Action::await_change(),
        "an invalid spec waits for a spec change"
    );
    assert_eq!(ctx.metrics.failures_for("InvalidSpec"), 1);
}

#[tokio::test]
async fn edge_without_a_publisher_is_refused_before_the_bucket_is_written() {
    let garage = Garage::start(&["site"]).expect("start Garage");
    let (client, mut api) = mock();
    let ctx = context(client);
    let mut obj = bucket_cors("site", &garage.endpoint(), "site", one_rule());
    obj.spec.edge = Some(
        serde_json::from_value(json!({"enabled": true, "hosts": ["cdn.example.com"]})).unwrap(),
    );

    let task = start(&obj, &ctx);
    let (type_, reason, note) = api.event().await;
    assert_eq!(
        (type_.as_str(), reason.as_str()),
        ("Warning", "EdgeNotConfigured")
    );
    assert!(note.contains("edge.enabled"), "{note}");
    let status = api.status(&obj).await;
    let error = finish(task).await.unwrap_err();
    api.done().await;
    assert_eq!(condition(&status, "Ready")["status"], "False");
    assert_eq!(condition(&status, "Ready")["reason"], "EdgeNotConfigured");
    assert_eq!(condition(&status, "EdgePublished")["status"], "False");
    assert_eq!(condition(&status, "BackendSynced")["status"], "Unknown");
    assert_eq!(
        error_policy(Arc::new(obj), &error, ctx),
        Action::await_change()
    );
    assert_eq!(
        bucket_rules(&garage, "site").await,
        None,
        "the bucket was not written"
    );
}

#[tokio::test]
async fn missing_secret_waits_for_the_secret() {
    let (client, mut api) = mock();
    let ctx = context(client);
    let obj = bucket_cors("site", "http://127.0.0.1:9", "site", one_rule());

    let task = start(&obj, &ctx);
    api.secret(None).await;
    let (type_, reason, note) = api.event().await;
    assert_eq!(
        (type_.as_str(), reason.as_str()),
        ("Warning", "SecretNotFound")
    );
    assert!(note.contains(&format!("{NS}/{SECRET}")), "{note}");
    let status = api.status(&obj).await;
    let error = finish(task).await.unwrap_err();
    api.done().await;
    assert_eq!(
        condition(&status, "BackendSynced")["reason"],
        "SecretNotFound"
    );
    // A Secret may be created later: looked for again at the default resync
    // (the Secret watch also wakes the object at once when it appears).
    assert_eq!(
        error_policy(Arc::new(obj), &error, ctx),
        Action::requeue(Duration::from_secs(300))
    );
}

#[tokio::test]
async fn rotated_secret_is_used_on_the_next_reconcile() {
    let garage = Garage::start(&["site"]).expect("start Garage");
    let (client, mut api) = mock();
    let ctx = context(client);
    let obj = bucket_cors("site", &garage.endpoint(), "site", one_rule());

    // A key without rights on the bucket: access denied, which needs a human.
    let outsider = garage.create_key("outsider").expect("create key");
    let outsider = AccessKeys {
        access_key_id: outsider.access_key_id,
        secret_access_key: outsider.secret_access_key,
        session_token: None,
    };
    let task = start(&obj, &ctx);
    api.secret(Some(&secret_with(&outsider))).await;
    let (_, reason, note) = api.event().await;
    assert_eq!(reason, "AccessDenied", "{note}");
    assert!(
        !note.contains(&outsider.secret_access_key),
        "no secret in Events"
    );
    let status = api.status(&obj).await;
    let error = finish(task).await.unwrap_err();
    assert_eq!(
        condition(&status, "BackendSynced")["reason"],
        "AccessDenied"
    );
    assert!(!status.to_string().contains(&outsider.secret_access_key));
    // Access denied may be fixed outside Kubernetes (an IAM policy): tried
    // again at the default resync, not only on an edit.
    assert_eq!(
        error_policy(Arc::new(obj.clone()), &error, ctx.clone()),
        Action::requeue(Duration::from_secs(300))
    );

    // The Secret is rotated to a key with rights: the next reconcile (which
    // the Secret watch triggers) applies.
    let task = start(&obj, &ctx);
    api.secret(Some(&secret_with(&keys_of(&garage)))).await;
    let (_, reason, _) = api.event().await;
    assert_eq!(reason, "Applied");
    let status = api.status(&obj).await;
    finish(task).await.unwrap();
    api.done().await;
    assert_eq!(condition(&status, "Ready")["status"], "True");
    assert!(bucket_rules(&garage, "site").await.is_some());
}

#[tokio::test]
async fn unreachable_backend_backs_off_exponentially() {
    let (client, mut api) = mock();
    let ctx = context(client);
    // Port 9 (discard) is closed on loopback: connection refused.
    let obj = bucket_cors("site", "http://127.0.0.1:9", "site", one_rule());
    let secret = secret_with(&AccessKeys {
        access_key_id: "GKunused".into(),
        secret_access_key: "unused".into(),
        session_token: None,
    });
    let mut delays = Vec::new();
    for _ in 0..3 {
        let task = start(&obj, &ctx);
        api.secret(Some(&secret)).await;
        let (_, reason, _) = api.event().await;
        assert_eq!(reason, "BackendUnavailable");
        let status = api.status(&obj).await;
        assert_eq!(condition(&status, "Ready")["status"], "False");
        let error = finish(task).await.unwrap_err();
        delays.push(error_policy(Arc::new(obj.clone()), &error, ctx.clone()));
    }
    api.done().await;
    assert_eq!(
        delays,
        [5, 10, 20].map(|s| Action::requeue(Duration::from_secs(s))),
        "transient errors retry with a doubling delay"
    );
}

#[tokio::test]
async fn deletion_honours_the_policy() {
    let garage = Garage::start(&["drop", "keep"]).expect("start Garage");
    let (client, mut api) = mock();
    let ctx = context(client);
    let now =
        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(k8s_openapi::jiff::Timestamp::now());

    for (bucket, policy) in [("drop", "Delete"), ("keep", "Retain")] {
        // First bring the bucket in line.
        let obj = bucket_cors(bucket, &garage.endpoint(), bucket, one_rule());
        let task = start(&obj, &ctx);
        api.secret(Some(&secret_with(&keys_of(&garage)))).await;
        api.event().await;
        api.status(&obj).await;
        finish(task).await.unwrap();
        assert!(bucket_rules(&garage, bucket).await.is_some());

        // Then delete it.
        let mut deleting = obj.clone();
        deleting.spec.deletion_policy = serde_json::from_value(json!(policy)).unwrap();
        deleting.meta_mut().deletion_timestamp = Some(now.clone());
        let task = start(&deleting, &ctx);
        if policy == "Delete" {
            api.secret(Some(&secret_with(&keys_of(&garage)))).await;
        }
        let (type_, reason, _) = api.event().await;
        assert_eq!(
            (type_.as_str(), reason.as_str()),
            (
                "Normal",
                if policy == "Delete" {
                    "Deleted"
                } else {
                    "Retained"
                }
            )
        );
        let mut gone = deleting.clone();
        gone.meta_mut().finalizers = Some(vec![]);
        let patch = api.finalizer_patch(&deleting, &gone).await;
        assert!(
            patch.to_string().contains("remove") || patch.to_string().contains("finalizers"),
            "{patch}"
        );
        finish(task).await.unwrap();
    }
    api.done().await;
    assert_eq!(
        bucket_rules(&garage, "drop").await,
        None,
        "Delete removed the configuration"
    );
    assert!(
        bucket_rules(&garage, "keep").await.is_some(),
        "Retain kept it"
    );
}

#[tokio::test]
async fn deletion_with_a_missing_secret_keeps_the_finalizer_and_says_why() {
    let (client, mut api) = mock();
    let ctx = context(client);
    let mut obj = bucket_cors("site", "http://127.0.0.1:9", "site", one_rule());
    obj.meta_mut().deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::now(),
    ));
    let task = start(&obj, &ctx);
    api.secret(None).await;
    let (type_, reason, note) = api.event().await;
    assert_eq!(
        (type_.as_str(), reason.as_str()),
        ("Warning", "SecretNotFound")
    );
    assert!(note.contains("deletionPolicy to Retain"), "{note}");
    let error = finish(task).await.unwrap_err();
    api.done().await;
    assert_eq!(error.reason(), "SecretNotFound");
}

#[tokio::test]
async fn secret_changes_map_to_the_objects_that_reference_them() {
    let (reader, mut writer) = reflector::store::<BucketCors>();
    let a = bucket_cors("a", "http://127.0.0.1:9", "a", one_rule());
    let b = bucket_cors("b", "http://127.0.0.1:9", "b", one_rule());
    let mut other_ns = bucket_cors("c", "http://127.0.0.1:9", "c", one_rule());
    other_ns.meta_mut().namespace = Some("elsewhere".into());
    let mut other_secret = bucket_cors("d", "http://127.0.0.1:9", "d", one_rule());
    other_secret
        .spec
        .backend
        .credentials_secret_ref
        .as_mut()
        .unwrap()
        .name = "other".into();
    writer.apply_watcher_event(&watcher::Event::Init);
    for obj in [&a, &b, &other_ns, &other_secret] {
        writer.apply_watcher_event(&watcher::Event::InitApply(obj.clone()));
    }
    writer.apply_watcher_event(&watcher::Event::InitDone);
    let mut found = referencing(&reader, Some(NS), SECRET);
    found.sort_by_key(|r| r.name.clone());
    assert_eq!(found, [ObjectRef::from_obj(&a), ObjectRef::from_obj(&b)]);
    assert!(referencing(&reader, Some(NS), "unrelated").is_empty());
}

/// An in-memory bucket put in place of the store through the controller's
/// backend seam ([`Context::with_backends`]). It proves how the controller
/// handles what a store answers (each failure a store can give, whether it
/// wrote), not what any store answers: the Garage-backed tests above keep
/// the real store on every path.
struct MemoryBucket {
    target: bucketcors_sync::backend::Target,
    /// What every call answers instead of succeeding, if set.
    failure: Option<(bucketcors_sync::backend::ErrorKind, &'static str)>,
    rules: std::sync::Mutex<Option<CorsConfig>>,
    writes: std::sync::atomic::AtomicUsize,
}

impl MemoryBucket {
    fn new(failure: Option<(bucketcors_sync::backend::ErrorKind, &'static str)>) -> Arc<Self> {
        Arc::new(MemoryBucket {
            target: bucketcors_sync::backend::Target {
                provider: "s3",
                bucket: "site".into(),
            },
            failure,
            rules: std::sync::Mutex::new(None),
            writes: 0.into(),
        })
    }

    fn answer(&self) -> Result<(), bucketcors_sync::backend::BackendError> {
        match self.failure {
            Some((kind, message)) => Err(bucketcors_sync::backend::BackendError::new(
                kind,
                &self.target,
                message,
            )),
            None => Ok(()),
        }
    }
}

#[async_trait::async_trait]
impl bucketcors_sync::backend::Backend for MemoryBucket {
    fn dialect(&self) -> bucketcors_engine::Dialect {
        bucketcors_engine::Dialect::S3
    }
    fn target(&self) -> &bucketcors_sync::backend::Target {
        &self.target
    }
    async fn get_cors(&self) -> Result<Option<CorsConfig>, bucketcors_sync::backend::BackendError> {
        self.answer()?;
        Ok(self.rules.lock().unwrap().clone())
    }
    async fn put_cors(
        &self,
        config: &CorsConfig,
    ) -> Result<(), bucketcors_sync::backend::BackendError> {
        self.answer()?;
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        *self.rules.lock().unwrap() = Some(config.clone());
        Ok(())
    }
    async fn delete_cors(&self) -> Result<(), bucketcors_sync::backend::BackendError> {
        self.answer()?;
        *self.rules.lock().unwrap() = None;
        Ok(())
    }
}

/// The test context, opening `bucket` for every object.
fn memory_context(client: Client, bucket: &Arc<MemoryBucket>) -> Arc<Context> {
    Arc::new(
        Arc::into_inner(context(client))
            .unwrap()
            .with_backends(Arc::new(Memory(bucket.clone()))),
    )
}

/// Keys the in-memory bucket never checks; the secret must never show.
fn fake_keys() -> AccessKeys {
    AccessKeys {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "never-printed-secret".into(),
        session_token: None,
    }
}

/// Hands out the one in-memory bucket for every object.
struct Memory(Arc<MemoryBucket>);

#[async_trait::async_trait]
impl bucketcors_sync::backend::Backends for Memory {
    async fn open(
        &self,
        _connector: &Connector,
        _settings: &BackendSettings,
        _bucket: &str,
    ) -> Result<Arc<dyn bucketcors_sync::backend::Backend>, bucketcors_sync::backend::BackendError>
    {
        Ok(self.0.clone())
    }
}

/// Every failure class a store can give, through the backend seam (no
/// store here can be made to answer a wrong region or a skewed clock): the
/// condition reason and the retry follow #14's rules. What needs a human
/// (denied, refused, wrong region, skewed clock) is tried again at the
/// resync interval (300 s by default), so a fix outside Kubernetes is
/// noticed; a transient failure or a bucket not yet created backs off (5 s
/// first); the message reaches the condition; nothing is written.
#[tokio::test]
async fn each_backend_failure_has_its_reason_and_its_retry() {
    use bucketcors_sync::backend::ErrorKind;
    let slow = Action::requeue(Duration::from_secs(300));
    let backoff = Action::requeue(Duration::from_secs(5));
    let cases = [
        (
            ErrorKind::AccessDenied,
            "Access Denied",
            "AccessDenied",
            &slow,
        ),
        (ErrorKind::Refused, "MalformedXML", "BackendRefused", &slow),
        (
            ErrorKind::WrongRegion,
            "the bucket is in region eu-west-1",
            "WrongRegion",
            &slow,
        ),
        (
            ErrorKind::ClockSkewed,
            "RequestTimeTooSkewed",
            "ClockSkewed",
            &slow,
        ),
        (
            ErrorKind::Transient,
            "503 Slow Down",
            "BackendUnavailable",
            &backoff,
        ),
        (
            ErrorKind::BucketNotFound,
            "NoSuchBucket",
            "BucketNotFound",
            &backoff,
        ),
    ];
    for (kind, message, reason, retry) in cases {
        let bucket = MemoryBucket::new(Some((kind, message)));
        let (client, mut api) = mock();
        let ctx = memory_context(client, &bucket);
        let obj = bucket_cors("site", "http://127.0.0.1:9", "site", one_rule());
        let keys = fake_keys();
        let task = start(&obj, &ctx);
        api.secret(Some(&secret_with(&keys))).await;
        let (type_, event_reason, note) = api.event().await;
        assert_eq!(
            (type_.as_str(), event_reason.as_str()),
            ("Warning", reason),
            "{kind:?}: {note}"
        );
        let status = api.status(&obj).await;
        let error = finish(task).await.unwrap_err();
        api.done().await;
        let synced = condition(&status, "BackendSynced");
        assert_eq!(synced["reason"], reason, "{kind:?}: {status}");
        assert!(
            synced["message"]
                .as_str()
                .unwrap_or_default()
                .contains(message),
            "{kind:?}: the store's message reaches the condition: {synced}"
        );
        assert_eq!(condition(&status, "Ready")["status"], "False");
        assert!(!status.to_string().contains("never-printed-secret"));
        assert_eq!(
            &error_policy(Arc::new(obj), &error, ctx),
            retry,
            "{kind:?}: retry"
        );
        assert_eq!(bucket.writes.load(std::sync::atomic::Ordering::SeqCst), 0);
    }
}

/// The same seam on the success path: the controller writes the spec's
/// rules once, reports Ready, and a second reconcile finds nothing to
/// write (the Garage-backed `apply_writes_the_bucket_then_reports_ready`
/// shows the same against the real store).
#[tokio::test]
async fn an_in_memory_bucket_is_written_once_and_then_left_alone() {
    let bucket = MemoryBucket::new(None);
    let (client, mut api) = mock();
    let ctx = memory_context(client, &bucket);
    let obj = bucket_cors("site", "http://127.0.0.1:9", "site", one_rule());
    let keys = fake_keys();
    for (round, event) in [(1, Some("Applied")), (2, None)] {
        let task = start(&obj, &ctx);
        api.secret(Some(&secret_with(&keys))).await;
        if let Some(expected) = event {
            let (_, reason, _) = api.event().await;
            assert_eq!(reason, expected, "round {round}");
        }
        let status = api.status(&obj).await;
        finish(task).await.unwrap();
        assert_eq!(
            condition(&status, "Ready")["status"],
            "True",
            "round {round}"
        );
    }
    api.done().await;
    assert_eq!(bucket.writes.load(std::sync::atomic::Ordering::SeqCst), 1);
    let held = bucket.rules.lock().unwrap().clone().expect("rules written");
    assert_eq!(held.rules[0].allowed_origins, ["https://app.example.com"]);
}
