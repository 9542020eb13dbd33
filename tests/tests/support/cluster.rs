//! The operator installed into a real Kubernetes control plane, as a user
//! installs it, and run as a local process in place of its pod.
//!
//! [`Cluster::install`] starts the testkit's `ControlPlane` (etcd and
//! kube-apiserver), creates the release namespace and runs `helm install` of
//! `charts/bucketcors` (CRD, ServiceAccount, RBAC, Deployment). There is no
//! kubelet, so the Deployment's pod never starts; [`Operator::start`] plays
//! that pod with the testkit's `LocalPod`: `bucketcors run` with the
//! container's own arguments and environment, resolved as the kubelet would,
//! authenticated with a token of the Deployment's ServiceAccount. RBAC is
//! therefore exactly what the chart grants. Only `--listen-addr` is moved to
//! a free loopback port.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use bucketcors_testkit::controlplane::ControlPlane;
use bucketcors_testkit::edge::EdgeHarness;
use bucketcors_testkit::pod::LocalPod;
use bucketcors_testkit::scratch;
use bucketcors_testkit::tools::workspace_root;
use serde_json::Value;

use super::cli::bucketcors_bin;
use super::manifest;

/// The namespace the chart is installed into.
pub const RELEASE_NS: &str = "bucketcors-system";
/// The Helm release name; the chart's resources are called `bucketcors`.
pub const RELEASE: &str = "bucketcors";

/// A control plane with the chart installed.
pub struct Cluster {
    /// The control plane (admin access through its kubeconfig).
    pub plane: ControlPlane,
    /// Namespaces this test made objects in, cleaned on a developer's cluster.
    namespaces: std::cell::RefCell<Vec<String>>,
}

impl Cluster {
    /// Starts a control plane and installs the chart with `helm install`,
    /// allowing the loopback endpoint (Garage) and passing `helm_args` (for
    /// example `--set`, `-f FILE`) through.
    pub fn install(helm_args: &[&str]) -> Cluster {
        let plane = ControlPlane::for_tests()
            .unwrap_or_else(|e| panic!("the control plane must run for this test: {e}"));
        eprintln!("control plane ready in {:?}", plane.started_in());
        let cluster = Cluster {
            plane,
            namespaces: Default::default(),
        };
        if cluster.plane.is_external() {
            // A developer's cluster may hold an earlier run's release.
            let _ = cluster.helm(&["uninstall", RELEASE, "--namespace", RELEASE_NS]);
        }
        cluster.create_namespace(RELEASE_NS);
        let chart = workspace_root().join("charts/bucketcors");
        let mut args = vec!["install", RELEASE, chart.to_str().expect("a UTF-8 path")];
        args.extend(["--namespace", RELEASE_NS]);
        // Garage listens on loopback; the chart allows only public endpoints
        // unless told (a test's own `--set` comes later and wins).
        args.extend(["--set", "tenancy.allowedEndpoints={127.0.0.1}"]);
        args.extend(helm_args);
        if let Err(e) = cluster.helm(&args) {
            panic!("helm install failed:\n{e}");
        }
        cluster.kubectl(&[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/bucketcors.bucketcors.dev",
        ]);
        cluster
    }

    /// Starts a control plane and installs the chart publishing to `edge`
    /// (its Cloudflare account, KV namespace and API URL; the token in the
    /// Secret `cloudflare-api-token`, created here), with `helm_args` after.
    pub fn install_with_edge(edge: &EdgeHarness, helm_args: &[&str]) -> Cluster {
        let values = [
            "edge.enabled=true".to_string(),
            format!("edge.cloudflare.accountId={}", edge.account_id),
            format!("edge.cloudflare.kvNamespaceId={}", edge.namespace_id),
            format!("edge.cloudflare.apiUrl={}", edge.api_url),
            "edge.cloudflare.apiToken.existingSecret=cloudflare-api-token".to_string(),
        ];
        let mut args: Vec<&str> = values.iter().flat_map(|v| ["--set", v.as_str()]).collect();
        args.extend_from_slice(helm_args);
        let cluster = Cluster::install(&args);
        cluster.apply(&manifest::secret_entry(
            RELEASE_NS,
            "cloudflare-api-token",
            "apiToken",
            &edge.token,
        ));
        cluster
    }

    /// `helm upgrade` of the release with its values so far and
    /// `helm_args` on top (a changed value, as an installer would make it).
    /// A running [`Operator`] keeps its old pod; start a new one, as a
    /// rollout would.
    pub fn upgrade(&self, helm_args: &[&str]) {
        let chart = workspace_root().join("charts/bucketcors");
        let mut args = vec!["upgrade", RELEASE, chart.to_str().expect("a UTF-8 path")];
        args.extend(["--namespace", RELEASE_NS, "--reuse-values"]);
        args.extend(helm_args);
        if let Err(e) = self.helm(&args) {
            panic!("helm upgrade failed:\n{e}");
        }
    }

    /// `helm ARGS` against this cluster: its output, or its output and
    /// error when it failed.
    fn helm(&self, args: &[&str]) -> Result<String, String> {
        let out = self
            .plane
            .helm()
            .expect("helm is installed")
            .args(args)
            .output()
            .expect("helm runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(stdout)
        } else {
            Err(format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)))
        }
    }

    /// `kubectl ARGS` as the admin; panics with kubectl's error when it fails.
    pub fn kubectl(&self, args: &[&str]) -> String {
        self.plane
            .kubectl_ok(args)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// `kubectl ARGS` as the admin: `(success, stdout, stderr)`.
    pub fn kubectl_raw(&self, args: &[&str]) -> (bool, String, String) {
        let out = self
            .plane
            .kubectl()
            .args(args)
            .output()
            .expect("kubectl runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `kubectl apply -f -` of `manifest` (YAML or JSON), as a team would;
    /// kubectl's output.
    pub fn apply(&self, manifest: &str) -> String {
        let (ok, stdout, stderr) = self.apply_raw(manifest);
        // A Secret's manifest holds credentials: never echo it.
        let shown = if manifest::is_secret(manifest) {
            "(a Secret, not shown)"
        } else {
            manifest
        };
        assert!(
            ok,
            "kubectl apply failed:\n{stderr}\n--- manifest:\n{shown}"
        );
        stdout
    }

    /// Creates namespace `name` (no error when it exists: a developer's
    /// cluster may have it from an earlier run).
    pub fn create_namespace(&self, name: &str) {
        self.apply(&manifest::namespace(name));
        self.namespaces.borrow_mut().push(name.to_string());
    }

    /// `kubectl apply -f -`: `(success, stdout, stderr)`.
    pub fn apply_raw(&self, manifest: &str) -> (bool, String, String) {
        let out = self
            .plane
            .kubectl_with_input(&["apply", "-f", "-"], manifest)
            .unwrap_or_else(|e| panic!("{e}"));
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `kubectl get KIND NAME -n NS -o json` (no `-n` when `namespace` is
    /// empty: cluster-scoped), or `None` when it does not exist.
    pub fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let mut args = vec!["get", kind, name, "-o", "json"];
        if !namespace.is_empty() {
            args.extend(["-n", namespace]);
        }
        let (ok, stdout, stderr) = self.kubectl_raw(&args);
        if !ok {
            assert!(
                stderr.contains("NotFound"),
                "kubectl get {kind} {name}: {stderr}"
            );
            return None;
        }
        Some(serde_json::from_str(&stdout).expect("kubectl prints JSON"))
    }

    /// The condition `type_` of BucketCors `namespace/name`, when present.
    pub fn condition(&self, namespace: &str, name: &str, type_: &str) -> Option<Value> {
        let object = self.get("bucketcors", namespace, name)?;
        object["status"]["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == type_)
            .cloned()
    }

    /// Waits until `probe` returns `Some`, polling every 250 ms.
    #[track_caller]
    pub fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut probe: impl FnMut() -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(value) = probe() {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Waits for condition `type_` of `namespace/name` to have `status`
    /// (and, when given, `reason`); returns the condition.
    #[track_caller]
    pub fn wait_condition(
        &self,
        namespace: &str,
        name: &str,
        type_: &str,
        status: &str,
        reason: Option<&str>,
        timeout: Duration,
    ) -> Value {
        let what = format!("{namespace}/{name} {type_}={status} {reason:?}");
        self.wait_for(&what, timeout, || {
            let c = self.condition(namespace, name, type_)?;
            (c["status"] == status && reason.is_none_or(|r| c["reason"] == r)).then_some(c)
        })
    }
}

/// On a developer's cluster, takes away what the test made: its
/// `BucketCors` objects (finalizers dropped first, since no operator is left
/// to run them) and the Helm release. Namespaces stay: a deleted namespace
/// is `Terminating` for a while, and the next test would be refused in it;
/// [`Cluster::create_namespace`] takes an existing one as it is. A cluster
/// started here goes away whole when the control plane drops.
impl Drop for Cluster {
    fn drop(&mut self) {
        if !self.plane.is_external() {
            return;
        }
        for namespace in self.namespaces.borrow().iter() {
            let (_, names, _) =
                self.kubectl_raw(&["get", "bucketcors", "-n", namespace, "-o", "name"]);
            for object in names.lines() {
                let _ = self.kubectl_raw(&[
                    "patch",
                    object,
                    "-n",
                    namespace,
                    "--type=merge",
                    "-p",
                    r#"{"metadata":{"finalizers":null}}"#,
                ]);
                let _ = self.kubectl_raw(&["delete", object, "-n", namespace, "--wait=false"]);
            }
        }
        let _ = self.helm(&["uninstall", RELEASE, "--namespace", RELEASE_NS]);
    }
}

/// The chart's operator pod, played by a local `bucketcors run` process.
pub struct Operator {
    child: Option<Child>,
    log: PathBuf,
    /// The pod name this process plays (its Lease identity).
    pub identity: String,
    /// Where its /healthz, /readyz and /metrics answer.
    pub listen: String,
}

impl Operator {
    /// Starts `bucketcors run` as pod `identity` of the chart's Deployment.
    pub fn start(cluster: &Cluster, identity: &str) -> Operator {
        Operator::start_with_env(cluster, identity, &[])
    }

    /// As [`Operator::start`], with `env` added to the pod's environment
    /// (for example a faked clock).
    pub fn start_with_env(cluster: &Cluster, identity: &str, env: &[(&str, &str)]) -> Operator {
        let mut pod = LocalPod::of_deployment(
            cluster.plane.kubeconfig(),
            RELEASE_NS,
            RELEASE,
            identity,
            cluster.plane.dir(),
        )
        .unwrap_or_else(|e| panic!("playing the chart's operator pod: {e}"));
        let [port] = scratch::free_ports().expect("a free port");
        let listen = format!("127.0.0.1:{port}");
        pod.set_arg("--listen-addr=", &listen);
        let log = cluster.plane.dir().join(format!("operator-{identity}.log"));
        let file = std::fs::File::create(&log).expect("operator log");
        let mut command = pod.command(&bucketcors_bin());
        command.envs(env.iter().copied());
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .spawn()
            .expect("bucketcors run starts");
        Operator {
            child: Some(child),
            log,
            identity: identity.to_string(),
            listen,
        }
    }

    /// Everything the process logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log file's path.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Sends a signal (`TERM`, `KILL`, `STOP`, `CONT`).
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id();
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} {pid}");
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut()?;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then the exit status (the operator shuts down gracefully).
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal("TERM");
        self.wait_exit(Duration::from_secs(30)).unwrap_or_else(|| {
            panic!(
                "{} ignored SIGTERM for 30 s:\n{}",
                self.identity,
                self.log()
            )
        })
    }

    /// SIGKILL: the process dies without releasing anything.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// `GET /metrics` of this process.
    pub fn metrics(&self) -> String {
        let addr: std::net::SocketAddr = self.listen.parse().expect("listen address");
        let request = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        super::raw_http::send(addr, request.as_bytes(), Duration::from_secs(5))
            .map(|r| r.text())
            .unwrap_or_default()
    }

    /// `bucketcors_reconciles_total` from its metrics (0 before the first).
    pub fn reconciles(&self) -> u64 {
        self.metrics()
            .lines()
            .find_map(|l| l.strip_prefix("bucketcors_reconciles_total "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        if self.child.is_some() && std::thread::panicking() {
            eprintln!(
                "operator {} log ({}):\n{}",
                self.identity,
                self.log.display(),
                tail(&self.log())
            );
        }
        self.kill();
    }
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}
