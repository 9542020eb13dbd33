//! A pod of a Deployment, played by a local process.
//!
//! The test control plane has no kubelet, so no pod ever runs. What a pod
//! would run can still be run exactly: [`LocalPod::of_deployment`] reads the
//! Deployment back from the API server and resolves its first container as
//! the kubelet would: the arguments with `$(VAR)` expanded, the environment
//! with `fieldRef`s (`metadata.name`, `metadata.namespace`) and
//! `secretKeyRef`s resolved, and the credentials of the pod's
//! ServiceAccount: a token from the TokenRequest API in a kubeconfig of its
//! own. The process then has exactly the rights the chart's RBAC grants.
//!
//! A projected `serviceAccountToken` volume (what IRSA's web identity
//! reads) is played too: a TokenRequest token with the source's
//! `audience` and `expirationSeconds`, written to a file under a local
//! directory that stands for the container's `mountPath`; an environment
//! value pointing under that mount path is rewritten to point there. The
//! token is written once (a kubelet refreshes it at 80% of its lifetime:
//! a test runs for far less than the 600 s minimum).
//!
//! The tests use it through `support::cluster::Operator`; the `local-pod`
//! binary of this crate does the same for `scripts/demo.sh` and
//! `scripts/bench.sh`. All API access goes through `kubectl` with the
//! admin's kubeconfig.

use crate::controlplane::{ControlPlaneError, current_cluster, tool, write_token_kubeconfig};
use base64::prelude::{BASE64_STANDARD, Engine as _};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn err(message: impl Into<String>) -> ControlPlaneError {
    ControlPlaneError::new(message)
}

/// The resolved container of one pod.
#[derive(Clone)]
pub struct LocalPod {
    /// The pod name played (the value of `fieldRef: metadata.name`).
    pub name: String,
    /// The container's arguments, expanded.
    pub args: Vec<String>,
    /// The container's environment, resolved (may hold secret values:
    /// never print it).
    pub env: Vec<(String, String)>,
    /// A kubeconfig holding a token of the pod's ServiceAccount.
    pub kubeconfig: PathBuf,
    /// The container's projected-token mounts: (`mountPath`, the local
    /// directory standing for it).
    pub mounts: Vec<(String, PathBuf)>,
}

impl std::fmt::Debug for LocalPod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalPod")
            .field("name", &self.name)
            .field("args", &self.args)
            .field("env", &self.env.iter().map(|(k, _)| k).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl LocalPod {
    /// Pod `pod_name` of Deployment `namespace/deployment`, seen through the
    /// admin kubeconfig; the pod's own kubeconfig is written into `dir`.
    pub fn of_deployment(
        admin_kubeconfig: &Path,
        namespace: &str,
        deployment: &str,
        pod_name: &str,
        dir: &Path,
    ) -> Result<LocalPod, ControlPlaneError> {
        let kubectl = |args: &[&str]| -> Result<String, ControlPlaneError> {
            let out = Command::new(tool("kubectl")?)
                .env("KUBECONFIG", admin_kubeconfig)
                .args(args)
                .output()
                .map_err(|e| err(format!("running kubectl: {e}")))?;
            if !out.status.success() {
                return Err(err(format!(
                    "kubectl {}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        };
        let json = |text: String| -> Result<Value, ControlPlaneError> {
            serde_json::from_str(&text).map_err(|e| err(format!("kubectl printed no JSON: {e}")))
        };
        let object = json(kubectl(&[
            "get",
            "deployment",
            deployment,
            "-n",
            namespace,
            "-o",
            "json",
        ])?)?;
        let pod = &object["spec"]["template"]["spec"];
        let container = &pod["containers"][0];
        let account = pod["serviceAccountName"].as_str().unwrap_or("default");

        let mut env: Vec<(String, String)> = Vec::new();
        for var in container["env"].as_array().into_iter().flatten() {
            let name = var["name"].as_str().unwrap_or_default().to_string();
            let value = if let Some(v) = var["value"].as_str() {
                expand(v, &env)
            } else if let Some(path) = var.pointer("/valueFrom/fieldRef/fieldPath") {
                match path.as_str() {
                    Some("metadata.name") => pod_name.to_string(),
                    Some("metadata.namespace") => namespace.to_string(),
                    other => {
                        return Err(err(format!(
                            "env {name}: fieldRef {other:?} is not played here"
                        )));
                    }
                }
            } else if let Some(reference) = var.pointer("/valueFrom/secretKeyRef") {
                let secret_name = reference["name"].as_str().unwrap_or_default();
                let key = reference["key"].as_str().unwrap_or_default();
                let secret = json(kubectl(&[
                    "get",
                    "secret",
                    secret_name,
                    "-n",
                    namespace,
                    "-o",
                    "json",
                ])?)?;
                let encoded = secret["data"][key].as_str().ok_or_else(|| {
                    err(format!(
                        "env {name}: Secret {namespace}/{secret_name} has no key `{key}`"
                    ))
                })?;
                let bytes = BASE64_STANDARD
                    .decode(encoded)
                    .map_err(|e| err(format!("env {name}: Secret data is not base64: {e}")))?;
                String::from_utf8(bytes)
                    .map_err(|_| err(format!("env {name}: the Secret value is not text")))?
            } else {
                return Err(err(format!("env {name}: unsupported value source")));
            };
            env.push((name, value));
        }
        let mounts = project_tokens(&kubectl, pod, container, account, namespace, pod_name, dir)?;
        for (_, value) in &mut env {
            if let Some(local) = local_path(value, &mounts) {
                *value = local;
            }
        }
        let args = container["args"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|a| expand(a, &env))
            .collect();

        let duration = format!("--duration={}s", TOKEN_LIFETIME.as_secs());
        let token = kubectl(&["create", "token", account, "-n", namespace, &duration])?;
        let cluster = current_cluster(admin_kubeconfig)?;
        let kubeconfig = dir.join(format!("{pod_name}.kubeconfig"));
        write_token_kubeconfig(
            &kubeconfig,
            &cluster,
            account,
            token.trim(),
            Some(namespace),
        )?;
        Ok(LocalPod {
            name: pod_name.to_string(),
            args,
            env,
            kubeconfig,
            mounts,
        })
    }

    /// Replaces every argument that starts with `prefix` by `prefix` + `value`
    /// (for example the listen address, moved to a free loopback port).
    pub fn set_arg(&mut self, prefix: &str, value: &str) {
        for arg in &mut self.args {
            if arg.starts_with(prefix) {
                *arg = format!("{prefix}{value}");
            }
        }
    }

    /// `program ARGS` with only the pod's environment (plus `PATH`, `HOME`
    /// and `KUBECONFIG` pointing at the pod's ServiceAccount).
    pub fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .args(&self.args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            .env("KUBECONFIG", &self.kubeconfig)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        command
    }
}

/// Plays the pod's projected `serviceAccountToken` volumes that `container`
/// mounts: each source's token requested with its audience and lifetime
/// and written under `dir/<pod>-<volume>/`; returns (`mountPath`, that
/// directory) per mount. Other volumes (`emptyDir`) need no playing; a
/// projected volume with another kind of source is refused, not faked.
fn project_tokens(
    kubectl: &dyn Fn(&[&str]) -> Result<String, ControlPlaneError>,
    pod: &Value,
    container: &Value,
    account: &str,
    namespace: &str,
    pod_name: &str,
    dir: &Path,
) -> Result<Vec<(String, PathBuf)>, ControlPlaneError> {
    let mut mounts = Vec::new();
    for mount in container["volumeMounts"].as_array().into_iter().flatten() {
        let volume_name = mount["name"].as_str().unwrap_or_default();
        let mount_path = mount["mountPath"].as_str().unwrap_or_default();
        let Some(volume) = pod["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["name"] == volume_name)
        else {
            return Err(err(format!(
                "volumeMount {volume_name}: the pod has no such volume"
            )));
        };
        let Some(sources) = volume
            .pointer("/projected/sources")
            .and_then(Value::as_array)
        else {
            continue;
        };
        let local = dir.join(format!("{pod_name}-{volume_name}"));
        std::fs::create_dir_all(&local)
            .map_err(|e| err(format!("creating {}: {e}", local.display())))?;
        for source in sources {
            let Some(token) = source.get("serviceAccountToken") else {
                return Err(err(format!(
                    "volume {volume_name}: only serviceAccountToken sources are played here"
                )));
            };
            let path = token["path"].as_str().unwrap_or_default();
            if path.is_empty() || path.starts_with('/') || path.contains("..") {
                return Err(err(format!(
                    "volume {volume_name}: serviceAccountToken.path `{path}` must be relative"
                )));
            }
            // The API server's default when the source names none.
            let seconds = token["expirationSeconds"].as_u64().unwrap_or(3600);
            let duration = format!("--duration={seconds}s");
            let mut args = vec!["create", "token", account, "-n", namespace, &duration];
            let audience;
            if let Some(a) = token["audience"].as_str() {
                audience = format!("--audience={a}");
                args.push(&audience);
            }
            let value = kubectl(&args)?;
            let file = local.join(path);
            write_private(&file, value.trim())?;
        }
        mounts.push((mount_path.trim_end_matches('/').to_string(), local));
    }
    Ok(mounts)
}

/// `value` rewritten to the local directory of the mount it points under.
fn local_path(value: &str, mounts: &[(String, PathBuf)]) -> Option<String> {
    mounts.iter().find_map(|(mount_path, local)| {
        let rest = value.strip_prefix(mount_path.as_str())?;
        let rest = if rest.is_empty() {
            ""
        } else {
            rest.strip_prefix('/')?
        };
        Some(local.join(rest).display().to_string())
    })
}

/// Writes a token readable by its owner only, as the kubelet does.
fn write_private(file: &Path, text: &str) -> Result<(), ControlPlaneError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| err(format!("creating {}: {e}", parent.display())))?;
    }
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(file)
        .map_err(|e| err(format!("writing {}: {e}", file.display())))?;
    out.write_all(text.as_bytes())
        .map_err(|e| err(format!("writing {}: {e}", file.display())))
}

/// Kubernetes' `$(VAR)` expansion, with the variables defined so far.
fn expand(text: &str, env: &[(String, String)]) -> String {
    let mut out = text.to_string();
    for (name, value) in env {
        out = out.replace(&format!("$({name})"), value);
    }
    out
}

/// How long a token minted for a local pod stays valid.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

#[cfg(test)]
mod tests {
    use super::{expand, local_path};
    use std::path::PathBuf;

    #[test]
    fn only_values_under_a_mount_are_rewritten() {
        let mounts = vec![(
            "/var/run/secrets/eks.amazonaws.com/serviceaccount".to_string(),
            PathBuf::from("/tmp/pod-aws-iam-token"),
        )];
        assert_eq!(
            local_path(
                "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
                &mounts
            )
            .as_deref(),
            Some("/tmp/pod-aws-iam-token/token")
        );
        assert_eq!(
            local_path(
                "/var/run/secrets/eks.amazonaws.com/serviceaccountX",
                &mounts
            ),
            None
        );
        assert_eq!(local_path("arn:aws:iam::1:role/r", &mounts), None);
    }

    #[test]
    fn expansion_uses_defined_variables_only() {
        let env = vec![("POD_NAMESPACE".to_string(), "ops".to_string())];
        assert_eq!(
            expand("--lease-namespace=$(POD_NAMESPACE)", &env),
            "--lease-namespace=ops"
        );
        assert_eq!(expand("$(UNDEFINED)", &env), "$(UNDEFINED)");
    }
}
