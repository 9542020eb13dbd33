//! The page, embedded: `console/dist/`, built by `scripts/build-console.sh`
//! and checked in, so the binary serves it with nothing fetched from any
//! other host and `cargo build` needs neither npm nor a wasm toolchain.

/// One embedded file: its bytes and content type.
pub struct Asset {
    /// The file's bytes.
    pub body: &'static [u8],
    /// Its `Content-Type`.
    pub content_type: &'static str,
}

/// The asset served at `path` (`/` is the page).
pub fn get(path: &str) -> Option<Asset> {
    let (body, content_type): (&'static [u8], _) = match path {
        "/" | "/index.html" => (
            include_bytes!("../../../../console/dist/index.html"),
            "text/html; charset=utf-8",
        ),
        "/app.js" => (
            include_bytes!("../../../../console/dist/app.js"),
            "text/javascript; charset=utf-8",
        ),
        "/style.css" => (
            include_bytes!("../../../../console/dist/style.css"),
            "text/css; charset=utf-8",
        ),
        "/engine.wasm" => (
            include_bytes!("../../../../console/dist/engine.wasm"),
            "application/wasm",
        ),
        _ => return None,
    };
    Some(Asset { body, content_type })
}
