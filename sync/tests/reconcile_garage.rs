//! The reconcile core against a real Garage: apply, idempotent re-apply
//! (proved by counting backend calls), change, drift repaired after another
//! S3 client edits the bucket, removal under both deletion policies, an
//! invalid spec (nothing sent), wrong credentials, Garage going away mid-run
//! and the retry once it is back, and publishing to the edge.

use async_trait::async_trait;
use bucketcors_engine::ruleset::RuleSet;
use bucketcors_engine::{CorsConfig, Dialect, Rule};
use bucketcors_sync::backend::s3::{S3Client, S3Settings};
use bucketcors_sync::backend::{AccessKeys, Backend, BackendError, CredentialSource, Target};
use bucketcors_sync::edge::{
    EdgeTarget, PublishError, Published, PublishedRoute, Publisher, Route,
};
use bucketcors_sync::reconcile::DeletionPolicy;
use bucketcors_sync::reconcile::{Change, Desired, EdgeResult, ErrorClass, Reconciler, Removal};
use bucketcors_testkit::garage::Garage;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Wraps a real backend and counts the calls that reach it.
struct Counting {
    inner: Arc<dyn Backend>,
    gets: AtomicUsize,
    puts: AtomicUsize,
    deletes: AtomicUsize,
}

impl Counting {
    fn new(inner: Arc<dyn Backend>) -> Counting {
        Counting {
            inner,
            gets: AtomicUsize::new(0),
            puts: AtomicUsize::new(0),
            deletes: AtomicUsize::new(0),
        }
    }
    fn counts(&self) -> (usize, usize, usize) {
        (
            self.gets.load(Ordering::SeqCst),
            self.puts.load(Ordering::SeqCst),
            self.deletes.load(Ordering::SeqCst),
        )
    }
}

#[async_trait]
impl Backend for Counting {
    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }
    fn target(&self) -> &Target {
        self.inner.target()
    }
    async fn get_cors(&self) -> Result<Option<CorsConfig>, BackendError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get_cors().await
    }
    async fn put_cors(&self, config: &CorsConfig) -> Result<(), BackendError> {
        self.puts.fetch_add(1, Ordering::SeqCst);
        self.inner.put_cors(config).await
    }
    async fn delete_cors(&self) -> Result<(), BackendError> {
        self.deletes.fetch_add(1, Ordering::SeqCst);
        self.inner.delete_cors().await
    }
}

/// Records what would be published; the Cloudflare publisher is tested by
/// its own suite against workerd.
#[derive(Default)]
struct RecordingPublisher {
    published: Mutex<Vec<(EdgeTarget, RuleSet)>>,
    removed: Mutex<Vec<Route>>,
}

#[async_trait]
impl Publisher for RecordingPublisher {
    async fn publish(
        &self,
        target: &EdgeTarget,
        rules: &RuleSet,
    ) -> Result<Published, PublishError> {
        self.published
            .lock()
            .unwrap()
            .push((target.clone(), rules.clone()));
        let routes = target.routes()?;
        Ok(Published {
            written: routes.clone(),
            routes: routes
                .into_iter()
                .map(|route| PublishedRoute {
                    route,
                    revision: rules.revision.clone(),
                })
                .collect(),
        })
    }
    async fn withdraw(&self, routes: &[Route]) -> Result<(), PublishError> {
        self.removed.lock().unwrap().extend_from_slice(routes);
        Ok(())
    }
}

async fn client(garage: &Garage, secret: Option<&str>) -> S3Client {
    S3Client::new(&S3Settings {
        endpoint: Some(garage.endpoint()),
        region: Some(garage.region().into()),
        path_style: true,
        credentials: CredentialSource::Keys(AccessKeys {
            access_key_id: garage.key().access_key_id.clone(),
            secret_access_key: secret.unwrap_or(&garage.key().secret_access_key).to_owned(),
            session_token: None,
        }),
        max_attempts: Some(1),
    })
    .await
}

fn rules(origin: &str) -> CorsConfig {
    CorsConfig {
        rules: vec![Rule {
            id: Some("web".into()),
            allowed_origins: vec![origin.into()],
            allowed_methods: vec!["GET".into(), "HEAD".into()],
            allowed_headers: vec!["Content-Type".into()],
            expose_headers: vec!["ETag".into()],
            max_age_seconds: Some(3000),
        }],
        response_vary: false,
    }
}

#[tokio::test]
async fn apply_is_idempotent_and_repairs_drift() {
    let garage = Garage::start(&["site"]).expect("start Garage");
    let s3 = client(&garage, None).await;
    let backend = Counting::new(Arc::new(s3.bucket("site")));
    let reconciler = Reconciler::new(&backend);

    // Create.
    let desired = Desired::new(rules("https://app.example.com"));
    let created = reconciler.apply(&desired).await.expect("apply");
    assert_eq!(created.change, Change::Created);
    assert_eq!(created.previous_revision, None);
    assert!(
        created.revision.starts_with("sha256:"),
        "{}",
        created.revision
    );
    assert_eq!(backend.counts(), (2, 1, 0), "read, write, read back");
    assert_eq!(
        s3.bucket("site").get_cors().await.unwrap(),
        Some(rules("https://app.example.com"))
    );

    // Re-apply: no write.
    let again = reconciler
        .apply(
            &desired
                .clone()
                .with_history(Some(created.revision.clone()), Vec::new()),
        )
        .await
        .unwrap();
    assert_eq!(again.change, Change::Unchanged);
    assert_eq!(again.revision, created.revision);
    assert_eq!(backend.counts(), (3, 1, 0), "one read, no second write");

    // A semantically equal spec (allowed-header case) writes nothing either;
    // rule IDs are stored by S3, so they count (see the engine's canonical form).
    let mut same = rules("https://app.example.com");
    same.rules[0].allowed_headers = vec!["content-type".into()];
    assert_eq!(
        reconciler.apply(&Desired::new(same)).await.unwrap().change,
        Change::Unchanged
    );
    assert_eq!(backend.counts().1, 1);

    // Change.
    let changed = reconciler
        .apply(
            &Desired::new(rules("https://new.example.com"))
                .with_history(Some(created.revision.clone()), Vec::new()),
        )
        .await
        .unwrap();
    assert_eq!(changed.change, Change::Updated);
    assert_eq!(
        changed.previous_revision.as_deref(),
        Some(created.revision.as_str())
    );
    assert_ne!(changed.revision, created.revision);
    assert_eq!(backend.counts().1, 2);

    // Drift: someone else edits the bucket with another S3 client.
    let other = client(&garage, None).await;
    other
        .bucket("site")
        .put_cors(&rules("https://intruder.example.net"))
        .await
        .unwrap();
    let repaired = reconciler
        .apply(
            &Desired::new(rules("https://new.example.com"))
                .with_history(Some(changed.revision.clone()), Vec::new()),
        )
        .await
        .unwrap();
    assert_eq!(repaired.change, Change::DriftRepaired);
    assert_eq!(repaired.revision, changed.revision);
    assert_eq!(
        other.bucket("site").get_cors().await.unwrap(),
        Some(rules("https://new.example.com"))
    );

    // Drift by deletion is repaired too.
    other.bucket("site").delete_cors().await.unwrap();
    let restored = reconciler
        .apply(
            &Desired::new(rules("https://new.example.com"))
                .with_history(Some(changed.revision.clone()), Vec::new()),
        )
        .await
        .unwrap();
    assert_eq!(restored.change, Change::DriftRepaired);
}

#[tokio::test]
async fn removal_honours_the_deletion_policy() {
    let garage = Garage::start(&["keep", "drop"]).expect("start Garage");
    let s3 = client(&garage, None).await;
    for bucket in ["keep", "drop"] {
        Reconciler::new(&s3.bucket(bucket))
            .apply(&Desired::new(rules("https://a.example")))
            .await
            .unwrap();
    }

    let publisher = RecordingPublisher::default();
    let edge = EdgeTarget {
        hosts: vec!["cdn.example.com".into()],
        path_prefix: None,
        origin_url: "https://o".into(),
    };

    let keep = Counting::new(Arc::new(s3.bucket("keep")));
    let retained = Reconciler::new(&keep)
        .with_publisher(&publisher)
        .remove(DeletionPolicy::Retain, &edge.routes().unwrap())
        .await;
    assert_eq!(retained.unwrap(), Removal::Retained);
    assert_eq!(keep.counts(), (0, 0, 0), "Retain sends nothing");
    assert!(
        publisher.removed.lock().unwrap().is_empty(),
        "Retain keeps the edge record"
    );
    assert_eq!(
        s3.bucket("keep").get_cors().await.unwrap(),
        Some(rules("https://a.example"))
    );

    let drop = s3.bucket("drop");
    let deleted = Reconciler::new(&drop)
        .with_publisher(&publisher)
        .remove(DeletionPolicy::Delete, &edge.routes().unwrap())
        .await;
    assert_eq!(deleted.unwrap(), Removal::Deleted);
    assert_eq!(s3.bucket("drop").get_cors().await.unwrap(), None);
    assert_eq!(*publisher.removed.lock().unwrap(), edge.routes().unwrap());

    // Deleting again, or for a bucket that is gone, still succeeds.
    assert_eq!(
        Reconciler::new(&drop)
            .remove(DeletionPolicy::Delete, &[])
            .await
            .unwrap(),
        Removal::Deleted
    );
    let gone = s3.bucket("never-existed");
    assert_eq!(
        Reconciler::new(&gone)
            .remove(DeletionPolicy::Delete, &[])
            .await
            .unwrap(),
        Removal::Deleted
    );
}

#[tokio::test]
async fn invalid_spec_sends_nothing_and_names_the_field() {
    let garage = Garage::start(&["site"]).expect("start Garage");
    let s3 = client(&garage, None).await;
    Reconciler::new(&s3.bucket("site"))
        .apply(&Desired::new(rules("https://a.example")))
        .await
        .unwrap();

    let backend = Counting::new(Arc::new(s3.bucket("site")));
    let mut invalid = rules("https://b.example");
    invalid.rules[0].allowed_methods.push("PATCH".into());
    let error = Reconciler::new(&backend)
        .apply(&Desired::new(invalid))
        .await
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::Invalid);
    assert!(error.is_input_error() && !error.is_retryable());
    let text = error.to_string();
    assert!(
        text.contains("allowedMethods[2]") && text.contains("PATCH") && text.contains("site"),
        "{text}"
    );
    assert_eq!(backend.counts(), (0, 0, 0), "nothing sent, not even a read");
    assert_eq!(
        s3.bucket("site").get_cors().await.unwrap(),
        Some(rules("https://a.example")),
        "bucket unchanged"
    );

    // The dry run refuses it the same way.
    assert_eq!(
        Reconciler::new(&backend)
            .plan(&Desired::new(CorsConfig::default()))
            .await
            .unwrap_err()
            .class(),
        ErrorClass::Invalid
    );
    assert_eq!(backend.counts(), (0, 0, 0));
}

#[tokio::test]
async fn wrong_credentials_are_access_denied_without_the_secret() {
    let garage = Garage::start(&["site"]).expect("start Garage");
    let wrong = "f".repeat(64);
    let s3 = client(&garage, Some(&wrong)).await;
    let error = Reconciler::new(&s3.bucket("site"))
        .apply(&Desired::new(rules("https://a.example")))
        .await
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::AccessDenied, "{error}");
    let text = format!("{error} {error:?}");
    assert!(text.contains("site"), "{text}");
    assert!(
        !text.contains(&wrong) && !text.contains(&garage.key().secret_access_key),
        "{text}"
    );
}

#[tokio::test]
async fn garage_down_is_transient_and_the_retry_succeeds() {
    let mut garage = Garage::start(&["site"]).expect("start Garage");
    let s3 = client(&garage, None).await;
    let bucket = s3.bucket("site");
    let reconciler = Reconciler::new(&bucket);
    let desired = Desired::new(rules("https://a.example"));
    reconciler.apply(&desired).await.unwrap();

    garage.kill();
    let changed = Desired::new(rules("https://b.example"));
    let error = reconciler.apply(&changed).await.unwrap_err();
    assert_eq!(error.class(), ErrorClass::Transient, "{error}");
    assert!(error.is_retryable() && !error.is_input_error());
    assert!(error.to_string().contains("site"), "{error}");

    garage.restart().expect("restart Garage");
    let outcome = reconciler
        .apply(&changed)
        .await
        .expect("the retry succeeds once Garage is back");
    assert_eq!(outcome.change, Change::Updated);
    assert_eq!(
        bucket.get_cors().await.unwrap(),
        Some(rules("https://b.example"))
    );
}

#[tokio::test]
async fn publishes_the_spec_routes_and_withdraws_those_it_no_longer_names() {
    let garage = Garage::start(&["site"]).expect("start Garage");
    let s3 = client(&garage, None).await;
    let bucket = s3.bucket("site");
    let publisher = RecordingPublisher::default();
    let edge = EdgeTarget {
        hosts: vec!["assets.example.com".into()],
        path_prefix: Some("/static".into()),
        origin_url: format!("{}/site", garage.endpoint()),
    };
    let reconciler = Reconciler::new(&bucket).with_publisher(&publisher);
    let desired = Desired::new(rules("https://a.example")).with_edge(edge.clone());

    let first = reconciler.apply(&desired).await.unwrap();
    let EdgeResult::Published(sync) = &first.edge else {
        panic!("published: {:?}", first.edge);
    };
    assert_eq!(sync.revision, first.revision);
    assert_eq!(sync.written, edge.routes().unwrap());
    assert!(sync.repaired.is_empty(), "nothing was published before");
    assert!(first.edge_withdrawn.is_empty());
    {
        let published = publisher.published.lock().unwrap();
        assert_eq!(published.len(), 1);
        assert_eq!(published[0].0, edge);
        assert_eq!(published[0].1.dialect, Dialect::S3);
        assert_eq!(published[0].1.revision, first.revision);
        assert_eq!(published[0].1.config, rules("https://a.example"));
    }

    // The host moves: the new one is published, the old one withdrawn.
    let moved = EdgeTarget {
        hosts: vec!["cdn.example.com".into()],
        ..edge.clone()
    };
    let second = reconciler
        .apply(
            &Desired::new(rules("https://a.example"))
                .with_edge(moved.clone())
                .with_history(Some(first.revision.clone()), sync.routes.clone()),
        )
        .await
        .unwrap();
    assert_eq!(second.change, Change::Unchanged);
    assert_eq!(second.edge.routes()[0].route, moved.routes().unwrap()[0]);
    assert_eq!(second.edge_withdrawn, edge.routes().unwrap());
    assert_eq!(*publisher.removed.lock().unwrap(), edge.routes().unwrap());

    // The edge turned off: every remembered route is withdrawn.
    let off = reconciler
        .apply(
            &Desired::new(rules("https://a.example"))
                .with_history(Some(first.revision.clone()), second.edge.routes().to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(off.edge, EdgeResult::Disabled);
    assert_eq!(off.edge_withdrawn, moved.routes().unwrap());

    // Without a publisher the outcome says so instead of failing.
    let no_publisher = Reconciler::new(&bucket).apply(&desired).await.unwrap();
    assert_eq!(no_publisher.edge, EdgeResult::NoPublisher);
}
