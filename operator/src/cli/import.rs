//! `bucketcors import`: print a BucketCors manifest that reproduces a
//! bucket's current rules and backend settings, ready for `kubectl apply`
//! or `bucketcors apply`.
//!
//! The manifest sets `deletionPolicy: Retain`: the rules existed before
//! bucketcors managed them, so deleting the resource should not remove them
//! unless the user says so. Credentials are never written into it; a
//! `credentialsSecretRef` is added only when `--secret` names one.

use super::backend_args::{BucketArgs, EXIT_BACKEND, EXIT_INVALID, fail, runtime};
use crate::crd::{
    BackendSpec, BucketCors, BucketCorsSpec, CredentialsSecretRef, DeletionPolicy, Provider,
};
use bucketcors_engine::validate::validate;
use std::process::ExitCode;

/// Arguments of `bucketcors import`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 printed, 1 bad arguments or the bucket has no CORS \
configuration, 2 the provider failed."
)]
pub struct Args {
    #[command(flatten)]
    pub bucket: BucketArgs,
    /// metadata.name of the manifest (default: the bucket name).
    #[arg(long)]
    pub name: Option<String>,
    /// metadata.namespace of the manifest (default: none, kubectl's current one).
    #[arg(long)]
    pub namespace: Option<String>,
    /// Name of the Secret the operator should read credentials from.
    #[arg(long, value_name = "SECRET")]
    pub secret: Option<String>,
}

/// Runs `bucketcors import`.
pub fn run(args: &Args) -> ExitCode {
    let connector = match args.bucket.credentials.connector() {
        Ok(c) => c,
        Err(e) => return fail(EXIT_INVALID, e),
    };
    let settings = args.bucket.settings();
    let result = runtime().block_on(async {
        let backend = connector.backend(&settings, &args.bucket.bucket).await?;
        backend
            .get_cors()
            .await
            .map(|config| (backend.target().clone(), config))
    });
    let config = match result {
        Err(e) => return fail(EXIT_BACKEND, e),
        Ok((target, None)) => {
            return fail(
                EXIT_INVALID,
                format!("{target} has no CORS configuration: nothing to import"),
            );
        }
        Ok((_, Some(config))) => config,
    };

    let provider: Provider = args.bucket.provider.into();
    // The bucket may hold what its provider accepted but bucketcors refuses
    // (Garage takes PATCH, for instance): say so now, not at apply time.
    let report = validate(&config, provider.dialect());
    for diagnostic in report.diagnostics() {
        eprintln!("{}: spec.rules: {diagnostic}", diagnostic.severity);
    }

    let spec = BucketCorsSpec {
        backend: BackendSpec {
            provider,
            bucket: args.bucket.bucket.clone(),
            endpoint: args.bucket.endpoint.clone(),
            region: args.bucket.region.clone(),
            path_style: args.bucket.path_style.then_some(true),
            // The store cannot be told from its answers: left to the default.
            flavor: None,
            credentials_secret_ref: args.secret.as_ref().map(|name| CredentialsSecretRef {
                name: name.clone(),
                access_key_id_key: None,
                secret_access_key_key: None,
                session_token_key: None,
            }),
        },
        rules: config.rules,
        response_vary: (provider == Provider::Oss).then_some(config.response_vary),
        edge: None,
        deletion_policy: DeletionPolicy::Retain,
        resync_interval: None,
    };
    let mut manifest = BucketCors::new(args.name.as_deref().unwrap_or(&args.bucket.bucket), spec);
    manifest.metadata.namespace = args.namespace.clone();
    match serde_norway::to_string(&manifest) {
        Ok(yaml) => {
            print!("{yaml}");
            if report.is_valid() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_INVALID)
            }
        }
        Err(e) => fail(EXIT_INVALID, format!("cannot print the manifest: {e}")),
    }
}
