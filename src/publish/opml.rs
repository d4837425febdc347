//! (being written)
use super::*;
pub fn render_opml(_t: &str, _s: &[OpmlSource], _b: DateTime<Utc>) -> String {
    String::new()
}
