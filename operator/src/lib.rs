//! # bucketcors operator
//!
//! The Kubernetes side of bucketcors, above the Kubernetes-free sync core
//! ([`bucketcors_sync`]: storage backends, edge publisher, reconcile core):
//! the `BucketCors` resource and its translation into the core's inputs
//! ([`crd`]), the Kubernetes controller ([`controller`]), the command line
//! ([`cli`]), the admission policy generated from the engine's lints
//! ([`admission`]) and the operator's logs and metrics ([`telemetry`]).

pub mod admission;
pub mod cli;
pub mod controller;
pub mod crd;
pub mod telemetry;
