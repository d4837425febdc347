//! Reading the response headers that steer polling: `Retry-After`, `Cache-Control: max-age` and `Expires`.
//!
//! Kept apart from the HTTP plumbing so the date arithmetic can be tested without a server.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, CACHE_CONTROL, DATE, EXPIRES, RETRY_AFTER};

fn header_str(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<&str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// `Retry-After` as a delay: either delta-seconds or an HTTP date (a date in the past means "now").
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = header_str(headers, RETRY_AFTER)?;
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// How long the server says the response stays fresh: `Cache-Control: max-age` wins over `Expires` (as in
/// RFC 9111); `Expires` is measured from the server's own `Date` when it sent one, so a skewed clock on either
/// side does not distort the delay. Returned raw: capping is the scheduler's decision.
pub(crate) fn cache_floor(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    for value in headers.get_all(CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',') {
            let directive = directive.trim();
            let Some((name, arg)) = directive.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("max-age") {
                if let Ok(secs) = arg.trim().trim_matches('"').parse::<u64>() {
                    return Some(Duration::from_secs(secs));
                }
            }
        }
    }
    let expires = httpdate::parse_http_date(header_str(headers, EXPIRES)?).ok()?;
    let reference = header_str(headers, DATE)
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .unwrap_or(now);
    Some(expires.duration_since(reference).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(reqwest::header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn retry_after_seconds_and_date() {
        let now = httpdate::parse_http_date("Sun, 01 Mar 2026 10:00:00 GMT").unwrap();
        let h = headers(&[(RETRY_AFTER, "120")]);
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(120)));
        let h = headers(&[(RETRY_AFTER, "Sun, 01 Mar 2026 10:05:00 GMT")]);
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(300)));
        let h = headers(&[(RETRY_AFTER, "Sun, 01 Mar 2026 09:00:00 GMT")]);
        assert_eq!(retry_after(&h, now), Some(Duration::ZERO));
        let h = headers(&[(RETRY_AFTER, "soon")]);
        assert_eq!(retry_after(&h, now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn cache_floor_prefers_max_age() {
        let now = httpdate::parse_http_date("Sun, 01 Mar 2026 10:00:00 GMT").unwrap();
        let h = headers(&[
            (CACHE_CONTROL, "public, Max-Age=600"),
            (EXPIRES, "Sun, 01 Mar 2026 11:00:00 GMT"),
        ]);
        assert_eq!(cache_floor(&h, now), Some(Duration::from_secs(600)));
        let h = headers(&[
            (DATE, "Sun, 01 Mar 2026 09:00:00 GMT"),
            (EXPIRES, "Sun, 01 Mar 2026 09:15:00 GMT"),
        ]);
        assert_eq!(cache_floor(&h, now), Some(Duration::from_secs(900)));
        let h = headers(&[(CACHE_CONTROL, "no-cache"), (EXPIRES, "0")]);
        assert_eq!(cache_floor(&h, now), None);
    }
}
