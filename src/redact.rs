//! Credentials never leave the process: a source URL may carry a user name and password
//! (`http://user:secret@host/feed`) or a secret in its query (`?api_key=…`), which the operator keeps in the
//! config so that the fetch can send them. Everything qafila shows to anyone else — the published feeds'
//! `<source url>`, `/sources.opml`, `export-opml`, `qafila sources`, log lines and stored error messages — goes
//! through [`public_url`] first.
//!
//! A secret in the URL's *path* (`/feed/3f9a…`) cannot be told from an article slug and is not hidden: put such
//! feeds behind a query parameter or accept that the path is public.

use url::Url;

/// Query parameter names (lowercase) that are secret wherever they appear as a whole word of the name
/// (`key`, `api_key`, `x-auth`, `sig`).
const SECRET_WORDS: &[&str] = &[
    "key",
    "apikey",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "pass",
    "auth",
    "sig",
    "signature",
    "session",
    "sessionid",
    "sid",
    "credential",
    "credentials",
    "jwt",
    "bearer",
    "otp",
    "hmac",
];

/// Fragments that make a name secret even glued to other words (`accesstoken`, `clientSecret`, `X-Amz-Signature`).
const SECRET_FRAGMENTS: &[&str] = &[
    "token",
    "secret",
    "passw",
    "apikey",
    "api_key",
    "accesskey",
    "access_key",
    "privatekey",
    "private_key",
    "signature",
    "credential",
    "authorization",
];

/// True when a query parameter of this name probably carries a secret.
pub(crate) fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_FRAGMENTS.iter().any(|f| name.contains(f))
        || name
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| SECRET_WORDS.contains(&word))
}

/// The URL without its user name, password and secret-looking query parameters; everything else (including the
/// encoding of the parameters kept) is untouched. A value that is not a URL is returned as is, but with anything
/// before an `@` in its authority removed, so that even a malformed `user:pass@host` is not shown.
pub(crate) fn public_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(parsed) => redacted(&parsed).to_string(),
        Err(_) => strip_userinfo_text(url),
    }
}

/// [`public_url`] for a parsed URL.
pub(crate) fn redacted(url: &Url) -> Url {
    let mut out = url.clone();
    // Both fail only for URLs that cannot have credentials (`mailto:`, `data:`): nothing to hide there.
    let _ = out.set_username("");
    let _ = out.set_password(None);
    if let Some(query) = url.query() {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| {
                let raw_name = pair.split('=').next().unwrap_or("");
                let name: String = url::form_urlencoded::parse(raw_name.as_bytes())
                    .map(|(k, _)| k.into_owned())
                    .next()
                    .unwrap_or_default();
                !is_secret_param(&name)
            })
            .collect();
        if kept.len() != query.split('&').count() {
            let kept = kept.join("&");
            out.set_query((!kept.is_empty()).then_some(kept.as_str()));
        }
    }
    out
}

/// `text` with every `http://` or `https://` URL in it passed through [`public_url`]: for messages (fetch errors,
/// log lines) that quote URLs among other words.
pub(crate) fn public_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let next_url = |s: &str| {
        [s.find("http://"), s.find("https://")]
            .into_iter()
            .flatten()
            .min()
    };
    while let Some(start) = next_url(rest) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | ')'))
            .unwrap_or(tail.len());
        // Punctuation that ends the sentence (`URL: reason`) is not part of the URL.
        let url = tail[..end].trim_end_matches([':', ',', ';', '.']);
        out.push_str(&public_url(url));
        rest = &tail[url.len()..];
    }
    out.push_str(rest);
    out
}

fn strip_userinfo_text(text: &str) -> String {
    let (scheme, rest) = match text.find("://") {
        Some(i) => text.split_at(i + 3),
        None => ("", text),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}{}", &rest[at + 1..]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_removed() {
        assert_eq!(
            public_url("http://user:secret@host.example/feed"),
            "http://host.example/feed"
        );
        assert_eq!(
            public_url("https://user@host.example:8443/a?b=1"),
            "https://host.example:8443/a?b=1"
        );
    }

    #[test]
    fn secret_parameters_are_removed_and_others_kept_verbatim() {
        assert_eq!(
            public_url("http://h.example/feed?api_key=abc&cat=%D8%A2%D8%B3%D9%8A%D8%A7&token=t"),
            "http://h.example/feed?cat=%D8%A2%D8%B3%D9%8A%D8%A7"
        );
        assert_eq!(
            public_url("http://h.example/feed?key=1&Access_Token=2&X-Amz-Signature=3&sig=4&page=2"),
            "http://h.example/feed?page=2"
        );
        assert_eq!(
            public_url("http://h.example/feed?apikey=1#top"),
            "http://h.example/feed#top"
        );
        assert_eq!(
            public_url("http://h.example/feed?format=rss&lang=ar"),
            "http://h.example/feed?format=rss&lang=ar"
        );
    }

    #[test]
    fn secret_names() {
        for name in [
            "key",
            "api_key",
            "apiKey",
            "access_token",
            "accesstoken",
            "refresh-token",
            "client_secret",
            "password",
            "passwd",
            "pwd",
            "auth",
            "x-auth",
            "sig",
            "signature",
            "X-Amz-Credential",
            "session_id",
            "private_key",
            "authorization",
        ] {
            assert!(is_secret_param(name), "{name} must be hidden");
        }
        for name in [
            "page", "cat", "lang", "format", "author", "keyword", "id", "q", "region",
        ] {
            assert!(!is_secret_param(name), "{name} must be kept");
        }
    }

    #[test]
    fn urls_inside_messages_are_redacted() {
        assert_eq!(
            public_text(
                "http://u:p@a.example/f?token=1: HTTP 404 (from https://b.example/x?key=2)"
            ),
            "http://a.example/f: HTTP 404 (from https://b.example/x)"
        );
        assert_eq!(public_text("no url here"), "no url here");
    }

    #[test]
    fn text_that_is_not_a_url_loses_its_userinfo() {
        assert_eq!(
            public_url("http://u:p@exa mple/feed"),
            "http://exa mple/feed"
        );
        assert_eq!(public_url("not a url"), "not a url");
    }
}
