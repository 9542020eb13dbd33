//! # bucketcors sync core
//!
//! Everything that keeps one bucket (and its edge routes) in line with a
//! desired rule set, with no knowledge of Kubernetes: the storage backends
//! ([`backend`]), the edge publisher ([`edge`]) and the reconcile core that
//! validates, reads, compares, writes, verifies, publishes and removes
//! ([`reconcile`]), the one retry policy all three share ([`retry`]), and
//! the installer's [`tenancy`] policy for an operator many teams share.
//!
//! ## Layering
//!
//! ```text
//! bucketcors-operator  CRD types and their translation, controller, CLI
//!         |
//! bucketcors-sync      backends, edge publisher, reconcile core   (this crate)
//!         |
//! bucketcors-engine    rule model, validation, compiled matcher, RuleSet
//! ```
//!
//! This crate depends on neither `kube` nor `k8s-openapi`, so the compiler
//! keeps the layering: the controller and the `bucketcors apply` command
//! both translate their input (a `BucketCors` object, a manifest file) into
//! a [`reconcile::Desired`] and hand it to the same [`reconcile::Reconciler`].
//! The few concepts the CRD shares with the core (the [`backend::Provider`],
//! the [`reconcile::DeletionPolicy`]) are defined here once and embedded in
//! the CRD types unchanged.

pub mod backend;
pub mod edge;
pub mod reconcile;
pub mod retry;
pub mod tenancy;
