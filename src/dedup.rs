//! (stub until the matching core lands)
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedupSettings {
    #[serde(default)]
    pub window_hours: u32,
}
use chrono::{DateTime, Utc};
#[derive(Clone, Debug)]
pub struct ItemFeatures;
impl ItemFeatures {
    pub fn entities(&self) -> &[crate::model::EntityTag] {
        &[]
    }
}
pub fn features(_t: &str, _s: Option<&str>, _g: &crate::regions::Gazetteer) -> ItemFeatures {
    ItemFeatures
}
pub struct StoryIndex;
impl StoryIndex {
    pub fn new(_s: DedupSettings) -> StoryIndex {
        StoryIndex
    }
    pub fn place(&self, _f: &ItemFeatures, _p: DateTime<Utc>) -> Option<i64> {
        None
    }
    pub fn insert(&mut self, _i: i64, _s: i64, _f: ItemFeatures, _p: DateTime<Utc>) {}
    pub fn evict_older_than(&mut self, _c: DateTime<Utc>) {}
}
pub struct Explanation;
impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "x")
    }
}
pub fn explain(
    _a: &ItemFeatures,
    _at: DateTime<Utc>,
    _b: &ItemFeatures,
    _bt: DateTime<Utc>,
    _s: &DedupSettings,
) -> Explanation {
    Explanation
}
