//! Where a backend's credentials come from.
//!
//! Credentials never live in a BucketCors manifest. The controller reads
//! them from a Secret, the CLI from the environment or `--credentials FILE`;
//! both hand the backend a [`CredentialSource`]. The secret parts are
//! redacted from every `Debug` output so that they cannot leak into logs,
//! events or error messages by accident.

use serde::Deserialize;
use std::fmt;

/// An access key pair with an optional session (security) token.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessKeys {
    /// Access key id (not secret; shown in messages).
    pub access_key_id: String,
    /// Secret access key.
    #[serde(alias = "accessKeySecret")]
    pub secret_access_key: String,
    /// Session token (S3) or security token (OSS STS).
    #[serde(default, alias = "securityToken")]
    pub session_token: Option<String>,
}

impl fmt::Debug for AccessKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKeys")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// How a backend finds its credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CredentialSource {
    /// The provider's standard chain: for S3 the AWS chain (environment,
    /// profile, web identity / IRSA, instance metadata); for OSS the
    /// `ALIBABA_CLOUD_*` environment, then RRSA.
    #[default]
    Ambient,
    /// These keys and nothing else.
    Keys(AccessKeys),
}

/// A `--credentials FILE`: YAML or JSON with one block per provider, so one
/// file serves manifests for both.
///
/// ```yaml
/// s3:  { accessKeyId: GK..., secretAccessKey: ... }
/// oss: { accessKeyId: LTAI..., accessKeySecret: ..., securityToken: ... }
/// ```
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsFile {
    /// Keys for S3-compatible backends.
    #[serde(default)]
    pub s3: Option<AccessKeys>,
    /// Keys for OSS backends.
    #[serde(default)]
    pub oss: Option<AccessKeys>,
}

impl CredentialsFile {
    /// Reads and parses `path`. Errors name the file and the problem, never
    /// the file's content.
    pub fn load(path: &std::path::Path) -> Result<CredentialsFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        serde_norway::from_str(&text).map_err(|e| {
            // serde_norway quotes offending values in some messages; keep only
            // the location so a secret cannot be echoed.
            let at = e.location().map(|l| format!(" at line {} column {}", l.line(), l.column())).unwrap_or_default();
            format!(
                "{}: not a credentials file{at} (expected `s3:` and/or `oss:` blocks with accessKeyId and secretAccessKey)",
                path.display()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let keys = AccessKeys {
            access_key_id: "AKID".into(),
            secret_access_key: "very-secret".into(),
            session_token: Some("token-secret".into()),
        };
        let shown = format!("{:?} {:?}", keys, CredentialSource::Keys(keys.clone()));
        assert!(shown.contains("AKID"));
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(!shown.contains("token-secret"), "{shown}");
    }

    #[test]
    fn file_errors_do_not_echo_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("creds.yaml");
        std::fs::write(
            &path,
            "s3: { accessKeyId: A, secretAccessKey: topsecret, bogus: topsecret2 }",
        )
        .unwrap();
        let message = CredentialsFile::load(&path).unwrap_err();
        assert!(!message.contains("topsecret"), "{message}");
        assert!(message.contains("creds.yaml"));
    }
}
