//! The reconcile core shared by the controller and `bucketcors apply` (issue 3).
