//! What `apply`, `get` and `import` share: where credentials come from
//! (the environment or `--credentials FILE`, never a manifest), the flags
//! that name one bucket, and the exit codes for backend work.

use crate::crd::Provider;
use bucketcors_sync::backend::credentials::CredentialsFile;
use bucketcors_sync::backend::{BackendSettings, Connector, CredentialSource};
use clap::ValueEnum;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit code: invalid input (nothing was sent for it).
pub const EXIT_INVALID: u8 = 1;
/// Exit code: the backend (or the edge) failed.
pub const EXIT_BACKEND: u8 = 2;

/// `--credentials FILE`.
#[derive(Debug, Clone, clap::Args)]
pub struct CredentialsArgs {
    /// YAML or JSON file with `s3:` and/or `oss:` blocks holding accessKeyId,
    /// secretAccessKey (accessKeySecret for OSS) and optionally sessionToken
    /// (securityToken). Without it: for S3 the AWS standard chain
    /// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, profile,
    /// web identity); for OSS ALIBABA_CLOUD_ACCESS_KEY_ID,
    /// ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN, or RRSA.
    #[arg(long, value_name = "FILE")]
    pub credentials: Option<PathBuf>,
}

impl CredentialsArgs {
    /// A connector using the file's keys, or the ambient chains.
    pub fn connector(&self) -> Result<Connector, String> {
        let (s3, oss) = match &self.credentials {
            None => (CredentialSource::Ambient, CredentialSource::Ambient),
            Some(path) => load(path)?,
        };
        Ok(Connector::new(s3, oss))
    }
}

fn load(path: &Path) -> Result<(CredentialSource, CredentialSource), String> {
    let file = CredentialsFile::load(path)?;
    if file.s3.is_none() && file.oss.is_none() {
        return Err(format!(
            "{}: has neither an `s3:` nor an `oss:` block",
            path.display()
        ));
    }
    let source = |keys: Option<_>| keys.map(CredentialSource::Keys).unwrap_or_default();
    Ok((source(file.s3), source(file.oss)))
}

/// `--provider`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderArg {
    /// Alibaba Cloud OSS.
    Oss,
    /// AWS S3 or an S3-compatible store.
    S3,
}

impl From<ProviderArg> for Provider {
    fn from(p: ProviderArg) -> Provider {
        match p {
            ProviderArg::Oss => Provider::Oss,
            ProviderArg::S3 => Provider::S3,
        }
    }
}

/// The flags naming one bucket (`get`, `import`).
#[derive(Debug, Clone, clap::Args)]
pub struct BucketArgs {
    /// The bucket's provider.
    #[arg(long, value_enum)]
    pub provider: ProviderArg,
    /// The bucket name.
    #[arg(long)]
    pub bucket: String,
    /// Endpoint URL or host (default: the provider's public endpoint).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Region (S3 signing region; OSS region such as cn-hangzhou).
    #[arg(long)]
    pub region: Option<String>,
    /// Path-style addressing (endpoint/bucket) instead of virtual-hosted.
    #[arg(long)]
    pub path_style: bool,
    #[command(flatten)]
    pub credentials: CredentialsArgs,
}

impl BucketArgs {
    /// The backend settings these flags describe.
    pub fn settings(&self) -> BackendSettings {
        BackendSettings {
            provider: self.provider.into(),
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            path_style: self.path_style,
        }
    }
}

/// A multi-threaded runtime for the backend commands.
pub fn runtime() -> tokio::runtime::Runtime {
    // Two rustls crypto providers are linked (ring through kube and
    // reqwest, aws-lc-rs through the AWS SDK): pick one for any client that
    // asks for the process default, as `bucketcors run` does.
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
}

/// Prints `message` to standard error and returns `code`.
pub fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}
