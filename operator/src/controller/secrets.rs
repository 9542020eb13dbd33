//! Credentials from the referenced Secret, and one backend connector per
//! credential set.
//!
//! The Secret is read with a plain `get` when a reconciliation needs it; the
//! controller watches Secrets only as metadata ([`crate::controller`]), so
//! secret values are never cached in the operator's memory beyond the
//! connector built from them. Connectors are cached per Secret and rebuilt
//! when the Secret's content changes (a rotation), which is also what makes a
//! rotated key take effect on the next reconciliation.
//!
//! Errors name the Secret and the missing key, never a value.

use super::error::Error;
use crate::crd::{BucketCors, CredentialsSecretRef};
use bucketcors_sync::backend::{AccessKeys, Connector, CredentialSource};
use bucketcors_sync::edge::token::{ApiToken, TokenError};
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, ResourceExt};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A Secret's namespace and name.
type SecretKey = (String, String);
/// The fingerprint of the keys a connector was built from, and the connector.
type Cached = ([u8; 32], Arc<Connector>);

/// Reads Secrets and hands out connectors.
pub struct Credentials {
    client: Client,
    /// Used for objects without a Secret reference (ambient credentials:
    /// environment, IRSA, RRSA).
    ambient: Arc<Connector>,
    /// (namespace, name) → (fingerprint of the keys, connector).
    by_secret: Mutex<HashMap<SecretKey, Cached>>,
    /// Applied to every connector built here.
    configure: Box<dyn Fn(Connector) -> Connector + Send + Sync>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").finish_non_exhaustive()
    }
}

impl Credentials {
    /// `ambient` serves objects without `credentialsSecretRef`.
    pub fn new(client: Client, ambient: Connector) -> Self {
        Credentials {
            client,
            ambient: Arc::new(ambient),
            by_secret: Mutex::new(HashMap::new()),
            configure: Box::new(|c| c),
        }
    }

    /// Adjusts every connector built from a Secret (retry attempts, test
    /// resolvers).
    pub fn with_configure(
        mut self,
        configure: impl Fn(Connector) -> Connector + Send + Sync + 'static,
    ) -> Self {
        self.configure = Box::new(configure);
        self
    }

    /// The connector for `obj`: from its Secret when it names one.
    pub async fn connector_for(&self, obj: &BucketCors) -> Result<Arc<Connector>, Error> {
        let Some(reference) = obj.spec.backend.credentials_secret_ref.as_ref() else {
            return Ok(self.ambient.clone());
        };
        let namespace = obj.namespace().unwrap_or_default();
        let keys = self.read_keys(&namespace, reference).await?;
        let fingerprint = fingerprint(&keys);
        let key = (namespace, reference.name.clone());
        let mut cache = self.by_secret.lock().expect("credentials lock poisoned");
        if let Some((known, connector)) = cache.get(&key)
            && *known == fingerprint
        {
            return Ok(connector.clone());
        }
        let source = CredentialSource::Keys(keys);
        // The Secret's keys serve whichever provider the object names.
        let connector = Arc::new((self.configure)(Connector::new(source.clone(), source)));
        cache.insert(key, (fingerprint, connector.clone()));
        Ok(connector)
    }

    /// Forgets the connector of a Secret (it was deleted).
    pub fn forget(&self, namespace: &str, name: &str) {
        self.by_secret
            .lock()
            .expect("credentials lock poisoned")
            .remove(&(namespace.to_string(), name.to_string()));
    }

    async fn read_keys(
        &self,
        namespace: &str,
        reference: &CredentialsSecretRef,
    ) -> Result<AccessKeys, Error> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let secret = api
            .get_opt(&reference.name)
            .await?
            .ok_or_else(|| Error::SecretNotFound {
                namespace: namespace.to_string(),
                name: reference.name.clone(),
            })?;
        let value = |key: &str, required: bool| -> Result<Option<String>, Error> {
            let invalid = |problem: String| Error::SecretInvalid {
                namespace: namespace.to_string(),
                name: reference.name.clone(),
                problem,
            };
            match secret_value(&secret, key).map(<[u8]>::to_vec) {
                None if required => Err(invalid(format!(
                    "has no key `{key}`: add it, or name the right key in spec.backend.credentialsSecretRef"
                ))),
                None => Ok(None),
                Some(b) => {
                    let text = String::from_utf8(b)
                        .map_err(|_| invalid(format!("the value of `{key}` is not UTF-8 text")))?;
                    let text = text.trim().to_string();
                    if text.is_empty() && required {
                        return Err(invalid(format!("the value of `{key}` is empty")));
                    }
                    Ok(Some(text).filter(|t| !t.is_empty()))
                }
            }
        };
        Ok(AccessKeys {
            access_key_id: value(reference.access_key_id_key(), true)?.unwrap_or_default(),
            secret_access_key: value(reference.secret_access_key_key(), true)?.unwrap_or_default(),
            session_token: value(reference.session_token_key(), false)?,
        })
    }
}

/// The bytes under `key` of `secret`: `data`, or `stringData` for Secrets
/// built in memory.
fn secret_value<'a>(secret: &'a Secret, key: &str) -> Option<&'a [u8]> {
    secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| b.0.as_slice())
        .or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get(key))
                .map(String::as_bytes)
        })
}

/// The Cloudflare API token under `key` of `secret`. Errors name the Secret
/// and the key, never the value.
pub fn edge_token(secret: &Secret, key: &str) -> Result<ApiToken, TokenError> {
    let name = secret.metadata.name.as_deref().unwrap_or_default();
    ApiToken::from_secret_value(name, key, secret_value(secret, key))
}

fn fingerprint(keys: &AccessKeys) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(keys.access_key_id.as_bytes());
    h.update([0]);
    h.update(keys.secret_access_key.as_bytes());
    h.update([0]);
    h.update(keys.session_token.as_deref().unwrap_or("").as_bytes());
    h.finalize().into()
}

/// The BucketCors objects that reference the Secret `namespace/name`: what
/// a change of that Secret must reconcile.
pub fn referencing(
    store: &Store<BucketCors>,
    namespace: Option<&str>,
    name: &str,
) -> Vec<ObjectRef<BucketCors>> {
    store
        .state()
        .iter()
        .filter(|obj| {
            obj.namespace().as_deref() == namespace && obj.spec.secret_name() == Some(name)
        })
        .map(|obj| ObjectRef::from(obj.as_ref()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;
    use std::collections::BTreeMap;

    #[test]
    fn edge_token_reads_data_then_string_data_and_names_the_missing_key() {
        let mut secret = Secret::default();
        secret.metadata.name = Some("cf".into());
        secret.data = Some(BTreeMap::from([(
            "apiToken".to_owned(),
            ByteString(b"abc".to_vec()),
        )]));
        secret.string_data = Some(BTreeMap::from([("other".to_owned(), "def".to_owned())]));
        let token = |value: &str| ApiToken::new(value, "test").unwrap();
        assert_eq!(edge_token(&secret, "apiToken").unwrap(), token("abc"));
        assert_eq!(edge_token(&secret, "other").unwrap(), token("def"));
        let err = edge_token(&secret, "token").unwrap_err();
        assert_eq!(
            err,
            TokenError::MissingKey {
                secret: "cf".into(),
                key: "token".into()
            }
        );
    }
}
