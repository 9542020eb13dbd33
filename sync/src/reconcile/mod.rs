//! The reconcile core shared by the Kubernetes controller and
//! `bucketcors apply`.
//!
//! ## Design
//!
//! One [`Reconciler`] drives one bucket ([`Backend`]) and, optionally, the
//! edge ([`Publisher`]). It knows nothing about Kubernetes or terminals: the
//! controller feeds it a spec plus the revisions recorded in the status, the
//! CLI feeds it a manifest with no history; both get back an [`Outcome`] or
//! a classified [`ReconcileError`].
//!
//! [`Reconciler::apply`] runs these steps, and stops at the first failure:
//! 1. **validate** the rules with the engine for the backend's dialect; an
//!    invalid spec is a terminal [`ErrorClass::Invalid`] error and nothing
//!    is sent (not even a read);
//! 2. **read** the bucket's current configuration (none is a normal answer);
//! 3. **compare** semantically: the engine's revision hashes the canonical
//!    form, so a rule ID or header case the provider echoes differently
//!    does not cause a write;
//! 4. **write** only when the revisions differ, then **read back** and
//!    check the revision, because some stores silently drop what they do not
//!    understand;
//! 5. **publish** the rule set to the edge when the spec asks for it: every
//!    route's record (rules, dialect, origin URL) is read back and written
//!    when it differs, so edge drift is repaired on each run; then the
//!    routes the last run published and the spec no longer names
//!    ([`Desired::published`]) are withdrawn (all of them when the spec
//!    turned the edge off).
//!
//! Step 1 builds the engine's [`RuleSet`] (validated, with its revision)
//! once; that one value is what steps 3-5 compare, write, verify against
//! and publish.
//!
//! Running it twice sends no second write: step 3 finds the revisions
//! equal. [`Reconciler::plan`] runs steps 1-3 only (for `--dry-run`),
//! [`Reconciler::execute`] steps 4-5 on a plan (the controller keeps the
//! plan, so it knows the bucket's revision when only the edge fails), and
//! [`Reconciler::remove`] honours the [`DeletionPolicy`].
//!
//! Whether a difference is an update or drift is decided from
//! [`Desired::last_applied_revision`]: when the bucket no longer holds what
//! was last applied, someone else changed it.
//!
//! ## Example
//!
//! ```no_run
//! use bucketcors_sync::backend::{BackendSettings, Connector, CredentialSource, Provider};
//! use bucketcors_sync::reconcile::{DeletionPolicy, Desired, Reconciler};
//! use bucketcors_engine::{CorsConfig, Rule};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let connector = Connector::new(CredentialSource::Ambient, CredentialSource::Ambient);
//! let settings = BackendSettings {
//!     provider: Provider::S3,
//!     endpoint: Some("http://127.0.0.1:3900".into()),
//!     region: Some("garage".into()),
//!     path_style: true,
//! };
//! let backend = connector.backend(&settings, "assets").await?;
//! let config = CorsConfig {
//!     rules: vec![Rule {
//!         allowed_origins: vec!["https://app.example.com".into()],
//!         allowed_methods: vec!["GET".into()],
//!         ..Rule::default()
//!     }],
//!     response_vary: false,
//! };
//!
//! let reconciler = Reconciler::new(backend.as_ref());
//! let outcome = reconciler.apply(&Desired::new(config)).await?;
//! println!("{}: {} ({})", outcome.target, outcome.change, outcome.revision);
//!
//! // The controller, on deletion:
//! reconciler.remove(DeletionPolicy::Delete, &[], None).await?;
//! # Ok(())
//! # }
//! ```
//!
//! [`Backend`]: crate::backend::Backend
//! [`RuleSet`]: bucketcors_engine::ruleset::RuleSet
//! [`Publisher`]: crate::edge::Publisher

mod apply;
mod deletion_policy;
mod desired;
pub mod diff;
mod error;
mod outcome;
mod remove;

pub use apply::{Reconciler, sync};
pub use deletion_policy::DeletionPolicy;
pub use desired::Desired;
pub use error::{ErrorClass, Operation, ReconcileError, reason};
pub use outcome::{Change, EdgeResult, EdgeSync, Outcome, Plan, Removal};
pub use remove::remove;
