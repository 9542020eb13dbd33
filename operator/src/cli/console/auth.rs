//! Who may use the console: the holder of the URL printed at start.
//!
//! - A random token per start (256 bits from the OS). The first visit
//!   carries it in the query; the server answers with an `HttpOnly`,
//!   `SameSite=Strict` cookie and redirects to a URL without it.
//! - Every `/api/` request needs the cookie; the `Host` header must name
//!   the address served (a page on another site that rebinds its DNS name
//!   to 127.0.0.1 sends its own name and is refused).
//! - Writes also need the token in `X-Bucketcors-Csrf` (the page reads it
//!   from `/api/session`, which another site cannot read) and, when the
//!   browser says where the request comes from, the same origin.
//! - With `--read-only` every write is refused here, whatever the page does.

use axum::http::{HeaderMap, Method, StatusCode, header};

/// The cookie holding the token.
pub const COOKIE: &str = "bucketcors_console";
/// The header writes carry the token in.
pub const CSRF_HEADER: &str = "x-bucketcors-csrf";

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The `Host` header names another address.
    #[error("the Host header `{0}` is not the console's address")]
    Host(String),
    /// No or a wrong cookie.
    #[error("no valid session: open the URL `bucketcors console` printed at start")]
    Session,
    /// A write without the CSRF header, or from another origin.
    #[error("a write needs the console's CSRF token and a same-origin request ({0})")]
    Csrf(&'static str),
    /// `--read-only`.
    #[error("the console is read-only (--read-only): writes are refused")]
    ReadOnly,
}

impl Refused {
    /// The HTTP status for the refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            Refused::Host(_) => StatusCode::MISDIRECTED_REQUEST,
            Refused::Session => StatusCode::UNAUTHORIZED,
            Refused::Csrf(_) | Refused::ReadOnly => StatusCode::FORBIDDEN,
        }
    }
}

/// The per-start secret and what the checks compare against.
#[derive(Debug, Clone)]
pub struct Guard {
    token: String,
    /// `host:port` values the `Host` header may carry.
    hosts: Vec<String>,
    /// `http://host:port` values the `Origin` header may carry.
    origins: Vec<String>,
    read_only: bool,
}

impl Guard {
    /// A guard for the address served, with a fresh token.
    pub fn new(addr: std::net::SocketAddr, read_only: bool) -> std::io::Result<Guard> {
        let mut bytes = [0u8; 32];
        std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
        let token = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let port = addr.port();
        let mut hosts = vec![addr.to_string()];
        if addr.ip().is_loopback() {
            hosts.push(format!("localhost:{port}"));
        }
        let origins = hosts.iter().map(|h| format!("http://{h}")).collect();
        Ok(Guard {
            token,
            hosts,
            origins,
            read_only,
        })
    }

    /// The token (printed in the start URL and given to the page).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Whether `candidate` is the token, in time independent of where they differ.
    pub fn is_token(&self, candidate: &str) -> bool {
        let a = self.token.as_bytes();
        let b = candidate.as_bytes();
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// The `Host` check, for every request.
    pub fn check_host(&self, headers: &HeaderMap) -> Result<(), Refused> {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
            Ok(())
        } else {
            Err(Refused::Host(host.to_owned()))
        }
    }

    /// The session check for `/api/`, plus the write checks for methods
    /// other than GET and HEAD.
    pub fn check_api(&self, method: &Method, headers: &HeaderMap) -> Result<(), Refused> {
        let has_cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(name, value)| name == COOKIE && self.is_token(value));
        if !has_cookie {
            return Err(Refused::Session);
        }
        if method == Method::GET || method == Method::HEAD {
            return Ok(());
        }
        if self.read_only {
            return Err(Refused::ReadOnly);
        }
        let csrf = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !self.is_token(csrf) {
            return Err(Refused::Csrf("missing or wrong X-Bucketcors-Csrf header"));
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            if !self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
                return Err(Refused::Csrf("the Origin is another site"));
            }
        }
        if let Some(site) = headers.get("sec-fetch-site")
            && site.as_bytes() != b"same-origin"
        {
            return Err(Refused::Csrf("Sec-Fetch-Site is not same-origin"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(read_only: bool) -> Guard {
        Guard::new("127.0.0.1:8690".parse().unwrap(), read_only).unwrap()
    }

    fn with_cookie(g: &Guard) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            format!("a=b; {COOKIE}={}", g.token()).parse().unwrap(),
        );
        h
    }

    #[test]
    fn tokens_differ_per_start() {
        assert_ne!(guard(false).token(), guard(false).token());
    }

    #[test]
    fn a_write_needs_cookie_csrf_and_the_same_origin() {
        let g = guard(false);
        assert_eq!(
            g.check_api(&Method::PUT, &HeaderMap::new()),
            Err(Refused::Session)
        );
        let mut h = with_cookie(&g);
        assert!(matches!(
            g.check_api(&Method::PUT, &h),
            Err(Refused::Csrf(_))
        ));
        h.insert(CSRF_HEADER, g.token().parse().unwrap());
        h.insert(header::ORIGIN, "http://evil.test".parse().unwrap());
        assert!(matches!(
            g.check_api(&Method::PUT, &h),
            Err(Refused::Csrf(_))
        ));
        h.insert(header::ORIGIN, "http://127.0.0.1:8690".parse().unwrap());
        assert_eq!(g.check_api(&Method::PUT, &h), Ok(()));
    }

    #[test]
    fn read_only_refuses_even_a_well_formed_write() {
        let g = guard(true);
        let mut h = with_cookie(&g);
        h.insert(CSRF_HEADER, g.token().parse().unwrap());
        assert_eq!(g.check_api(&Method::PUT, &h), Err(Refused::ReadOnly));
        assert_eq!(g.check_api(&Method::GET, &h), Ok(()));
    }

    #[test]
    fn another_host_name_is_refused() {
        let g = guard(false);
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "rebound.example:8690".parse().unwrap());
        assert!(g.check_host(&h).is_err());
        h.insert(header::HOST, "localhost:8690".parse().unwrap());
        assert!(g.check_host(&h).is_ok());
    }
}
