//! The S3 backend against a real Garage: put, get, delete, "none" as a
//! normal answer, and the error classes for a wrong bucket, a bad key and a
//! server that went away.

use bucketcors_engine::{CorsConfig, Rule};
use bucketcors_sync::backend::s3::{S3Client, S3Settings};
use bucketcors_sync::backend::{AccessKeys, Backend, CredentialSource, ErrorKind};
use bucketcors_testkit::garage::Garage;

fn settings(garage: &Garage, keys: AccessKeys) -> S3Settings {
    S3Settings {
        endpoint: Some(garage.endpoint()),
        region: Some(garage.region().to_owned()),
        path_style: true,
        credentials: CredentialSource::Keys(keys),
        max_attempts: Some(1),
    }
}

fn owner_keys(garage: &Garage) -> AccessKeys {
    AccessKeys {
        access_key_id: garage.key().access_key_id.clone(),
        secret_access_key: garage.key().secret_access_key.clone(),
        session_token: None,
    }
}

fn config() -> CorsConfig {
    CorsConfig {
        rules: vec![
            Rule {
                id: Some("app".into()),
                allowed_origins: vec![
                    "https://app.example.com".into(),
                    "https://*.example.org".into(),
                ],
                allowed_methods: vec!["GET".into(), "PUT".into()],
                allowed_headers: vec!["x-amz-*".into(), "content-type".into()],
                expose_headers: vec!["ETag".into()],
                max_age_seconds: Some(600),
            },
            Rule {
                allowed_origins: vec!["*".into()],
                allowed_methods: vec!["GET".into()],
                ..Rule::default()
            },
        ],
        response_vary: false,
    }
}

#[tokio::test]
async fn put_get_delete_round_trip() {
    let garage = Garage::start(&["photos"]).expect("start Garage");
    let client = S3Client::new(&settings(&garage, owner_keys(&garage))).await;
    let bucket = client.bucket("photos");

    assert_eq!(
        bucket.get_cors().await.unwrap(),
        None,
        "a fresh bucket has no configuration"
    );
    bucket
        .delete_cors()
        .await
        .expect("deleting nothing succeeds");

    bucket.put_cors(&config()).await.expect("put");
    assert_eq!(
        bucket.get_cors().await.unwrap(),
        Some(config()),
        "read back exactly what was written"
    );

    let mut changed = config();
    changed.rules.pop();
    bucket.put_cors(&changed).await.expect("replace");
    assert_eq!(
        bucket.get_cors().await.unwrap(),
        Some(changed),
        "a put replaces all rules"
    );

    bucket.delete_cors().await.expect("delete");
    assert_eq!(bucket.get_cors().await.unwrap(), None);
}

#[tokio::test]
async fn errors_are_classified() {
    let mut garage = Garage::start(&["photos"]).expect("start Garage");
    let good = S3Client::new(&settings(&garage, owner_keys(&garage))).await;

    let missing = good.bucket("no-such-bucket").get_cors().await.unwrap_err();
    assert_eq!(missing.kind, ErrorKind::BucketNotFound, "{missing}");
    assert!(missing.to_string().contains("no-such-bucket"), "{missing}");

    let secret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let bad_keys = AccessKeys {
        access_key_id: "GK000000000000000000000000".into(),
        secret_access_key: secret.into(),
        session_token: None,
    };
    let bad = S3Client::new(&settings(&garage, bad_keys)).await;
    let denied = bad.bucket("photos").put_cors(&config()).await.unwrap_err();
    assert_eq!(denied.kind, ErrorKind::AccessDenied, "{denied}");
    assert!(denied.to_string().contains("photos"), "{denied}");
    assert!(!denied.to_string().contains(secret) && !format!("{denied:?}").contains(secret));

    // A key that exists but has no rights on the bucket.
    let stranger = garage.create_key("stranger").unwrap();
    let stranger = S3Client::new(&settings(
        &garage,
        AccessKeys {
            access_key_id: stranger.access_key_id,
            secret_access_key: stranger.secret_access_key,
            session_token: None,
        },
    ))
    .await;
    let denied = stranger.bucket("photos").get_cors().await.unwrap_err();
    assert_eq!(denied.kind, ErrorKind::AccessDenied, "{denied}");

    garage.kill();
    let down = good.bucket("photos").get_cors().await.unwrap_err();
    assert_eq!(down.kind, ErrorKind::Transient, "{down}");
    assert!(down.to_string().contains("photos"), "{down}");
    // A new client: connection refused rather than a pooled connection closing.
    let fresh = S3Client::new(&settings(&garage, owner_keys(&garage))).await;
    let refused = fresh
        .bucket("photos")
        .put_cors(&config())
        .await
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Transient, "{refused}");

    garage.restart().expect("restart Garage");
    good.bucket("photos")
        .put_cors(&config())
        .await
        .expect("works again once Garage is back");
    assert_eq!(
        good.bucket("photos").get_cors().await.unwrap(),
        Some(config())
    );
}

#[tokio::test]
async fn debug_output_never_shows_the_secret() {
    let secret = "s3-secret-that-must-not-leak-0123456789";
    let keys = AccessKeys {
        access_key_id: "GKvisible".into(),
        secret_access_key: secret.into(),
        session_token: Some("session-token-secret".into()),
    };
    let client = S3Client::new(&S3Settings {
        endpoint: Some("http://127.0.0.1:9".into()),
        region: Some("garage".into()),
        path_style: true,
        credentials: CredentialSource::Keys(keys.clone()),
        max_attempts: Some(1),
    })
    .await;
    let connector = bucketcors_sync::backend::Connector::new(
        CredentialSource::Keys(keys.clone()),
        CredentialSource::Keys(keys),
    );
    let shown = format!("{client:?} {:?} {connector:?}", client.bucket("b"));
    assert!(
        !shown.contains(secret) && !shown.contains("session-token-secret"),
        "{shown}"
    );
}

/// A request signed for another region than the bucket's: what Garage
/// itself answers decides the class, and the message must name the region
/// the bucket is in (Garage says it, as S3 does, in the error message).
#[tokio::test]
async fn a_wrong_region_names_the_right_one() {
    let garage = Garage::start(&["regional"]).expect("start Garage");
    let mut wrong = settings(&garage, owner_keys(&garage));
    wrong.region = Some("us-east-1".into());
    let client = S3Client::new(&wrong).await;
    let error = client
        .bucket("regional")
        .get_cors()
        .await
        .expect_err("a request signed for us-east-1 is refused by a Garage in its own region");
    assert_eq!(error.kind, ErrorKind::WrongRegion, "{error}");
    assert!(
        error
            .message
            .contains(&format!("set spec.backend.region: {}", garage.region())),
        "the message names the bucket's region: {error}"
    );
}
