//! (being written)
use super::*;
pub fn render_atom(_m: &FeedMeta, _s: &[StoryView], _b: DateTime<Utc>) -> String {
    String::new()
}
