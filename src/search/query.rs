//! The query language, parsed into a value and compiled into an FTS5 `MATCH` expression.
//!
//! - words are all required: `الغاز كازاخستان`;
//! - `"…"` (or «…», “…”) is a phrase: its words must appear in this order (common words in between are ignored,
//!   as they are not indexed); a word that punctuation splits (`الشمال–الجنوب`, `COP-29`) is a phrase too;
//! - `OR` (or `أو`) between words or phrases: either one; `OR` binds tighter than the implied AND, so
//!   `الغاز النفط OR الذهب` is الغاز AND (النفط OR الذهب);
//! - a leading `-` excludes a word, a phrase or a country: `-روسيا`, `-"بحر قزوين"`, `-country:ru`;
//! - `country:ID` keeps stories tagged with that region entity (`kz`, `chechnya`, …); several mean any of them.
//!
//! User text never reaches FTS5's parser: every word is folded ([`super::words`]) into letters, digits and `.`,
//! then written as a double-quoted string, and the operators are our own. A query the language cannot express is
//! a [`QueryError`] value with a message in English (CLI) and Arabic (the page), never an FTS5 error.

use std::fmt;

use super::words::{lookup_forms, query_words};

/// Longest query accepted, in characters.
pub(crate) const MAX_QUERY_CHARS: usize = 256;
/// Most words a query may hold (phrases count each word; excluded words count too).
pub(crate) const MAX_WORDS: usize = 12;
/// Most `country:` filters in one query.
pub(crate) const MAX_COUNTRIES: usize = 6;

/// Why a query cannot be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum QueryError {
    TooLong { chars: usize },
    TooManyWords { words: usize },
    TooManyCountries { countries: usize },
    UnclosedQuote,
    DanglingOr,
    ExcludedInOr,
    CountryInOr,
    UnknownCountry { id: String, known: Vec<String> },
    EmptyExclusion,
    Empty,
    OnlyExclusions,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::TooLong { chars } => write!(
                f,
                "the query is too long ({chars} characters; at most {MAX_QUERY_CHARS})"
            ),
            QueryError::TooManyWords { words } => write!(
                f,
                "the query has too many words ({words}; at most {MAX_WORDS})"
            ),
            QueryError::TooManyCountries { countries } => write!(
                f,
                "the query has too many country: filters ({countries}; at most {MAX_COUNTRIES})"
            ),
            QueryError::UnclosedQuote => {
                f.write_str("a quotation mark is not closed: end the phrase with another \"")
            }
            QueryError::DanglingOr => f.write_str("OR must stand between two words or phrases"),
            QueryError::ExcludedInOr => {
                f.write_str("an excluded word (-word) cannot be joined with OR")
            }
            QueryError::CountryInOr => f.write_str(
                "country: filters cannot be joined with OR (several country: filters already mean any of them)",
            ),
            QueryError::UnknownCountry { id, known } => {
                write!(f, "unknown country id `{id}`; known ids: {}", known.join(", "))
            }
            QueryError::EmptyExclusion => {
                f.write_str("'-' must be followed by a word, a phrase or country:ID")
            }
            QueryError::Empty => f.write_str(
                "the query has no word to search for (very common words such as في، من، على are not indexed)",
            ),
            QueryError::OnlyExclusions => {
                f.write_str("say what to look for, not only what to leave out")
            }
        }
    }
}

impl QueryError {
    /// The message for the Arabic page.
    pub(crate) fn message_ar(&self) -> String {
        match self {
            QueryError::TooLong { chars } => {
                format!("نص البحث طويل جداً ({chars} حرفاً، والحد الأقصى {MAX_QUERY_CHARS}).")
            }
            QueryError::TooManyWords { words } => {
                format!("كلمات البحث كثيرة ({words}، والحد الأقصى {MAX_WORDS}).")
            }
            QueryError::TooManyCountries { countries } => {
                format!("مرشحات country: كثيرة ({countries}، والحد الأقصى {MAX_COUNTRIES}).")
            }
            QueryError::UnclosedQuote => {
                "علامة التنصيص غير مغلقة: أغلق العبارة بعلامة \" أخرى.".into()
            }
            QueryError::DanglingOr => "يجب أن تقع OR (أو) بين كلمتين أو عبارتين.".into(),
            QueryError::ExcludedInOr => "لا يمكن ربط كلمة مستبعدة (-كلمة) بـ OR.".into(),
            QueryError::CountryInOr => {
                "لا يمكن ربط country: بـ OR؛ تكرار country: يعني أياً من البلدان.".into()
            }
            QueryError::UnknownCountry { id, known } => format!(
                "معرّف البلد «{id}» غير معروف. المعرّفات المتاحة: {}.",
                known.join("، ")
            ),
            QueryError::EmptyExclusion => "يجب أن تلي علامةَ - كلمةٌ أو عبارة أو country:معرّف.".into(),
            QueryError::Empty => {
                "لا توجد كلمة يُبحث عنها (الكلمات الشائعة مثل في، من، على لا تُفهرس).".into()
            }
            QueryError::OnlyExclusions => "حدِّد ما تبحث عنه، لا ما تستبعده فقط.".into(),
        }
    }
}

/// A word or a phrase: folded, article-stripped words in order (one word, or a phrase of several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Term {
    pub words: Vec<String>,
}

/// A parsed query: every clause must match (each clause is one or more terms joined by OR), no excluded term may,
/// and when countries are named the item must be tagged with one of them and with none of the excluded ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Query {
    pub clauses: Vec<Vec<Term>>,
    pub excluded: Vec<Term>,
    pub countries: Vec<String>,
    pub excluded_countries: Vec<String>,
}

/// One lexical element of the raw query.
#[derive(Debug, PartialEq)]
enum Token {
    Or,
    /// Text of a word chunk or a phrase, whether it is a phrase, whether it is excluded.
    Text {
        text: String,
        phrase: bool,
        negated: bool,
    },
    Country {
        id: String,
        negated: bool,
    },
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '«' | '»' | '“' | '”' | '„')
}

fn is_minus(c: char) -> bool {
    matches!(c, '-' | '−' | '–')
}

fn lex(raw: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<char> = raw.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let negated = is_minus(chars[i]);
        if negated {
            i += 1;
            if i >= chars.len() || chars[i].is_whitespace() {
                return Err(QueryError::EmptyExclusion);
            }
        }
        if is_quote(chars[i]) {
            let start = i + 1;
            let end = (start..chars.len())
                .find(|&j| is_quote(chars[j]))
                .ok_or(QueryError::UnclosedQuote)?;
            tokens.push(Token::Text {
                text: chars[start..end].iter().collect(),
                phrase: true,
                negated,
            });
            i = end + 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && !is_quote(chars[i]) {
            i += 1;
        }
        let chunk: String = chars[start..i].iter().collect();
        let lower = chunk.to_lowercase();
        if let Some(id) = lower.strip_prefix("country:") {
            tokens.push(Token::Country {
                id: id.to_string(),
                negated,
            });
        } else if !negated && (chunk == "OR" || crate::normalize::normalize(&chunk) == "او") {
            tokens.push(Token::Or);
        } else {
            tokens.push(Token::Text {
                text: chunk,
                phrase: false,
                negated,
            });
        }
    }
    Ok(tokens)
}

/// Whether `t` may stand next to an OR.
fn joinable(t: Option<&Token>) -> Result<(), QueryError> {
    match t {
        Some(Token::Text { negated: false, .. }) => Ok(()),
        Some(Token::Text { negated: true, .. }) => Err(QueryError::ExcludedInOr),
        Some(Token::Country { .. }) => Err(QueryError::CountryInOr),
        Some(Token::Or) | None => Err(QueryError::DanglingOr),
    }
}

impl Query {
    /// Parses `raw`. `known_countries` are the region entity ids `country:` accepts; `is_known` tells which folded
    /// words the gazetteer knows (a proclitic in front of one is stripped, as in story matching).
    pub(crate) fn parse(
        raw: &str,
        known_countries: &[String],
        is_known: &dyn Fn(&str) -> bool,
    ) -> Result<Query, QueryError> {
        let chars = raw.chars().count();
        if chars > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong { chars });
        }
        let tokens = lex(raw)?;
        for (i, t) in tokens.iter().enumerate() {
            if *t == Token::Or {
                joinable(i.checked_sub(1).and_then(|p| tokens.get(p)))?;
                joinable(tokens.get(i + 1))?;
            }
        }
        let mut query = Query::default();
        let mut words = 0;
        let mut joined = false;
        for t in tokens {
            match t {
                Token::Or => joined = true,
                Token::Country { id, negated } => {
                    if !known_countries.contains(&id) {
                        return Err(QueryError::UnknownCountry {
                            id,
                            known: known_countries.to_vec(),
                        });
                    }
                    let list = if negated {
                        &mut query.excluded_countries
                    } else {
                        &mut query.countries
                    };
                    if !list.contains(&id) {
                        list.push(id);
                    }
                }
                Token::Text {
                    text,
                    phrase,
                    negated,
                } => {
                    // A chunk punctuation splits into several words is a phrase; a phrase keeps every proclitic,
                    // exactly as the index stores its words.
                    let plain = query_words(&text, &|_| false);
                    let folded = if phrase || plain.len() > 1 {
                        plain
                    } else {
                        query_words(&text, is_known)
                    };
                    words += folded.len();
                    if words > MAX_WORDS {
                        return Err(QueryError::TooManyWords { words });
                    }
                    // A chunk that folds to nothing (a stopword) leaves an OR before it to the next word.
                    if folded.is_empty() {
                        continue;
                    }
                    let was_joined = std::mem::take(&mut joined);
                    let term = Term { words: folded };
                    match (negated, was_joined, query.clauses.last_mut()) {
                        (true, _, _) => query.excluded.push(term),
                        (false, true, Some(clause)) => clause.push(term),
                        (false, _, _) => query.clauses.push(vec![term]),
                    }
                }
            }
        }
        let countries = query.countries.len() + query.excluded_countries.len();
        if countries > MAX_COUNTRIES {
            return Err(QueryError::TooManyCountries { countries });
        }
        if query.clauses.is_empty() && query.countries.is_empty() {
            return Err(
                if query.excluded.is_empty() && query.excluded_countries.is_empty() {
                    QueryError::Empty
                } else {
                    QueryError::OnlyExclusions
                },
            );
        }
        Ok(query)
    }

    /// The FTS5 expression for this query over the index's `title`, `body` and `entities` columns. Built only
    /// from folded words (letters, digits, `.`) in double quotes and our own operators. (The store runs
    /// [`Query::to_match_in`]; this is every form, for tests.)
    #[cfg(test)]
    pub(crate) fn to_match(&self) -> String {
        self.to_match_in(&mut |_| true)
    }

    /// [`Query::to_match`] with a phrase built only from the word forms `indexed` says the index holds (a word
    /// with none keeps its first form, so the expression stays valid). A phrase is every combination of its
    /// words' forms (up to ~30 each), but few forms of a word occur in any text: asking once per form is far
    /// cheaper than FTS5 opening each absent form in every combination, and it lets the phrase spend its
    /// [`MAX_PHRASE_FORMS`] on forms that can match. A single word's forms go in as they are: FTS5 opens each
    /// once anyway, and asking first measured slower.
    pub(crate) fn to_match_in(&self, indexed: &mut dyn FnMut(&str) -> bool) -> String {
        let text = "{title body}";
        let mut required = Vec::new();
        if !self.clauses.is_empty() {
            let clauses: Vec<String> = self
                .clauses
                .iter()
                .map(|c| any_of(c.iter().map(|t| term_match(t, &mut *indexed))))
                .collect();
            required.push(format!("{text} : ({})", clauses.join(" AND ")));
        }
        if !self.countries.is_empty() {
            required.push(format!(
                "entities : {}",
                any_of(self.countries.iter().map(|c| quoted(c)))
            ));
        }
        let mut expr = required.join(" AND ");
        if !self.excluded.is_empty() {
            expr = format!(
                "({expr}) NOT {text} : {}",
                any_of(self.excluded.iter().map(|t| term_match(t, &mut *indexed)))
            );
        }
        if !self.excluded_countries.is_empty() {
            expr = format!(
                "({expr}) NOT entities : {}",
                any_of(self.excluded_countries.iter().map(|c| quoted(c)))
            );
        }
        expr
    }
}

/// `(a OR b OR …)`.
fn any_of(parts: impl Iterator<Item = String>) -> String {
    format!("({})", parts.collect::<Vec<_>>().join(" OR "))
}

/// One FTS5 string: the index tokenizer splits it at spaces, so several words are a phrase.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Most FTS5 strings one phrase expands to. Every word of a phrase is looked up under each of its forms, and a
/// phrase is one FTS5 string per combination, so each word keeps only its likeliest forms when the product would
/// pass this (two words keep 16 each; three 6; four 4; five to eight 2).
pub(crate) const MAX_PHRASE_FORMS: usize = 256;

/// How many forms each word of an `n`-word phrase keeps: the most that stay within [`MAX_PHRASE_FORMS`].
fn forms_per_word(n: usize) -> usize {
    (2..=MAX_PHRASE_FORMS)
        .take_while(|k| {
            k.checked_pow(n as u32)
                .is_some_and(|v| v <= MAX_PHRASE_FORMS)
        })
        .last()
        .unwrap_or(1)
}

/// A word under each of its index forms, or a phrase as every combination of its words' forms (a proclitic or a
/// pronoun may be on any word of it: "ممر الشمال وجنوب", "رئيس حكومتها").
fn term_match(term: &Term, indexed: &mut dyn FnMut(&str) -> bool) -> String {
    if let [word] = term.words.as_slice() {
        return any_of(lookup_forms(word).iter().map(|f| quoted(f)));
    }
    // Forms are likeliest first, so asking can stop at the first `keep` the index holds.
    let keep = forms_per_word(term.words.len());
    let forms: Vec<Vec<String>> = term
        .words
        .iter()
        .map(|w| {
            let all = lookup_forms(w);
            let held: Vec<String> = all
                .iter()
                .filter(|f| indexed(f))
                .take(keep)
                .cloned()
                .collect();
            if held.is_empty() {
                all.into_iter().take(1).collect()
            } else {
                held
            }
        })
        .collect();
    let mut phrases = vec![String::new()];
    for word_forms in &forms {
        phrases = phrases
            .iter()
            .flat_map(|start| {
                word_forms.iter().map(move |f| match start.as_str() {
                    "" => f.clone(),
                    _ => format!("{start} {f}"),
                })
            })
            .collect();
    }
    any_of(phrases.iter().map(|p| quoted(p)))
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
