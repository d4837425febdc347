//! Interpreting what came back: redirect targets, response metadata, error statuses and reqwest errors, each
//! turned into a value of the fetch interface with a one-line message for the operator.

use std::error::Error as _;
use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::StatusCode;
use url::Url;

use super::{guard, headers, FailureKind, FetchFailure, ResponseMeta};

pub(crate) fn check_url(url: &Url) -> Result<(), FetchFailure> {
    if !matches!(url.scheme(), "http" | "https") {
        let message = format!("{url}: only http and https URLs can be fetched");
        return Err(FetchFailure::new(FailureKind::InvalidUrl, message));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(FetchFailure::new(
            FailureKind::InvalidUrl,
            format!("{url}: the URL has no host"),
        ));
    }
    Ok(())
}

pub(crate) fn timed_out(url: &Url, limit: Duration) -> FetchFailure {
    let message = format!(
        "{url}: no complete response within {} s",
        limit.as_secs_f64()
    );
    FetchFailure::new(FailureKind::Timeout, message)
}

pub(crate) fn redirect_target(
    url: &Url,
    status: StatusCode,
    headers: &HeaderMap,
) -> Result<Url, FetchFailure> {
    let bad = |why: &str| {
        let message = format!("{url}: HTTP {} redirect {why}", status.as_u16());
        FetchFailure::new(FailureKind::BadRedirect, message)
    };
    let location = headers
        .get(header::LOCATION)
        .ok_or_else(|| bad("without a Location header"))?
        .to_str()
        .map_err(|_| bad("with a Location that is not ASCII"))?;
    let mut next = url
        .join(location.trim())
        .map_err(|e| bad(&format!("to an invalid URL {location:?} ({e})")))?;
    // The fragment is never sent, so it must not make a loop look like two different URLs.
    next.set_fragment(None);
    check_url(&next)?;
    Ok(next)
}

pub(crate) fn meta_of(
    response: &reqwest::Response,
    final_url: Url,
    permanent_redirect: Option<Url>,
) -> ResponseMeta {
    let headers = response.headers();
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let content_location = text(header::CONTENT_LOCATION).and_then(|l| final_url.join(&l).ok());
    ResponseMeta {
        status: response.status().as_u16(),
        content_location,
        final_url,
        permanent_redirect,
        etag: text(header::ETAG),
        last_modified: text(header::LAST_MODIFIED),
        content_type: text(header::CONTENT_TYPE),
        cache_floor: headers::cache_floor(headers, SystemTime::now()),
        bytes: 0,
    }
}

pub(crate) fn status_failure(url: &Url, status: StatusCode, headers: &HeaderMap) -> FetchFailure {
    let reason = status.canonical_reason().unwrap_or("");
    let retry_after = headers::retry_after(headers, SystemTime::now());
    let mut message = format!("{url}: HTTP {} {reason}", status.as_u16());
    if let Some(delay) = retry_after {
        message.push_str(&format!(" (retry after {} s)", delay.as_secs()));
    }
    FetchFailure {
        kind: FailureKind::HttpStatus,
        status: Some(status.as_u16()),
        message,
        retry_after,
    }
}

/// Whether `e` is a TLS failure. The connector hands it up wrapped in `io::Error`s (two), whose `source()` skips
/// to the TLS error's own source (none), so the wrappers are looked into.
fn is_tls(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut inner: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(e) = inner {
        if e.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .map(|e| e as &(dyn std::error::Error + 'static));
    }
    false
}

/// Turns a reqwest error into a failure kind and a one-line message naming the root cause.
pub(crate) fn classify(err: &reqwest::Error, url: &Url) -> FetchFailure {
    let mut kind = None;
    let mut root = err.to_string();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = err.source();
    while let Some(e) = cause {
        if kind.is_none() {
            if e.downcast_ref::<guard::Refused>().is_some() {
                kind = Some(FailureKind::PrivateAddress);
            } else if e.downcast_ref::<guard::DnsFailure>().is_some() {
                kind = Some(FailureKind::Dns);
            } else if is_tls(e) {
                kind = Some(FailureKind::Tls);
            }
        }
        root = e.to_string();
        cause = e.source();
    }
    let kind = kind.unwrap_or(if err.is_timeout() {
        FailureKind::Timeout
    } else if err.is_connect() {
        FailureKind::Connect
    } else if err.is_body() || err.is_decode() {
        FailureKind::Body
    } else {
        FailureKind::Other
    });
    let what = match kind {
        FailureKind::Connect => "cannot connect",
        FailureKind::Timeout => "timed out",
        FailureKind::Body => "the body could not be read",
        FailureKind::Tls => "TLS failed",
        _ => "request failed",
    };
    let message = match kind {
        // These messages already say everything (host, address, reason).
        FailureKind::PrivateAddress | FailureKind::Dns => format!("{url}: {root}"),
        _ => format!("{url}: {what}: {root}"),
    };
    FetchFailure::new(kind, message.replace('\n', " "))
}
