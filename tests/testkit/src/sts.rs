//! A local stand-in for AWS STS's `AssumeRoleWithWebIdentity`, the far end
//! of IRSA, that really checks what it is given.
//!
//! There is no IAM here, so the stand-in plays the one role it is told
//! about ([`StsRole`]): the role's ARN, the audience its OIDC provider is
//! registered with, and the subject its trust policy allows
//! (`system:serviceaccount:NS:NAME`). Each request is answered as AWS
//! documents the Query API: form parameters `Action`, `Version`,
//! `RoleArn`, `RoleSessionName`, `WebIdentityToken`; an
//! `AssumeRoleWithWebIdentityResponse` with `Credentials` on success, an
//! `ErrorResponse` otherwise. The token is verified by the control plane's
//! own `TokenReview` (authentication.k8s.io/v1) with the role's audience,
//! as IAM verifies it against the cluster's OIDC issuer: a token for
//! another audience is `InvalidIdentityToken` (400), a role other than the
//! one configured, or a subject its trust does not name, is `AccessDenied`
//! (403). Only then are the configured keys handed out as the "temporary"
//! credentials, with a fresh session token and an expiry an hour ahead.
//!
//! Every request is recorded ([`Exchange`]) without the token itself, so
//! a test can show what STS saw. Plain HTTP on 127.0.0.1, one thread per
//! connection; stops on drop.

use crate::controlplane::tool;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The one role the stand-in knows, and the keys it hands out for it.
#[derive(Clone)]
pub struct StsRole {
    /// `arn:aws:iam::ACCOUNT:role/NAME`.
    pub role_arn: String,
    /// The audience a token must carry (the OIDC provider's client id).
    pub audience: String,
    /// The token subject the role's trust policy allows.
    pub subject: String,
    /// Access key id handed out.
    pub access_key_id: String,
    /// Secret access key handed out.
    pub secret_access_key: String,
}

impl std::fmt::Debug for StsRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StsRole")
            .field("role_arn", &self.role_arn)
            .field("audience", &self.audience)
            .field("subject", &self.subject)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// One request as the stand-in saw it (never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The `Action` parameter.
    pub action: String,
    /// The `RoleArn` asked for.
    pub role_arn: String,
    /// The `RoleSessionName` given.
    pub session_name: String,
    /// The token's subject when the TokenReview authenticated it.
    pub subject: Option<String>,
    /// `Issued`, or the error code answered.
    pub answer: String,
    /// The session token handed out with the credentials.
    pub session_token: Option<String>,
}

/// A running stand-in. Stops on drop.
pub struct StsStandIn {
    addr: SocketAddr,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
    stop: Arc<AtomicBool>,
    kubeconfig: Arc<Mutex<Option<PathBuf>>>,
}

impl StsStandIn {
    /// Listens on a free loopback port. Tokens are reviewed by the control
    /// plane given to [`StsStandIn::review_with`]; until then every token
    /// is refused (the URL is needed before the chart is installed).
    pub fn start(role: StsRole) -> std::io::Result<StsStandIn> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let exchanges = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let kubeconfig = Arc::new(Mutex::new(None));
        let server = Server {
            kubeconfig: kubeconfig.clone(),
            role,
            exchanges: exchanges.clone(),
            serial: Arc::new(AtomicU64::new(0)),
        };
        let stopping = stop.clone();
        std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let server = server.clone();
                        std::thread::spawn(move || server.serve(stream));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Ok(StsStandIn {
            addr,
            exchanges,
            stop,
            kubeconfig,
        })
    }

    /// Reviews tokens through `kubectl` with `admin_kubeconfig` (the
    /// identity that may create TokenReviews).
    pub fn review_with(&self, admin_kubeconfig: &Path) {
        *self.kubeconfig.lock().expect("not poisoned") = Some(admin_kubeconfig.to_path_buf());
    }

    /// The endpoint URL (`AWS_ENDPOINT_URL_STS`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, in order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges.lock().expect("not poisoned").clone()
    }
}

impl Drop for StsStandIn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[derive(Clone)]
struct Server {
    kubeconfig: Arc<Mutex<Option<PathBuf>>>,
    role: StsRole,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
    serial: Arc<AtomicU64>,
}

/// An STS error: HTTP status, code, message.
struct Refusal(u16, &'static str, String);

impl Server {
    fn serve(&self, stream: TcpStream) {
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let Ok(mut writer) = stream.try_clone() else {
            return;
        };
        let Some((method, body)) = read_request(stream) else {
            return;
        };
        let params = form(&body);
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let mut exchange = Exchange {
            action: param("Action"),
            role_arn: param("RoleArn"),
            session_name: param("RoleSessionName"),
            subject: None,
            answer: String::new(),
            session_token: None,
        };
        let answer = self.answer(
            &method,
            &param("Version"),
            &param("WebIdentityToken"),
            &mut exchange,
        );
        let (status, xml) = match answer {
            Ok(xml) => {
                exchange.answer = "Issued".into();
                (200, xml)
            }
            Err(Refusal(status, code, message)) => {
                exchange.answer = code.into();
                (
                    status,
                    error_xml(status, code, &message, &self.request_id()),
                )
            }
        };
        self.exchanges.lock().expect("not poisoned").push(exchange);
        let reason = match status {
            200 => "OK",
            400 => "Bad Request",
            _ => "Forbidden",
        };
        let response = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
            xml.len()
        );
        let _ = writer.write_all(response.as_bytes());
    }

    fn answer(
        &self,
        method: &str,
        version: &str,
        token: &str,
        exchange: &mut Exchange,
    ) -> Result<String, Refusal> {
        if method != "POST" && method != "GET" {
            return Err(Refusal(400, "InvalidAction", format!("method {method}")));
        }
        if exchange.action != "AssumeRoleWithWebIdentity" || version != "2011-06-15" {
            return Err(Refusal(
                400,
                "InvalidAction",
                format!(
                    "this stand-in answers only AssumeRoleWithWebIdentity of 2011-06-15, not {} of {version}",
                    exchange.action
                ),
            ));
        }
        if exchange.session_name.len() < 2 || exchange.session_name.len() > 64 {
            return Err(Refusal(
                400,
                "ValidationError",
                "RoleSessionName must be 2 to 64 characters".into(),
            ));
        }
        // The token first, as IAM checks it against the OIDC provider
        // before it looks at the role's trust.
        let subject = self.review(token).map_err(|why| {
            Refusal(
                400,
                "InvalidIdentityToken",
                format!("Incorrect token: {why}"),
            )
        })?;
        exchange.subject = Some(subject.clone());
        if exchange.role_arn != self.role.role_arn || subject != self.role.subject {
            return Err(Refusal(
                403,
                "AccessDenied",
                "Not authorized to perform sts:AssumeRoleWithWebIdentity".into(),
            ));
        }
        let session_token = format!("stand-in-session-{}", self.request_id());
        exchange.session_token = Some(session_token.clone());
        let role_name = self.role.role_arn.rsplit('/').next().unwrap_or_default();
        let account = self.role.role_arn.split(':').nth(4).unwrap_or_default();
        Ok(format!(
            r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>{subject}</SubjectFromWebIdentityToken>
    <Audience>{audience}</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::{account}:assumed-role/{role_name}/{session}</Arn>
      <AssumedRoleId>AROASTANDIN:{session}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>{session_token}</SessionToken>
      <SecretAccessKey>{secret}</SecretAccessKey>
      <Expiration>{expiration}</Expiration>
      <AccessKeyId>{key_id}</AccessKeyId>
    </Credentials>
    <Provider>{issuer}</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>{request_id}</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"#,
            subject = escape(&subject),
            audience = escape(&self.role.audience),
            session = escape(&exchange.session_name),
            secret = escape(&self.role.secret_access_key),
            key_id = escape(&self.role.access_key_id),
            expiration = iso8601(SystemTime::now() + Duration::from_secs(3600)),
            issuer = crate::controlplane::SERVICE_ACCOUNT_ISSUER,
            request_id = self.request_id(),
        ))
    }

    /// The token's subject when the control plane authenticates it for the
    /// role's audience, else why not.
    fn review(&self, token: &str) -> Result<String, String> {
        if token.is_empty() {
            return Err("no WebIdentityToken".into());
        }
        let review = json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token, "audiences": [self.role.audience]},
        });
        let kubeconfig = self
            .kubeconfig
            .lock()
            .expect("not poisoned")
            .clone()
            .ok_or("no control plane to review tokens with yet")?;
        let kubectl = tool("kubectl").map_err(|e| e.to_string())?;
        let mut child = Command::new(kubectl)
            .env("KUBECONFIG", &kubeconfig)
            .args(["create", "-f", "-", "-o", "json"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("running kubectl: {e}"))?;
        let _ = child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(review.to_string().as_bytes());
        let out = child
            .wait_with_output()
            .map_err(|e| format!("waiting for kubectl: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "TokenReview failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let status: Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("TokenReview printed no JSON: {e}"))?;
        let status = &status["status"];
        if status["authenticated"] != true {
            return Err(format!(
                "not authenticated for audience {}: {}",
                self.role.audience,
                status["error"].as_str().unwrap_or("no reason given")
            ));
        }
        let audiences = status["audiences"].as_array().cloned().unwrap_or_default();
        if !audiences.iter().any(|a| a == self.role.audience.as_str()) {
            return Err(format!("audience is not {}", self.role.audience));
        }
        status["user"]["username"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "TokenReview named no user".into())
    }

    fn request_id(&self) -> String {
        let n = self.serial.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        format!("{nanos:x}-{n}")
    }
}

/// The method and body of one HTTP/1.1 request (Content-Length bodies).
fn read_request(stream: TcpStream) -> Option<(String, Vec<u8>)> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let method = line.split_whitespace().next()?.to_string();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    // STS bodies are small; refuse anything absurd rather than allocate it.
    if length > 64 * 1024 {
        return None;
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, body))
}

/// `application/x-www-form-urlencoded` pairs.
fn form(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `YYYY-MM-DDTHH:MM:SSZ`, through `date` (no date library here).
fn iso8601(at: SystemTime) -> String {
    let seconds = at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let out = Command::new("date")
        .args(["-u", "-d", &format!("@{seconds}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .expect("date runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn error_xml(status: u16, code: &str, message: &str, request_id: &str) -> String {
    let kind = if status >= 500 { "Receiver" } else { "Sender" };
    format!(
        r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>{kind}</Type>
    <Code>{code}</Code>
    <Message>{message}</Message>
  </Error>
  <RequestId>{request_id}</RequestId>
</ErrorResponse>"#,
        message = escape(message)
    )
}

#[cfg(test)]
mod tests {
    use super::{decode, form};

    #[test]
    fn form_values_are_decoded() {
        let pairs = form(
            b"Action=AssumeRoleWithWebIdentity&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&X=a+b%",
        );
        assert_eq!(pairs[1].1, "arn:aws:iam::1:role/r");
        assert_eq!(pairs[2].1, "a b%");
        assert_eq!(decode("%zz"), "%zz");
    }
}
