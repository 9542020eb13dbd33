//! Exposed headers that pages can read without being exposed.
//!
//! The CORS-safelisted response headers (`Cache-Control`,
//! `Content-Language`, `Content-Length`, `Content-Type`, `Expires`,
//! `Last-Modified`, `Pragma`) are readable by any page that passed the CORS
//! check [Fetch; spec section 7]. Listing them changes nothing and usually
//! means the header that was really needed (`ETag` for multipart uploads)
//! is missing.

use super::{At, Lint, LintCode};

pub use bucketcors_fetch::safelist::{SAFELISTED_RESPONSE_HEADERS, is_safelisted_response_header};

/// Adds a lint per safelisted entry of `exposeHeaders`.
pub(crate) fn check(at: &At<'_>, out: &mut Vec<Lint>) {
    for (i, header) in at.rule.expose_headers.iter().enumerate() {
        if is_safelisted_response_header(header) {
            out.push(at.warning(
                LintCode::ExposeSafelisted,
                Some(format!("exposeHeaders[{i}]")),
                format!("{header:?} is exposed"),
                "it is a CORS-safelisted response header, which pages can read without \
                 being exposed",
                format!(
                    "remove {header:?} from exposeHeaders (expose the headers pages really \
                     read, such as ETag)"
                ),
            ));
        }
    }
}
