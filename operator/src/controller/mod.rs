//! The Kubernetes controller (issue 4).
