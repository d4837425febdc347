//! Arabic full-text search over every stored item, and a feed for any topic.
//!
//! A query ([`Query`], parsed from the little language documented in [`query`]) is folded with the same
//! normalizer as story matching ([`words`]), compiled into an FTS5 expression and run by the store against its
//! index (`store::search`), which answers with *stories*, newest first, each led by the report that matched.
//! `qafila search` prints them like `qafila stories`; the server renders them as the Arabic page `/search?q=…`
//! and as topic feeds `/search.xml|.atom|.json?q=…` ([`SearchService`]), cached until the stored items change.

pub(crate) mod query;
mod service;
pub(crate) mod words;

pub(crate) use query::{Query, QueryError};
pub(crate) use service::{query_param, Answer, Format, SearchService};

use crate::config::Config;
use crate::model::StoryView;
use crate::publish::SanitizeCache;
use crate::regions::Gazetteer;
use crate::store::SearchHit;

/// Parses `raw` against the gazetteer: `country:` takes its region ids, and a proclitic in front of a word it
/// knows is stripped.
pub(crate) fn parse(raw: &str, gazetteer: &Gazetteer) -> Result<Query, QueryError> {
    let ids: Vec<String> = gazetteer.entities().into_iter().map(|e| e.id).collect();
    Query::parse(raw, &ids, &|w| gazetteer.is_known_word(w))
}

/// Search hits as the publisher renders stories, each led by the report that matched (its title and link), the
/// story's other outlets after it.
pub(crate) fn hit_views(
    config: &Config,
    gazetteer: &Gazetteer,
    hits: Vec<SearchHit>,
    sanitized: &SanitizeCache,
) -> Vec<StoryView> {
    let stories = hits
        .into_iter()
        .map(|mut hit| {
            let matched = hit.story.items.remove(hit.matched);
            hit.story.items.insert(0, matched);
            hit.story
        })
        .collect();
    crate::pipeline::story_views(config, gazetteer, stories, sanitized)
}

#[cfg(test)]
#[path = "search/forms_tests.rs"]
mod forms_tests;
