//! Bounded answers: a backend or STS endpoint that answers with an endless
//! body, or declares a huge one, gets a clear error once the operator has
//! read 1 MiB ([`MAX_BODY_BYTES`]), never an exhausted memory. The far end
//! is a local HTTP server that streams chunks for as long as the client
//! reads and counts what it managed to send.

use bucketcors_sync::backend::body::MAX_BODY_BYTES;
use bucketcors_sync::backend::oss::credentials::{ProvideCredentials, RrsaProvider, RrsaSettings};
use bucketcors_sync::backend::oss::{OssClient, OssSettings};
use bucketcors_sync::backend::s3::{S3Client, S3Settings};
use bucketcors_sync::backend::{AccessKeys, Backend, CredentialSource};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How the server answers.
#[derive(Clone, Copy)]
enum Answer {
    /// `Transfer-Encoding: chunked`, chunks for ever.
    Endless,
    /// `Content-Length` of 1 GiB, then the same bytes for ever.
    Declared,
}

/// Starts the server; returns its address and the bytes of body it sent.
async fn hostile(answer: Answer) -> (SocketAddr, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let sent = counter.clone();
            tokio::spawn(async move {
                // The request head (and any small body) in one read is enough.
                let mut request = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut request).await;
                let head = match answer {
                    Answer::Endless => "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nTransfer-Encoding: chunked\r\n\r\n".to_string(),
                    Answer::Declared => format!("HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n", 1u64 << 30),
                };
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let payload = vec![b'<'; 64 * 1024];
                loop {
                    let written = match answer {
                        Answer::Endless => {
                            let mut chunk = format!("{:x}\r\n", payload.len()).into_bytes();
                            chunk.extend_from_slice(&payload);
                            chunk.extend_from_slice(b"\r\n");
                            socket.write_all(&chunk).await
                        }
                        Answer::Declared => socket.write_all(&payload).await,
                    };
                    if written.is_err() {
                        return; // the client hung up
                    }
                    sent.fetch_add(payload.len() as u64, Ordering::Relaxed);
                }
            });
        }
    });
    (addr, sent)
}

fn keys() -> CredentialSource {
    CredentialSource::Keys(AccessKeys {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "never-shown-secret".into(),
        session_token: None,
    })
}

/// The error says the body was cut off at the bound, shows no `secret`, and
/// the client stopped reading near the bound.
fn assert_cut_off(text: &str, secret: &str, sent: &AtomicU64, what: &str) {
    assert!(
        text.contains(&format!("larger than {MAX_BODY_BYTES} bytes")),
        "{what}: {text}"
    );
    assert!(!text.contains(secret), "{what}: {text}");
    assert_stopped_near_the_bound(sent, what);
}

/// The client stopped near the bound: what the server got out is the bound
/// plus what the kernel's socket buffers hold, far below the endless body.
fn assert_stopped_near_the_bound(sent: &AtomicU64, what: &str) {
    // Give the server a moment to notice the hang-up.
    std::thread::sleep(Duration::from_millis(200));
    let first = sent.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(300));
    let later = sent.load(Ordering::Relaxed);
    assert_eq!(first, later, "{what}: the client stopped reading");
    assert!(
        later < 64 * MAX_BODY_BYTES as u64,
        "{what}: the server sent {later} bytes before the client hung up"
    );
}

#[tokio::test]
async fn an_s3_endpoint_answering_without_end_is_cut_off_at_the_bound() {
    for answer in [Answer::Endless, Answer::Declared] {
        let (addr, sent) = hostile(answer).await;
        let client = S3Client::new(&S3Settings {
            endpoint: Some(format!("http://{addr}")),
            region: Some("us-east-1".into()),
            path_style: true,
            credentials: keys(),
            max_attempts: Some(1),
        })
        .await;
        let error = client.bucket("b").get_cors().await.unwrap_err();
        assert_cut_off(&error.to_string(), "never-shown-secret", &sent, "S3");
    }
}

#[tokio::test]
async fn an_oss_endpoint_answering_without_end_is_cut_off_at_the_bound() {
    for answer in [Answer::Endless, Answer::Declared] {
        let (addr, sent) = hostile(answer).await;
        let client = OssClient::new(&OssSettings {
            endpoint: Some(format!("http://{addr}")),
            region: Some("cn-hangzhou".into()),
            path_style: true,
            credentials: keys(),
            resolve_to: None,
            max_attempts: Some(1),
        })
        .unwrap();
        let error = client.bucket("b").get_cors().await.unwrap_err();
        assert_cut_off(&error.to_string(), "never-shown-secret", &sent, "OSS");
    }
}

#[tokio::test]
async fn an_sts_answering_without_end_is_cut_off_at_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "eyJhbGciOiJSUzI1NiJ9.oidc-token-value.sig\n").unwrap();
    for answer in [Answer::Endless, Answer::Declared] {
        let (addr, sent) = hostile(answer).await;
        let provider = RrsaProvider::new(
            RrsaSettings {
                role_arn: "acs:ram::1:role/r".into(),
                oidc_provider_arn: "acs:ram::1:oidc-provider/p".into(),
                oidc_token_file: token_file.clone(),
                role_session_name: "bucketcors-test".into(),
                sts_endpoint: format!("http://{addr}"),
                duration: Duration::from_secs(900),
            },
            bucketcors_sync::backend::oss::client::http_client(None),
        );
        let error = provider.credentials().await.unwrap_err();
        assert_cut_off(&error.to_string(), "oidc-token-value", &sent, "STS");
    }
}
