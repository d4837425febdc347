//! From stored stories to what the publisher renders.

use std::collections::HashMap;

use crate::config::{Config, SourceConfig};
use crate::model::{ReportView, StoryView};
use crate::publish::{safe_link, SanitizeCache};
use crate::regions::Gazetteer;
use crate::store::StoredStory;

/// Turns stored stories into what the publisher renders: outlet names from the config, entity names from the
/// gazetteer, one "also reported by" entry per other outlet, and the lead's description sanitized (once per item:
/// `sanitized` keeps it from one round to the next; items stored before `[limits] max_content_bytes` existed are
/// cut to it first).
pub(crate) fn story_views(
    config: &Config,
    gazetteer: &Gazetteer,
    stories: Vec<StoredStory>,
    sanitized: &SanitizeCache,
) -> Vec<StoryView> {
    let max_content = config.limits.max_content_bytes;
    // Credentials in a configured URL are for the fetch only: the published one is redacted (once per source).
    let sources: HashMap<&str, (&SourceConfig, String)> = config
        .sources
        .iter()
        .map(|s| (s.id(), (s, crate::redact::redacted(&s.url).to_string())))
        .collect();
    let report = |item: &crate::store::StoredItem| {
        let (name, url) = match sources.get(item.source_id.as_str()) {
            Some((s, public)) => (s.name.clone(), public.clone()),
            None => (item.source_id.clone(), String::new()),
        };
        ReportView {
            title: item.title.clone(),
            link: item.link.as_deref().map(crate::identity::clean_link),
            description: None,
            author: item.author.clone(),
            published: item.sort_time,
            source_id: item.source_id.clone(),
            source_name: name,
            source_url: url,
            media: item.media.clone(),
        }
    };
    let views = stories
        .into_iter()
        .filter(|s| !s.items.is_empty())
        .map(|story| {
            let lead = &story.items[0];
            let mut outlets = vec![lead.source_id.as_str()];
            let mut also = Vec::new();
            for item in &story.items[1..] {
                if !outlets.contains(&item.source_id.as_str()) {
                    outlets.push(&item.source_id);
                    also.push(report(item));
                }
            }
            let mut lead_view = report(lead);
            lead_view.published = story.published;
            // Only the lead's description is published.
            let base = lead_view.link.as_deref().and_then(safe_link);
            lead_view.description = lead
                .content
                .as_deref()
                .or(lead.summary.as_deref())
                .map(|html| sanitized.sanitize(html, base.as_ref(), max_content));
            let ids: Vec<&str> = story
                .items
                .iter()
                .flat_map(|i| i.entities.iter().map(String::as_str))
                .collect();
            let entities = gazetteer
                .entities()
                .into_iter()
                .filter(|e| ids.contains(&e.id.as_str()))
                .collect();
            // One picture per story: the first report's, else the first any other report has.
            let picture = story
                .items
                .iter()
                .find_map(|i| i.media.iter().find(|m| m.is_image()))
                .cloned();
            StoryView {
                guid: story.guid,
                lead: lead_view,
                also,
                entities,
                picture,
            }
        })
        .collect();
    sanitized.end_round();
    views
}
