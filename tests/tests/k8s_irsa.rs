//! IRSA (IAM roles for service accounts) for the S3 backend, as far as it
//! can be shown without AWS: the real control plane, Garage, and a local
//! STS stand-in (testkit `sts`) that answers `AssumeRoleWithWebIdentity`
//! only for a token the API server's TokenReview authenticates for the
//! role's audience, with the role and subject its trust allows.
//!
//! The chart is installed with `defaultCredentials.s3.webIdentity` (role,
//! audience, STS endpoint) and no Secret at all; `team-irsa` may use the
//! default credentials. The operator runs as the chart's pod (testkit
//! `LocalPod`, which plays the projected ServiceAccount token volume the
//! chart renders). Then:
//!
//! 1. a BucketCors of `team-irsa` naming no Secret becomes Ready, Garage
//!    holds its rule, and STS saw the chart's role asked for with a valid
//!    token of the chart's ServiceAccount and the pod's session name;
//! 2. with the token's audience changed (helm upgrade, new pod), STS
//!    refuses the token (`InvalidIdentityToken`) and the object says
//!    `AccessDenied` with STS's reason and no secret, Garage untouched;
//! 3. with another role, STS refuses the role (`AccessDenied`), likewise.
//!
//! Garage does not implement STS: it checks the SigV4 signature with the
//! key STS handed out and ignores the signed `X-Amz-Security-Token`. The
//! operator's environment holds no key at all, so a request Garage accepts
//! was signed with the key only STS gave it.

mod support;

use std::time::Duration;

use bucketcors_testkit::garage::Garage;
use bucketcors_testkit::pod::LocalPod;
use bucketcors_testkit::sts::{StsRole, StsStandIn};
use serde_json::Value;
use support::cluster::{Cluster, Operator, RELEASE, RELEASE_NS};
use support::manifest::BucketCorsManifest;
use support::world::garage_bucket_rules;

const TEAM: &str = "team-irsa";
const BUCKET: &str = "irsa-site";
const REFUSED_BUCKET: &str = "irsa-refused";
const ROLE: &str = "arn:aws:iam::123456789012:role/bucketcors-cors-writer";
const OTHER_ROLE: &str = "arn:aws:iam::123456789012:role/someone-else";
const AUDIENCE: &str = "sts.amazonaws.com";
const APP: &str = "https://app.example.com";
const SETTLE: Duration = Duration::from_secs(60);
/// The chart's ServiceAccount as a token subject.
const SUBJECT: &str = "system:serviceaccount:bucketcors-system:bucketcors";

/// A BucketCors on Garage naming no Secret: the default credentials.
fn without_secret(name: &str, endpoint: &str, bucket: &str) -> String {
    let manifest =
        BucketCorsManifest::garage(TEAM, name, endpoint, bucket).rule(&[APP], &["GET", "PUT"]);
    let mut value: Value = serde_json::from_str(&manifest.render()).unwrap();
    value["spec"]["backend"]
        .as_object_mut()
        .unwrap()
        .remove("credentialsSecretRef");
    value.to_string()
}

/// The allowed origins of each rule Garage holds for `bucket` (read with
/// Garage's own key by `bucketcors get`), or `None` when it holds none.
fn bucket_origins(garage: &Garage, bucket: &str) -> Option<Vec<Vec<String>>> {
    let rules = garage_bucket_rules(garage, bucket)?;
    Some(
        rules["CORSRules"]
            .as_array()?
            .iter()
            .map(|r| {
                r["AllowedOrigins"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .collect(),
    )
}

/// Waits for an STS exchange answered `answer` after the first `seen`.
fn wait_exchange(
    cluster: &Cluster,
    sts: &StsStandIn,
    seen: usize,
    answer: &str,
) -> bucketcors_testkit::sts::Exchange {
    cluster.wait_for(&format!("STS to answer {answer}"), SETTLE, || {
        sts.exchanges()
            .into_iter()
            .skip(seen)
            .find(|e| e.answer == answer)
    })
}

#[test]
fn default_credentials_come_from_the_service_accounts_web_identity() {
    let started = std::time::Instant::now();
    let step = |what: &str| eprintln!("[{:>6.1?}] {what}", started.elapsed());
    let garage = Garage::start(&[BUCKET, REFUSED_BUCKET])
        .unwrap_or_else(|e| panic!("Garage must run for this test: {e}"));
    let endpoint = garage.endpoint();
    let key = garage.key().clone();
    let sts = StsStandIn::start(StsRole {
        role_arn: ROLE.into(),
        audience: AUDIENCE.into(),
        subject: SUBJECT.into(),
        access_key_id: key.access_key_id.clone(),
        secret_access_key: key.secret_access_key.clone(),
    })
    .expect("the STS stand-in listens");
    let cluster = Cluster::install(&[
        "--set",
        &format!("defaultCredentials.s3.webIdentity.roleArn={ROLE}"),
        "--set",
        &format!("defaultCredentials.s3.webIdentity.audience={AUDIENCE}"),
        "--set",
        "defaultCredentials.s3.webIdentity.expirationSeconds=3600",
        "--set",
        &format!(
            "defaultCredentials.s3.webIdentity.stsEndpoint={}",
            sts.url()
        ),
        "--set",
        &format!("tenancy.defaultCredentialsNamespaces={{{TEAM}}}"),
    ]);
    sts.review_with(cluster.plane.kubeconfig());
    cluster.create_namespace(TEAM);

    // What the chart rendered: the annotation EKS's webhook reads, and the
    // pod side itself (no key anywhere, the role, a projected token).
    let account = cluster
        .get("serviceaccount", RELEASE_NS, RELEASE)
        .expect("the chart's ServiceAccount");
    assert_eq!(
        account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"], ROLE,
        "{account}"
    );
    let pod = LocalPod::of_deployment(
        cluster.plane.kubeconfig(),
        RELEASE_NS,
        RELEASE,
        "bucketcors-probe",
        cluster.plane.dir(),
    )
    .expect("the chart's pod can be played");
    let env = |name: &str| {
        pod.env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(env("AWS_ROLE_ARN").as_deref(), Some(ROLE));
    assert_eq!(env("AWS_ENDPOINT_URL_STS"), Some(sts.url()));
    assert_eq!(env("AWS_ACCESS_KEY_ID"), None, "no key in the pod");
    assert_eq!(env("AWS_SECRET_ACCESS_KEY"), None, "no key in the pod");
    let token_file = env("AWS_WEB_IDENTITY_TOKEN_FILE").expect("a token file");
    assert!(
        std::path::Path::new(&token_file).is_file(),
        "the projected token is where the environment says: {token_file}"
    );

    step("chart installed; the pod as rendered checked");
    // 1. The allowed namespace, no Secret: Ready, through STS.
    let mut operator = Operator::start(&cluster, "bucketcors-0");
    cluster.apply(&without_secret("site", &endpoint, BUCKET));
    let ready = cluster.wait_condition(TEAM, "site", "Ready", "True", None, SETTLE);
    assert_eq!(ready["reason"], "Synced", "{ready}");
    assert_eq!(
        bucket_origins(&garage, BUCKET),
        Some(vec![vec![APP.to_string()]]),
        "Garage holds the rule written with STS's credentials"
    );
    let issued = wait_exchange(&cluster, &sts, 0, "Issued");
    assert_eq!(issued.action, "AssumeRoleWithWebIdentity");
    assert_eq!(issued.role_arn, ROLE);
    assert_eq!(issued.subject.as_deref(), Some(SUBJECT));
    assert_eq!(
        issued.session_name, "bucketcors-0",
        "AWS_ROLE_SESSION_NAME is the pod name"
    );
    assert!(
        !operator.log().contains(&key.secret_access_key),
        "the secret STS handed out is never logged"
    );
    // Gracefully, as a rollout stops a pod: the Lease is released.
    operator.terminate();

    step("1: Ready through STS");
    // 2. The token for another audience: STS refuses the token.
    cluster.upgrade(&[
        "--set",
        "defaultCredentials.s3.webIdentity.audience=not-sts.example.com",
    ]);
    let seen = sts.exchanges().len();
    let mut operator = Operator::start(&cluster, "bucketcors-1");
    cluster.apply(&without_secret("refused", &endpoint, REFUSED_BUCKET));
    let refused = wait_exchange(&cluster, &sts, seen, "InvalidIdentityToken");
    assert_eq!(refused.subject, None, "the token was not authenticated");
    let ready = cluster.wait_condition(
        TEAM,
        "refused",
        "Ready",
        "False",
        Some("AccessDenied"),
        SETTLE,
    );
    let message = ready["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("InvalidIdentityToken"),
        "STS's reason: {ready}"
    );
    assert!(
        !message.contains(&key.secret_access_key),
        "no secret: {ready}"
    );
    assert_eq!(
        bucket_origins(&garage, REFUSED_BUCKET),
        None,
        "nothing written"
    );
    operator.terminate();

    step("2: another audience refused");
    // 3. The right audience but another role: STS refuses the role.
    cluster.upgrade(&[
        "--set",
        &format!("defaultCredentials.s3.webIdentity.audience={AUDIENCE}"),
        "--set",
        &format!("defaultCredentials.s3.webIdentity.roleArn={OTHER_ROLE}"),
    ]);
    let seen = sts.exchanges().len();
    let _operator = Operator::start(&cluster, "bucketcors-2");
    let denied = wait_exchange(&cluster, &sts, seen, "AccessDenied");
    assert_eq!(denied.role_arn, OTHER_ROLE);
    assert_eq!(denied.subject.as_deref(), Some(SUBJECT), "a valid token");
    let ready = cluster.wait_for("refused to say STS's AccessDenied", SETTLE, || {
        let c = cluster.condition(TEAM, "refused", "Ready")?;
        (c["reason"] == "AccessDenied"
            && c["message"].as_str().is_some_and(|m| {
                m.contains("Not authorized to perform sts:AssumeRoleWithWebIdentity")
            }))
        .then_some(c)
    });
    let message = ready["message"].as_str().unwrap_or_default();
    assert!(
        !message.contains(&key.secret_access_key),
        "no secret: {ready}"
    );
    assert_eq!(
        bucket_origins(&garage, REFUSED_BUCKET),
        None,
        "nothing written"
    );
    step("3: another role refused");
}
