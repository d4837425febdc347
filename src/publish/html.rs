//! (being written)
use super::*;
use crate::model::EntityTag;
pub fn render_html(
    _m: &FeedMeta,
    _h: &str,
    _s: &[StoryView],
    _a: &[PageLink],
    _e: &[EntityTag],
    _n: DateTime<Utc>,
) -> String {
    String::new()
}
