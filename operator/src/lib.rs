//! # bucketcors operator
//!
//! Adapters around the engine: the `BucketCors` resource ([`crd`]), the
//! storage backends ([`backend`]), the reconcile core shared by the
//! controller and `bucketcors apply` ([`reconcile`]), the edge publisher
//! ([`edge`]), the Kubernetes controller ([`controller`]) and the command
//! line ([`cli`]).

pub mod admission;
pub mod backend;
pub mod cli;
pub mod controller;
pub mod crd;
pub mod edge;
pub mod reconcile;
pub mod telemetry;
