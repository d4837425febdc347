//! (stub until the matching core lands)
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedupSettings {
    #[serde(default)]
    pub window_hours: u32,
}
