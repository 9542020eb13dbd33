//! One response as the browser's checks read it: a status and the header
//! lines in the order received, repeats kept apart (two
//! `Access-Control-Allow-Origin` lines are a failure of their own, which a
//! map would hide).

/// A borrowed view of one response.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    /// The status code.
    pub status: u16,
    /// The header lines, in order, as `(name, value)`.
    pub headers: &'a [(String, String)],
}

impl<'a> Answer<'a> {
    /// A view of `status` and `headers`.
    pub fn new(status: u16, headers: &'a [(String, String)]) -> Answer<'a> {
        Answer { status, headers }
    }

    /// Every value of header `name` (any case), one per line.
    pub fn all(&self, name: &str) -> Vec<&'a str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The lines of `name` joined with `, `, as HTTP combines them.
    pub fn get(&self, name: &str) -> Option<String> {
        let values = self.all(name);
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// The members of a comma-separated list header, trimmed, empty ones
    /// dropped.
    pub fn list(&self, name: &str) -> Vec<&'a str> {
        self.all(name)
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .collect()
    }

    /// 2xx: Fetch's "ok status", which a preflight needs.
    pub fn is_ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// 3xx: a preflight must not be redirected.
    pub fn is_redirect(&self) -> bool {
        (300..400).contains(&self.status)
    }
}
