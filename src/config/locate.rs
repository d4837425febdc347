//! Where in the config file a problem is: byte offsets from the TOML parser and `Spanned` values turned into
//! `PATH:LINE:COL`, and the dotted key name a parser message forgot to mention.

use std::ops::Range;
use std::path::Path;

use crate::error::Error;

pub(super) fn located(text: &str, path: &Path, span: Range<usize>, message: String) -> Error {
    let (line, col) = line_col(text, span.start);
    Error::Config {
        path: path.to_owned(),
        line,
        col,
        message,
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..char_floor(text, offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn char_floor(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The dotted key whose line holds `offset` (`fetch.timeout_secs`, `source[2].url`), for parser messages that name
/// only the problem. Reads the text, because the parser's error carries just a span.
pub(super) fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = char_floor(text, offset.min(text.len()));
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    let key = line.split_once('=')?.0.trim().trim_matches('"');
    if key.is_empty() || key.starts_with('[') {
        return None;
    }
    let mut table = None;
    let mut source_index = 0usize;
    for l in text[..line_start].lines() {
        let l = l.trim();
        if l == "[[source]]" {
            table = Some(format!("source[{source_index}]"));
            source_index += 1;
        } else if let Some(name) = l.strip_prefix('[').and_then(|l| l.split(']').next()) {
            table = Some(name.trim().to_string());
        }
    }
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_string(),
    })
}
/// The span of the first `key =` line in the text, for checks on plain (unspanned) values.
pub(super) fn span_of_key(text: &str, key: &str) -> Range<usize> {
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if line
            .trim_start()
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
        {
            let at = pos + (line.len() - line.trim_start().len());
            return at..at + key.len();
        }
        pos += line.len();
    }
    0..0
}
