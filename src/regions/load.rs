//! Reading and validating a gazetteer file (`data/regions.toml` format), with errors that point the operator at
//! the file, line and key to fix.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::normalize;

/// Why a gazetteer file could not be used. Every variant names the file; syntax and content errors also name the
/// line (1-based) and the key, so the operator can go straight to the mistake.
#[derive(Debug, thiserror::Error)]
pub enum GazetteerError {
    #[error("cannot read gazetteer file {path}: {source} (check the configured gazetteer path, or remove the setting to use the built-in gazetteer)")]
    /// The gazetteer file could not be read.
    Read {
        /// The gazetteer file.
        path: PathBuf,
        #[source]
        /// Why it could not be read.
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message} (fix the TOML there; the comments at the top of the shipped data/regions.toml describe the format)")]
    /// The file is not valid TOML.
    Syntax {
        /// The gazetteer file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// The parser's message.
        message: String,
    },
    #[error("{path}:{line}: key `{key}`: {message}")]
    /// An entry breaks a rule.
    Invalid {
        /// The gazetteer file.
        path: PathBuf,
        /// 1-based line of the entry.
        line: usize,
        /// The key at fault.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// How an entity counts when tagging and comparing stories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    Country,
    Republic,
    /// A wider area (Central Asia, the Caucasus): tags items, never "another partner country".
    Region,
    /// Outside the region: never tagged, only used to tell stories apart.
    Foreign,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    common: RawCommon,
    #[serde(default)]
    entity: Vec<RawEntity>,
    #[serde(default)]
    foreign: Vec<RawEntity>,
}

/// Settings that apply to every region entity.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommon {
    /// Exclude phrases added to every region entity's own (communities abroad, people "of Chechen origin").
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntity {
    id: Spanned<String>,
    name: Spanned<String>,
    kind: Option<Kind>,
    #[serde(default)]
    names: Vec<Spanned<String>>,
    #[serde(default)]
    places: Vec<Spanned<String>>,
    #[serde(default)]
    people: Vec<Spanned<String>>,
    #[serde(default)]
    demonyms: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    part_of: Vec<Spanned<String>>,
}

/// What a phrase of an entity names: how much its mention says about the entity, and whether story matching
/// keeps its own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PhraseKind {
    /// The entity's own name (كازاخستان).
    Name,
    /// A capital, city, province or site inside it.
    Place,
    /// A leader.
    Person,
    /// An adjective or people (الكازاخي، الأرمن): also used of communities and surnames elsewhere, so a weaker
    /// sign that the item is about the region.
    Demonym,
}

/// One validated entity with its phrases already folded into word sequences.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Shared, so that every item's features refer to it without a copy.
    pub id: Arc<str>,
    pub name: String,
    pub kind: Kind,
    pub phrases: Vec<Vec<String>>,
    /// Parallel to `phrases`: what each one names.
    pub kinds: Vec<PhraseKind>,
    /// Ids of wider region entities this one lies in (kz → central-asia).
    pub part_of: Arc<[Arc<str>]>,
    pub excludes: Vec<Vec<String>>,
}

/// In an exclude phrase, a word `*` stands for any one word ("أبو * الأوزبكي": a nom de guerre).
pub(crate) const WILDCARD: &str = "*";

/// Folds an exclude phrase, keeping its wildcards.
fn exclude_words(phrase: &str) -> Vec<String> {
    phrase
        .split_whitespace()
        .flat_map(|w| {
            if w == WILDCARD {
                vec![WILDCARD.to_string()]
            } else {
                phrase_words(w)
            }
        })
        .collect()
}

/// Folds one gazetteer phrase the way text is folded, so both meet in the same form.
pub(crate) fn phrase_words(phrase: &str) -> Vec<String> {
    normalize::words_with(phrase, &|_| false)
}

/// Feminine, dual and plural endings of a nisba adjective (الكازاخي → الكازاخية، الكازاخيان، الكازاخيون،
/// الكازاخيين، الكازاخيتان).
fn inflections(words: &[String]) -> Vec<Vec<String>> {
    let mut out = vec![words.to_vec()];
    if let Some(last) = words.last().filter(|w| w.ends_with('ي')) {
        for suffix in ["ه", "ان", "ون", "ين", "تين", "تان"] {
            let mut v = words.to_vec();
            *v.last_mut().expect("non-empty") = format!("{last}{suffix}");
            out.push(v);
        }
    }
    out
}

fn line_of(src: &str, offset: usize) -> usize {
    src[..offset.min(src.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

pub(crate) fn parse(src: &str, path: &Path) -> Result<Vec<Entry>, GazetteerError> {
    let raw: RawFile = toml::from_str(src).map_err(|e| GazetteerError::Syntax {
        path: path.to_path_buf(),
        line: e.span().map_or(1, |s| line_of(src, s.start)),
        message: e.message().trim().to_string(),
    })?;
    let invalid =
        |span: std::ops::Range<usize>, key: &str, message: String| GazetteerError::Invalid {
            path: path.to_path_buf(),
            line: line_of(src, span.start),
            key: key.to_string(),
            message,
        };
    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    let mut part_of_refs = Vec::new();
    let tables = raw.entity.into_iter().map(|e| (e, false));
    for (e, foreign) in tables.chain(raw.foreign.into_iter().map(|e| (e, true))) {
        let id = e.id.get_ref();
        let valid_id = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_id {
            return Err(invalid(e.id.span(), "id", format!("`{id}` is not a valid id: use lower-case ASCII letters, digits and '-' (e.g. \"south-ossetia\")")));
        }
        if !seen.insert(id.clone()) {
            return Err(invalid(
                e.id.span(),
                "id",
                format!("`{id}` is used by an earlier entity: ids must be unique"),
            ));
        }
        if e.name.get_ref().trim().is_empty() {
            return Err(invalid(
                e.name.span(),
                "name",
                "the Arabic display name is empty".into(),
            ));
        }
        let kind = match (foreign, e.kind) {
            (true, None) => Kind::Foreign,
            (true, Some(_)) => {
                return Err(invalid(
                    e.id.span(),
                    "kind",
                    "a [[foreign]] table takes no kind: remove it".into(),
                ))
            }
            (false, Some(Kind::Foreign)) => {
                return Err(invalid(
                    e.id.span(),
                    "kind",
                    "use a [[foreign]] table for countries outside the region".into(),
                ))
            }
            (false, Some(k)) => k,
            (false, None) => {
                return Err(invalid(
                    e.id.span(),
                    "kind",
                    format!("entity `{id}` needs kind = \"country\", \"republic\" or \"region\""),
                ))
            }
        };
        let mut phrases = Vec::new();
        // The display name always matches too.
        let name_as_variant = Spanned::new(e.name.span(), e.name.get_ref().clone());
        let lists = [
            ("name", std::slice::from_ref(&name_as_variant)),
            ("names", &e.names[..]),
            ("places", &e.places[..]),
            ("people", &e.people[..]),
        ];
        for (key, list) in lists.into_iter().chain([("demonyms", &e.demonyms[..])]) {
            for v in list {
                let words = phrase_words(v.get_ref());
                if words.is_empty() {
                    return Err(invalid(
                        v.span(),
                        key,
                        format!(
                            "`{}` has no letters left after folding: remove it",
                            v.get_ref()
                        ),
                    ));
                }
                let kind = match key {
                    "places" => PhraseKind::Place,
                    "people" => PhraseKind::Person,
                    "demonyms" => PhraseKind::Demonym,
                    _ => PhraseKind::Name,
                };
                if kind == PhraseKind::Demonym {
                    phrases.extend(inflections(&words).into_iter().map(|w| (w, kind)));
                } else {
                    phrases.push((words, kind));
                }
            }
        }
        if e.names.is_empty() {
            return Err(invalid(
                e.id.span(),
                "names",
                format!("entity `{id}` lists no names: add at least its usual Arabic spelling"),
            ));
        }
        let mut excludes = Vec::new();
        let common = if kind == Kind::Foreign {
            &[][..]
        } else {
            &raw.common.exclude[..]
        };
        for x in e.exclude.iter().chain(common) {
            let words = exclude_words(x.get_ref());
            if words.iter().all(|w| w == WILDCARD) {
                return Err(invalid(
                    x.span(),
                    "exclude",
                    format!(
                        "`{}` has no letters left after folding: remove it",
                        x.get_ref()
                    ),
                ));
            }
            excludes.push(words);
        }
        phrases.sort();
        phrases.dedup_by(|a, b| a.0 == b.0);
        let (phrases, kinds) = phrases.into_iter().unzip();
        part_of_refs.push(e.part_of.clone());
        entries.push(Entry {
            id: id.as_str().into(),
            name: e.name.into_inner(),
            kind,
            phrases,
            kinds,
            part_of: e
                .part_of
                .iter()
                .map(|r| r.get_ref().as_str().into())
                .collect(),
            excludes,
        });
    }
    for refs in &part_of_refs {
        for r in refs {
            let target = entries.iter().find(|e| *e.id == **r.get_ref());
            if !target.is_some_and(|t| t.kind == Kind::Region) {
                return Err(invalid(
                    r.span(),
                    "part_of",
                    format!(
                        "`{}` is not the id of a kind = \"region\" entity",
                        r.get_ref()
                    ),
                ));
            }
        }
    }
    Ok(entries)
}
