//! Typed config values, checked while the file is read: numbers within a documented range, durations from their
//! `_secs`/`_ms`/`_hours` keys, http(s) URLs, socket addresses, header-safe text and cron schedules.
//!
//! A value that fails here becomes a serde error; the TOML parser attaches the value's position to it and
//! [`super::Config::parse`] adds the key's name, so every problem reads `PATH:LINE:COL: key `…`: message` like a
//! syntax error. Nothing after [`super::Config::parse`] needs to check these values again, and nothing can panic on
//! them: a range is chosen so that every value in it is safe to add to a clock or multiply by a constant.

use std::net::SocketAddr;
use std::time::Duration;

use serde::de::{Deserializer, Error};
use serde::Deserialize;
use url::Url;

use crate::schedule::CronSchedule;

/// An integer key within `MIN..=MAX` (both inclusive).
pub(crate) fn bounded<'de, D, T, const MIN: u64, const MAX: u64>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    let value = i64::deserialize(d)?;
    let in_range = u64::try_from(value)
        .ok()
        .filter(|v| (MIN..=MAX).contains(v));
    in_range
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| D::Error::custom(format!("{value} is out of range: use {MIN} to {MAX}")))
}

/// A fraction key within 0.0..=1.0 (similarities, shares).
pub(crate) fn fraction<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    float_in(d, 0.0, 1.0)
}

/// A weight key within 0.0..=1000.0.
pub(crate) fn weight<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    float_in(d, 0.0, 1000.0)
}

fn float_in<'de, D: Deserializer<'de>>(d: D, min: f64, max: f64) -> Result<f32, D::Error> {
    let value = f64::deserialize(d)?;
    if (min..=max).contains(&value) {
        Ok(value as f32)
    } else {
        Err(D::Error::custom(format!(
            "{value} is out of range: use {min:?} to {max:?}"
        )))
    }
}

/// A `_secs` key within `MIN..=MAX` seconds.
pub(super) fn secs<'de, D, const MIN: u64, const MAX: u64>(d: D) -> Result<Duration, D::Error>
where
    D: Deserializer<'de>,
{
    bounded::<D, u64, MIN, MAX>(d).map(Duration::from_secs)
}

/// A `_ms` key within `MIN..=MAX` milliseconds.
pub(super) fn millis<'de, D, const MIN: u64, const MAX: u64>(d: D) -> Result<Duration, D::Error>
where
    D: Deserializer<'de>,
{
    bounded::<D, u64, MIN, MAX>(d).map(Duration::from_millis)
}

/// An absolute `http` or `https` URL. Control characters are refused before parsing: the URL parser would drop a
/// CR or LF silently and fetch or publish a different address than the one written.
pub(super) fn http_url<'de, D: Deserializer<'de>>(d: D) -> Result<Url, D::Error> {
    let text = String::deserialize(d)?;
    parse_http_url(&text).map_err(D::Error::custom)
}

/// [`http_url`] for an optional key.
pub(super) fn optional_http_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Url>, D::Error> {
    http_url(d).map(Some)
}

fn parse_http_url(text: &str) -> Result<Url, String> {
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(format!(
            "contains the control character {c:?}; write the URL on one line without it"
        ));
    }
    let url = Url::parse(text).map_err(|e| format!("`{text}` is not an absolute URL ({e})"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!(
            "scheme `{other}` is not http or https (in `{text}`)"
        )),
    }
}

/// An address with a port to listen on, such as `127.0.0.1:8080` or `[::1]:8080`.
pub(super) fn listen_addr<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(|_| {
        D::Error::custom(format!(
            "`{text}` is not an IP address with a port, such as 127.0.0.1:8080"
        ))
    })
}

/// Text sent as an HTTP header value: printable ASCII only (no CR or LF that would end the header), at most 256
/// characters.
pub(super) fn header_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    if text.trim().is_empty() || text.len() > 256 {
        return Err(D::Error::custom("must be 1 to 256 characters"));
    }
    if let Some(c) = text.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(D::Error::custom(format!(
            "contains {c:?}; an HTTP header value takes printable ASCII only"
        )));
    }
    Ok(text)
}

impl<'de> Deserialize<'de> for CronSchedule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        CronSchedule::parse(&text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_and_on_one_line() {
        assert!(parse_http_url("https://qafila.example/feed.xml").is_ok());
        let e = parse_http_url("javascript:alert(1)").unwrap_err();
        assert!(e.contains("scheme `javascript`"), "{e}");
        let e = parse_http_url("https://hub.example/\r\nX-Injected: 1").unwrap_err();
        assert!(e.contains("control character"), "{e}");
        assert!(parse_http_url("hub.example/ping").is_err());
    }
}
