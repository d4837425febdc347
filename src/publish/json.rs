//! (being written)
use super::*;
pub fn render_json(_m: &FeedMeta, _s: &[StoryView], _b: DateTime<Utc>) -> String {
    String::new()
}
