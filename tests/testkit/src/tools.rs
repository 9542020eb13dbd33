//! Where the installed tools live.

use std::path::PathBuf;

/// `~/.cache/bucketcors` (or `$BUCKETCORS_CACHE`), where install scripts put tools.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BUCKETCORS_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"));
    home.join(".cache").join("bucketcors")
}

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .canonicalize()
        .expect("workspace root exists")
}
