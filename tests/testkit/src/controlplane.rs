//! A real Kubernetes control plane for tests: etcd and kube-apiserver.
//!
//! [`ControlPlane::start`] runs both on free loopback ports in a fresh
//! directory, as a small cluster without nodes:
//!
//! - etcd with its data in the directory (`--unsafe-no-fsync`: a test's
//!   cluster never needs to survive a power cut, and fsync dominates its
//!   start and write latency on a VM disk);
//! - kube-apiserver serving TLS with a certificate for `127.0.0.1` signed by
//!   a CA made for this start (written into the kubeconfig, so clients verify
//!   the server as in a real cluster), a service-account signing key and
//!   issuer (so the TokenRequest API issues tokens that the server accepts),
//!   RBAC authorization, and one static admin token in `system:masters`;
//! - a kubeconfig for the admin, [`ControlPlane::kubeconfig`].
//!
//! It waits for `/readyz`. There is no kubelet and no controller manager:
//! pods never run, namespaces deleted stay `Terminating`, and nothing is
//! garbage-collected. The operator under test therefore runs as a local
//! process with a kubeconfig ([`ControlPlane::kubeconfig_for_token`] with a
//! token of the chart's ServiceAccount, so RBAC is what a cluster enforces).
//!
//! Dropping the value stops both processes. When the thread is panicking (a
//! failed test) the directory and its logs are kept and their path printed;
//! otherwise the directory is removed.
//!
//! The binaries come from `scripts/install/controlplane.sh`, which builds
//! them from the published Go modules. A missing binary is an error naming
//! that installer: tests fail, they never skip.
//!
//! **A cluster of your own.** [`ControlPlane::for_tests`] is what tests call:
//! with `BUCKETCORS_TEST_KUBECONFIG=<path>` set it connects to that cluster
//! ([`ControlPlane::connect`]) instead of starting one, and drives it with
//! that kubeconfig's identity (which must be cluster-admin: the tests
//! install the chart's CRD and ClusterRoles). It is a separate variable, not
//! `KUBECONFIG`, so that a developer's everyday cluster is never used by
//! accident. Use a throwaway cluster (kind, k3d, minikube) and one test
//! thread (`RUST_TEST_THREADS=1`): the tests share its cluster-scoped
//! objects.

use crate::scratch;
use base64::prelude::{BASE64_STANDARD, Engine as _};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long kube-apiserver may take to answer `/readyz` with `ok`.
const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// The issuer of the service-account tokens this control plane signs.
pub const SERVICE_ACCOUNT_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

/// Why the control plane could not be started or driven.
#[derive(Debug)]
pub struct ControlPlaneError(String);

impl fmt::Display for ControlPlaneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ControlPlaneError {}

impl ControlPlaneError {
    /// An error saying `message`.
    pub fn new(message: impl Into<String>) -> Self {
        ControlPlaneError(message.into())
    }
}

fn err(message: impl Into<String>) -> ControlPlaneError {
    ControlPlaneError(message.into())
}

/// A running etcd plus kube-apiserver (stopped on drop), or a cluster the
/// developer named with `BUCKETCORS_TEST_KUBECONFIG` (left running).
pub struct ControlPlane {
    dir: PathBuf,
    server: String,
    /// The server's CA, base64 PEM as kubeconfigs hold it; `None` when the
    /// developer's kubeconfig skips verification.
    ca_data: Option<String>,
    kubeconfig: PathBuf,
    etcd: Option<Child>,
    apiserver: Option<Child>,
    started_in: Duration,
}

impl fmt::Debug for ControlPlane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlPlane")
            .field("server", &self.server())
            .field("dir", &self.dir)
            .field("external", &self.is_external())
            .finish_non_exhaustive()
    }
}

/// Where an installed tool is: `$<NAME>_BIN`, the tool cache's `bin/`, then `PATH`.
pub fn tool(name: &str) -> Result<PathBuf, ControlPlaneError> {
    let env = format!("{}_BIN", name.to_uppercase().replace('-', "_"));
    let mut candidates = Vec::new();
    if let Some(bin) = std::env::var_os(&env) {
        candidates.push(PathBuf::from(bin));
    }
    candidates.push(crate::tools::cache_dir().join("bin").join(name));
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|dir| dir.join(name)));
    }
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        let installer = match name {
            "kubectl" | "helm" => "scripts/install/helm.sh",
            _ => "scripts/install/controlplane.sh",
        };
        err(format!(
            "{name} is not installed (looked at ${env}, the tool cache's bin/ and PATH): run {installer}"
        ))
    })
}

/// The variable naming a developer's own cluster for the tests.
pub const TEST_KUBECONFIG_ENV: &str = "BUCKETCORS_TEST_KUBECONFIG";

impl ControlPlane {
    /// The control plane a test runs against: the cluster named by
    /// `BUCKETCORS_TEST_KUBECONFIG` when it is set, otherwise a fresh one
    /// started here.
    pub fn for_tests() -> Result<ControlPlane, ControlPlaneError> {
        match std::env::var_os(TEST_KUBECONFIG_ENV) {
            Some(path) if !path.is_empty() => Self::connect(Path::new(&path)),
            _ => Self::start(),
        }
    }

    /// Uses the running cluster that `kubeconfig` points at (its current
    /// context). Nothing is started; dropping the value leaves the cluster
    /// running and removes only this value's scratch directory (Helm state,
    /// ServiceAccount kubeconfigs written for the test).
    pub fn connect(kubeconfig: &Path) -> Result<ControlPlane, ControlPlaneError> {
        let begun = Instant::now();
        tool("kubectl")?;
        if !kubeconfig.is_file() {
            return Err(err(format!(
                "{TEST_KUBECONFIG_ENV}={} is not a file",
                kubeconfig.display()
            )));
        }
        let cluster = current_cluster(kubeconfig)?;
        let server = cluster["server"]
            .as_str()
            .ok_or_else(|| {
                err(format!(
                    "{}: the cluster has no server",
                    kubeconfig.display()
                ))
            })?
            .to_string();
        let ca_data = cluster["certificate-authority-data"]
            .as_str()
            .map(str::to_string);
        let dir = scratch::fresh_dir("cluster")
            .map_err(|e| err(format!("creating a temporary directory: {e}")))?;
        let mut plane = ControlPlane {
            dir,
            server,
            ca_data,
            kubeconfig: kubeconfig.to_path_buf(),
            etcd: None,
            apiserver: None,
            started_in: Duration::ZERO,
        };
        plane.wait_ready()?;
        plane.started_in = begun.elapsed();
        Ok(plane)
    }

    /// Whether this is a developer's cluster ([`ControlPlane::connect`])
    /// rather than one started here.
    pub fn is_external(&self) -> bool {
        self.apiserver.is_none()
    }

    /// Starts etcd and kube-apiserver and waits until the API server is ready.
    pub fn start() -> Result<ControlPlane, ControlPlaneError> {
        let begun = Instant::now();
        let etcd_bin = tool("etcd")?;
        let apiserver_bin = tool("kube-apiserver")?;
        tool("kubectl")?;
        let dir = scratch::fresh_dir("controlplane")
            .map_err(|e| err(format!("creating a temporary directory: {e}")))?;
        let [client_port, peer_port, port] =
            scratch::free_ports().map_err(|e| err(format!("finding free ports: {e}")))?;
        let admin_token =
            scratch::random_hex(24).map_err(|e| err(format!("reading /dev/urandom: {e}")))?;
        make_pki(&dir)?;
        std::fs::write(
            dir.join("tokens.csv"),
            format!("{admin_token},bucketcors-test-admin,bucketcors-test-admin,system:masters\n"),
        )
        .map_err(|e| err(format!("writing the token file: {e}")))?;

        let ca = std::fs::read(dir.join("pki/ca.crt"))
            .map_err(|e| err(format!("reading the CA certificate: {e}")))?;
        let mut plane = ControlPlane {
            kubeconfig: dir.join("admin.kubeconfig"),
            dir,
            server: format!("https://127.0.0.1:{port}"),
            ca_data: Some(BASE64_STANDARD.encode(ca)),
            etcd: None,
            apiserver: None,
            started_in: Duration::ZERO,
        };
        plane.write_kubeconfig(&plane.kubeconfig, &admin_token)?;

        let etcd_url = format!("http://127.0.0.1:{client_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        plane.etcd = Some(spawn_logged(
            Command::new(&etcd_bin)
                .arg("--name=test")
                .arg(format!("--data-dir={}", plane.dir.join("etcd").display()))
                .arg(format!("--listen-client-urls={etcd_url}"))
                .arg(format!("--advertise-client-urls={etcd_url}"))
                .arg(format!("--listen-peer-urls={peer_url}"))
                .arg(format!("--initial-advertise-peer-urls={peer_url}"))
                .arg(format!("--initial-cluster=test={peer_url}"))
                .arg("--unsafe-no-fsync")
                .arg("--log-level=warn"),
            &plane.dir.join("etcd.log"),
        )?);

        let pki = plane.dir.join("pki");
        plane.apiserver = Some(spawn_logged(
            Command::new(&apiserver_bin)
                .arg(format!("--etcd-servers={etcd_url}"))
                .arg("--bind-address=127.0.0.1")
                .arg("--advertise-address=127.0.0.1")
                .arg(format!("--secure-port={port}"))
                .arg(format!("--cert-dir={}", pki.display()))
                .arg(format!(
                    "--tls-cert-file={}",
                    pki.join("server.crt").display()
                ))
                .arg(format!(
                    "--tls-private-key-file={}",
                    pki.join("server.key").display()
                ))
                .arg(format!(
                    "--service-account-key-file={}",
                    pki.join("sa.key").display()
                ))
                .arg(format!(
                    "--service-account-signing-key-file={}",
                    pki.join("sa.key").display()
                ))
                .arg(format!("--service-account-issuer={SERVICE_ACCOUNT_ISSUER}"))
                .arg("--api-audiences=https://kubernetes.default.svc.cluster.local")
                .arg("--authorization-mode=RBAC")
                .arg(format!(
                    "--token-auth-file={}",
                    plane.dir.join("tokens.csv").display()
                ))
                .arg("--service-cluster-ip-range=10.96.0.0/16")
                // No nodes and a loopback address: nothing to reconcile the
                // `kubernetes` Service's endpoints to.
                .arg("--endpoint-reconciler-type=none")
                .arg("--profiling=false")
                .arg("--v=1"),
            &plane.dir.join("kube-apiserver.log"),
        )?);

        plane.wait_ready()?;
        plane.started_in = begun.elapsed();
        Ok(plane)
    }

    /// The API server's URL (`https://127.0.0.1:PORT` when started here).
    pub fn server(&self) -> String {
        self.server.clone()
    }

    /// The admin's kubeconfig (user `bucketcors-test-admin`, group
    /// `system:masters`), or the developer's own.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The directory holding the PKI, etcd's data and both logs (for a
    /// developer's cluster, only the test's own files).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How long starting (or connecting) took, until `/readyz` answered `ok`.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// `kubectl` with the admin's kubeconfig.
    pub fn kubectl(&self) -> Command {
        self.kubectl_as(&self.kubeconfig)
    }

    /// `kubectl` with another kubeconfig (for example a ServiceAccount's).
    pub fn kubectl_as(&self, kubeconfig: &Path) -> Command {
        let mut command = Command::new(tool("kubectl").expect("kubectl was found at start"));
        command.env("KUBECONFIG", kubeconfig);
        command
    }

    /// `helm` with the admin's kubeconfig and its state in this control
    /// plane's directory.
    pub fn helm(&self) -> Result<Command, ControlPlaneError> {
        let mut command = Command::new(tool("helm")?);
        command
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HELM_CACHE_HOME", self.dir.join("helm/cache"))
            .env("HELM_CONFIG_HOME", self.dir.join("helm/config"))
            .env("HELM_DATA_HOME", self.dir.join("helm/data"));
        Ok(command)
    }

    /// Runs `kubectl ARGS` as the admin; the output when it succeeded, an
    /// error with its stderr otherwise.
    pub fn kubectl_ok(&self, args: &[&str]) -> Result<String, ControlPlaneError> {
        checked(self.kubectl().args(args), "kubectl")
    }

    /// Runs `kubectl ARGS` as the admin with `input` on its standard input
    /// (`-f -`): its whole output, whether it succeeded or not.
    pub fn kubectl_with_input(
        &self,
        args: &[&str],
        input: &str,
    ) -> Result<Output, ControlPlaneError> {
        use std::io::Write;
        let mut child = self
            .kubectl()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| err(format!("running kubectl: {e}")))?;
        // A write error means kubectl exited early; its output says why.
        let _ = child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(input.as_bytes());
        child
            .wait_with_output()
            .map_err(|e| err(format!("waiting for kubectl: {e}")))
    }

    /// A token of ServiceAccount `namespace/name` from the TokenRequest API
    /// (`kubectl create token`), valid for `lifetime`.
    pub fn service_account_token(
        &self,
        namespace: &str,
        name: &str,
        lifetime: Duration,
    ) -> Result<String, ControlPlaneError> {
        let duration = format!("--duration={}s", lifetime.as_secs());
        let token = self.kubectl_ok(&["create", "token", name, "-n", namespace, &duration])?;
        Ok(token.trim().to_string())
    }

    /// Writes a kubeconfig for `token` into this control plane's directory
    /// (file `<file_name>`) and returns its path.
    pub fn kubeconfig_for_token(
        &self,
        file_name: &str,
        token: &str,
    ) -> Result<PathBuf, ControlPlaneError> {
        let path = self.dir.join(file_name);
        self.write_kubeconfig(&path, token)?;
        Ok(path)
    }

    fn write_kubeconfig(&self, path: &Path, token: &str) -> Result<(), ControlPlaneError> {
        let cluster = match &self.ca_data {
            Some(ca) => serde_json::json!({
                "server": self.server,
                "certificate-authority-data": ca,
            }),
            None => serde_json::json!({
                "server": self.server,
                "insecure-skip-tls-verify": true,
            }),
        };
        write_token_kubeconfig(path, &cluster, "test", token, None)
    }

    fn wait_ready(&mut self) -> Result<(), ControlPlaneError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let exited = [
                ("etcd", &mut self.etcd),
                ("kube-apiserver", &mut self.apiserver),
            ]
            .into_iter()
            .find_map(|(name, child)| match child.as_mut().map(Child::try_wait) {
                Some(Ok(Some(status))) => Some((name, status)),
                _ => None,
            });
            if let Some((name, status)) = exited {
                return Err(err(format!(
                    "{name} exited ({status}) before the API server was ready; its log:\n{}",
                    self.log_tail(name)
                )));
            }
            let last = match self.kubectl().args(["get", "--raw=/readyz"]).output() {
                Ok(out) if out.status.success() && out.stdout.starts_with(b"ok") => return Ok(()),
                Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
                Err(e) => return Err(err(format!("running kubectl: {e}"))),
            };
            if Instant::now() > deadline {
                return Err(err(format!(
                    "kube-apiserver not ready after {READY_TIMEOUT:?} (last answer: {last}); its log:\n{}",
                    self.log_tail("kube-apiserver")
                )));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The last lines of `etcd.log` or `kube-apiserver.log`.
    pub fn log_tail(&self, name: &str) -> String {
        let text =
            std::fs::read_to_string(self.dir.join(format!("{name}.log"))).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        // The API server first, so that it does not log etcd's absence.
        for child in [self.apiserver.take(), self.etcd.take()]
            .into_iter()
            .flatten()
        {
            stop(child);
        }
        if std::thread::panicking() && !self.is_external() {
            eprintln!(
                "control plane: kept {} (etcd.log, kube-apiserver.log) for the failed test",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The current context's cluster entry of `kubeconfig` (`server`, the CA
/// inline: `--raw --flatten` inlines a CA held as a file).
pub fn current_cluster(kubeconfig: &Path) -> Result<serde_json::Value, ControlPlaneError> {
    let out = checked(
        Command::new(tool("kubectl")?)
            .env("KUBECONFIG", kubeconfig)
            .args([
                "config",
                "view",
                "--raw",
                "--flatten",
                "--minify",
                "-o",
                "json",
            ]),
        "kubectl config view",
    )?;
    let view: serde_json::Value = serde_json::from_str(&out)
        .map_err(|e| err(format!("reading {}: {e}", kubeconfig.display())))?;
    view.pointer("/clusters/0/cluster")
        .cloned()
        .ok_or_else(|| err(format!("{} has no current cluster", kubeconfig.display())))
}

/// Writes to `path` a kubeconfig for `cluster` (a kubeconfig cluster entry)
/// authenticating user `user` with bearer `token`, in `namespace` if given.
pub fn write_token_kubeconfig(
    path: &Path,
    cluster: &serde_json::Value,
    user: &str,
    token: &str,
    namespace: Option<&str>,
) -> Result<(), ControlPlaneError> {
    let mut context = serde_json::json!({"cluster": "cluster", "user": user});
    if let Some(namespace) = namespace {
        context["namespace"] = namespace.into();
    }
    let config = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "cluster", "cluster": cluster}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": "current", "context": context}],
        "current-context": "current",
    });
    std::fs::write(path, config.to_string())
        .map_err(|e| err(format!("writing {}: {e}", path.display())))
}

/// SIGTERM, then SIGKILL after five seconds.
fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn spawn_logged(command: &mut Command, log: &Path) -> Result<Child, ControlPlaneError> {
    let file =
        std::fs::File::create(log).map_err(|e| err(format!("creating {}: {e}", log.display())))?;
    let file2 = file
        .try_clone()
        .map_err(|e| err(format!("{}: {e}", log.display())))?;
    command
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(file2)
        .spawn()
        .map_err(|e| err(format!("starting {:?}: {e}", command.get_program())))
}

fn checked(command: &mut Command, what: &str) -> Result<String, ControlPlaneError> {
    let Output {
        status,
        stdout,
        stderr,
    } = command
        .output()
        .map_err(|e| err(format!("running {what}: {e}")))?;
    if status.success() {
        Ok(String::from_utf8_lossy(&stdout).into_owned())
    } else {
        Err(err(format!(
            "{what} {:?} failed ({status}): {}",
            command.get_args().collect::<Vec<_>>(),
            String::from_utf8_lossy(&stderr).trim()
        )))
    }
}

/// A CA, a serving certificate for 127.0.0.1 and localhost signed by it, and
/// the service-account signing key, under `dir/pki/`, made with `openssl`.
fn make_pki(dir: &Path) -> Result<(), ControlPlaneError> {
    let pki = dir.join("pki");
    std::fs::create_dir_all(&pki).map_err(|e| err(format!("creating {}: {e}", pki.display())))?;
    std::fs::write(
        pki.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .map_err(|e| err(format!("writing the certificate extensions: {e}")))?;
    let steps: [&[&str]; 5] = [
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "ca.key",
        ],
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.key",
            "-subj",
            "/CN=bucketcors-test-ca",
            "-days",
            "2",
            "-out",
            "ca.crt",
        ],
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "server.key",
        ],
        &[
            "req",
            "-new",
            "-key",
            "server.key",
            "-subj",
            "/CN=kube-apiserver",
            "-out",
            "server.csr",
        ],
        &["genrsa", "-out", "sa.key", "2048"],
    ];
    for args in steps {
        checked(
            Command::new("openssl").args(args).current_dir(&pki),
            "openssl",
        )?;
    }
    checked(
        Command::new("openssl")
            .args([
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "server.ext",
                "-out",
                "server.crt",
            ])
            .current_dir(&pki),
        "openssl",
    )?;
    Ok(())
}
