//! # bucketcors operator
//!
//! The Kubernetes side of bucketcors, above the Kubernetes-free sync core
//! ([`bucketcors_sync`]: storage backends, edge publisher, reconcile core):
//! the `BucketCors` resource and its translation into the core's inputs
//! ([`crd`]), the Kubernetes controller ([`controller`]), the command line
//! ([`cli`]) and the operator's logs and metrics ([`telemetry`]).

pub mod cli;
pub mod controller;
pub mod crd;
pub mod telemetry;
