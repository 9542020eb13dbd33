//! End to end on a real Kubernetes cluster: install the CRD, run the
//! controller against the cluster (in this process, as `bucketcors run`
//! does), apply a Secret and a `BucketCors` that points at a local Garage,
//! wait for `Ready`, check the bucket, delete the object and check that the
//! finalizer removed the configuration.
//!
//! No API server can be installed on the CI machines, so this suite is
//! explicitly ignored by default. Run it by hand against a cluster whose
//! nodes are not needed (the operator and Garage run here, on loopback):
//!
//! ```text
//! KUBECONFIG=~/.kube/config cargo test -p bucketcors-e2e --test k8s_e2e -- --ignored
//! ```
//!
//! Without `KUBECONFIG` (or with an unreachable cluster) it fails with a
//! message saying so; it never passes without a cluster.

use bucketcors_operator::controller::secrets::Credentials;
use bucketcors_operator::controller::{self, Context};
use bucketcors_operator::crd::{BucketCors, Provider};
use bucketcors_operator::telemetry::Metrics;
use bucketcors_sync::backend::{AccessKeys, BackendSettings, Connector, CredentialSource};
use bucketcors_testkit::garage::Garage;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::{Client, CustomResourceExt};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const MANAGER: &str = "bucketcors-e2e";

async fn cluster() -> Client {
    let Some(path) = std::env::var_os("KUBECONFIG") else {
        panic!(
            "k8s_e2e needs a real cluster: set KUBECONFIG to its kubeconfig and run\n  \
             KUBECONFIG=... cargo test -p bucketcors-e2e --test k8s_e2e -- --ignored"
        );
    };
    bucketcors_operator::cli::run::install_tls_provider();
    let client = Client::try_default().await.unwrap_or_else(|e| {
        panic!(
            "KUBECONFIG={}: cannot build a client: {e}",
            path.to_string_lossy()
        )
    });
    client.apiserver_version().await.unwrap_or_else(|e| {
        panic!(
            "KUBECONFIG={}: the cluster does not answer: {e}",
            path.to_string_lossy()
        )
    });
    client
}

async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
#[ignore = "needs a real cluster: KUBECONFIG=... cargo test -p bucketcors-e2e --test k8s_e2e -- --ignored"]
async fn bucketcors_lifecycle_on_a_real_cluster() {
    let client = cluster().await;
    let garage = Garage::start(&["e2e-site"]).expect("start Garage");

    // 1. The CRD, server-side applied, then Established.
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let params = PatchParams::apply(MANAGER).force();
    crds.patch(
        "bucketcors.bucketcors.dev",
        &params,
        &Patch::Apply(&BucketCors::crd()),
    )
    .await
    .expect("install the CRD");
    wait_for(
        "the CRD to be Established",
        Duration::from_secs(60),
        || async {
            let crd = crds.get("bucketcors.bucketcors.dev").await.ok()?;
            let established = crd
                .status?
                .conditions?
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            established.then_some(())
        },
    )
    .await;

    // 2. A namespace of our own.
    let ns = format!("bucketcors-e2e-{}", std::process::id());
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap(),
        )
        .await
        .expect("create the namespace");

    // 3. The operator, in this process.
    controller::preflight(&client, Some(&ns))
        .await
        .expect("the CRD is listable");
    let ambient = Connector::new(CredentialSource::Ambient, CredentialSource::Ambient);
    let ctx = Arc::new(Context::new(
        client.clone(),
        Credentials::new(client.clone(), ambient),
        None,
        Arc::new(Metrics::new()),
        "e2e",
    ));
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let operator = tokio::spawn(controller::run(
        ctx,
        Some(ns.clone()),
        4,
        async move {
            let _ = stop_rx.wait_for(|s| *s).await;
        },
        || {},
    ));

    // 4. The Secret and the BucketCors.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": "garage"},
                "stringData": {"accessKeyId": garage.key().access_key_id, "secretAccessKey": garage.key().secret_access_key}
            }))
            .unwrap(),
        )
        .await
        .expect("create the Secret");
    let objects: Api<BucketCors> = Api::namespaced(client.clone(), &ns);
    let manifest: BucketCors = serde_json::from_value(json!({
        "apiVersion": "bucketcors.dev/v1alpha1", "kind": "BucketCors",
        "metadata": {"name": "site"},
        "spec": {
            "backend": {"provider": "s3", "bucket": "e2e-site", "endpoint": garage.endpoint(), "region": garage.region(),
                        "pathStyle": true, "credentialsSecretRef": {"name": "garage"}},
            "rules": [{"allowedOrigins": ["https://app.example.com"], "allowedMethods": ["GET", "PUT"], "maxAgeSeconds": 60}]
        }
    }))
    .unwrap();
    objects
        .create(&PostParams::default(), &manifest)
        .await
        .expect("apply the BucketCors");

    // 5. Ready, and the bucket holds the rules.
    wait_for("Ready=True", Duration::from_secs(90), || async {
        let obj = objects.get("site").await.ok()?;
        let ready = obj
            .status?
            .conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True");
        ready.then_some(())
    })
    .await;
    let keys = AccessKeys {
        access_key_id: garage.key().access_key_id.clone(),
        secret_access_key: garage.key().secret_access_key.clone(),
        session_token: None,
    };
    let connector = Connector::new(CredentialSource::Keys(keys), CredentialSource::Ambient);
    let settings = BackendSettings {
        provider: Provider::S3,
        endpoint: Some(garage.endpoint()),
        region: Some(garage.region().into()),
        path_style: true,
    };
    let backend = connector.backend(&settings, "e2e-site").await.unwrap();
    let stored = backend
        .get_cors()
        .await
        .unwrap()
        .expect("the bucket holds rules");
    assert_eq!(stored.rules[0].allowed_origins, ["https://app.example.com"]);

    // 6. A schema violation is refused by the API server itself.
    let mut bad = manifest.clone();
    bad.metadata.name = Some("bad".into());
    bad.spec.rules[0].allowed_methods = vec!["PATCH".into()];
    let refused = objects
        .create(&PostParams::default(), &bad)
        .await
        .expect_err("PATCH is not a CORS method");
    assert!(refused.to_string().contains("allowedMethods"), "{refused}");

    // 7. Delete: the finalizer removes the configuration, then the object goes.
    objects
        .delete("site", &DeleteParams::default())
        .await
        .expect("delete");
    wait_for("the object to be gone", Duration::from_secs(90), || async {
        matches!(objects.get_opt("site").await, Ok(None)).then_some(())
    })
    .await;
    assert_eq!(
        backend.get_cors().await.unwrap(),
        None,
        "deletionPolicy Delete removed the rules"
    );

    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(30), operator).await;
    let _ = namespaces.delete(&ns, &DeleteParams::default()).await;
}
