//! Reading an answer's body up to a fixed bound.
//!
//! A backend endpoint or an STS endpoint that answers with an endless or
//! huge body must not exhaust the operator's memory (one operator serves
//! many teams). Every body the backends read themselves goes through
//! [`read_text`], which stops at [`MAX_BODY_BYTES`]: a CORS configuration
//! is small (S3 allows 100 rules and OSS 10; S3 caps the request at 64 KiB)
//! and an STS answer is a few KiB, so 1 MiB is generous for the honest case
//! and a hard stop for the hostile one.

/// The most bytes read from one answer: 1 MiB.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The answer is larger than the bound; reading stopped there.
    #[error(
        "the answer's body is larger than {limit} bytes; bucketcors stops reading there (a CORS configuration or an STS answer is a few KiB): is this endpoint what it claims to be?"
    )]
    TooLarge {
        /// The bound.
        limit: usize,
    },
    /// The connection failed while reading.
    #[error("reading the answer's body: {0}")]
    Read(#[source] reqwest::Error),
}

/// The body of `response` as text (invalid UTF-8 replaced), at most
/// `limit` bytes: a declared `Content-Length` above it is refused before
/// reading, and an undeclared body stops at the first chunk past it.
pub async fn read_text(mut response: reqwest::Response, limit: usize) -> Result<String, BodyError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Read)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}
