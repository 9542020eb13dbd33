//! OSS error bodies to [`BackendError`]s.
//!
//! OSS answers failures with
//! `<Error><Code/><Message/><RequestId/><HostId/><EC/></Error>`. The code
//! decides the class ([`crate::backend::classify`]); the message keeps code,
//! HTTP status, `EC` and `RequestId` because OSS support asks for them.
//! Other elements (`StringToSign`, `CanonicalRequest` on signature errors)
//! are left out: they help nobody reading a status condition.

use crate::backend::classify::{advice, classify};
use crate::backend::{BackendError, Target};

/// The fields of an OSS `<Error>` document that bucketcors uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OssErrorBody {
    /// `NoSuchBucket`, `AccessDenied`, ...
    pub code: Option<String>,
    /// Human-readable text.
    pub message: Option<String>,
    /// Request id, for OSS support.
    pub request_id: Option<String>,
    /// Endpoint host that answered.
    pub host_id: Option<String>,
    /// OSS's detailed error code (`0034-00000001`).
    pub ec: Option<String>,
}

impl OssErrorBody {
    /// Reads an error body; unknown or malformed input gives empty fields,
    /// so that the HTTP status still classifies the failure.
    pub fn parse(body: &str) -> OssErrorBody {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_str(body);
        let mut out = OssErrorBody::default();
        let mut path: Vec<String> = Vec::new();
        loop {
            match reader.read_event() {
                Ok(Event::Start(e)) => {
                    path.push(String::from_utf8_lossy(e.name().as_ref()).into_owned())
                }
                Ok(Event::End(_)) => {
                    path.pop();
                }
                Ok(Event::Text(t)) => {
                    if path.len() != 2 || path[0] != "Error" {
                        continue;
                    }
                    let text = match t.decode() {
                        Ok(text) => quick_xml::escape::unescape(&text)
                            .map(|s| s.into_owned())
                            .unwrap_or_else(|_| text.into_owned()),
                        Err(_) => continue,
                    };
                    let slot = match path[1].as_str() {
                        "Code" => &mut out.code,
                        "Message" => &mut out.message,
                        "RequestId" => &mut out.request_id,
                        "HostId" => &mut out.host_id,
                        "EC" => &mut out.ec,
                        _ => continue,
                    };
                    slot.get_or_insert_with(String::new).push_str(&text);
                }
                Ok(Event::GeneralRef(r)) => {
                    // `&amp;` and friends arrive as separate events in quick-xml 0.38.
                    if path.len() == 2 && path[1] == "Message" {
                        let decoded = match r.decode().as_deref() {
                            Ok("amp") => "&",
                            Ok("lt") => "<",
                            Ok("gt") => ">",
                            Ok("quot") => "\"",
                            Ok("apos") => "'",
                            _ => "",
                        };
                        out.message
                            .get_or_insert_with(String::new)
                            .push_str(decoded);
                    }
                }
                Ok(Event::Eof) | Err(_) => break,
                Ok(_) => {}
            }
        }
        out
    }

    /// The classified error for a failed `operation` answered with `status`.
    pub fn into_error(self, target: &Target, operation: &str, status: u16) -> BackendError {
        let kind = classify(self.code.as_deref(), Some(status));
        let mut detail = format!(
            "{} (HTTP {status}",
            self.code.as_deref().unwrap_or("no error code")
        );
        if let Some(ec) = &self.ec {
            detail.push_str(&format!(", EC {ec}"));
        }
        if let Some(id) = &self.request_id {
            detail.push_str(&format!(", RequestId {id}"));
        }
        detail.push(')');
        if let Some(message) = &self.message {
            detail.push_str(": ");
            detail.push_str(message);
        }
        BackendError::new(
            kind,
            target,
            format!("{operation} failed: {detail}; {}", advice(kind)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::ErrorKind;

    fn target() -> Target {
        Target {
            provider: "oss",
            bucket: "b1".into(),
        }
    }

    #[test]
    fn parses_and_maps_every_documented_code() {
        let cases = [
            ("NoSuchBucket", 404, ErrorKind::BucketNotFound),
            ("AccessDenied", 403, ErrorKind::AccessDenied),
            ("InvalidAccessKeyId", 403, ErrorKind::AccessDenied),
            ("SignatureDoesNotMatch", 403, ErrorKind::AccessDenied),
            ("InvalidArgument", 400, ErrorKind::Refused),
            ("MalformedXML", 400, ErrorKind::Refused),
            ("RequestTimeout", 400, ErrorKind::Transient),
            ("InternalError", 500, ErrorKind::Transient),
            ("ServiceUnavailable", 503, ErrorKind::Transient),
        ];
        for (code, status, kind) in cases {
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>m &amp; n</Message>\
                 <RequestId>RID</RequestId><HostId>b1.oss-cn-hangzhou.aliyuncs.com</HostId><EC>0003-00000001</EC></Error>"
            );
            let parsed = OssErrorBody::parse(&body);
            assert_eq!(parsed.code.as_deref(), Some(code));
            assert_eq!(parsed.message.as_deref(), Some("m & n"));
            let error = parsed.into_error(&target(), "PutBucketCors", status);
            assert_eq!(error.kind, kind, "{code}");
            assert!(error.to_string().contains("oss bucket `b1`"));
            assert!(error.to_string().contains("EC 0003-00000001"));
        }
    }

    #[test]
    fn garbage_falls_back_to_the_status() {
        let error = OssErrorBody::parse("<html>bad gateway</html>").into_error(
            &target(),
            "GetBucketCors",
            502,
        );
        assert_eq!(error.kind, ErrorKind::Transient);
    }
}
