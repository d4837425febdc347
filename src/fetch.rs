use std::time::Duration;
#[derive(Clone, Default)]
pub struct FetchSettings {
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body_bytes: u64,
    pub user_agent: String,
    pub max_redirects: usize,
    pub allow_private: bool,
    pub per_host_concurrency: usize,
    pub per_host_min_gap: Duration,
}
#[derive(Clone)]
pub struct Fetcher;
#[derive(Debug)]
pub struct FetchSetupError;
impl std::fmt::Display for FetchSetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "x")
    }
}
impl Fetcher {
    pub fn new(_s: FetchSettings) -> Result<Fetcher, FetchSetupError> {
        Ok(Fetcher)
    }
    pub async fn fetch(&self, _r: &FetchRequest) -> FetchOutcome {
        todo!()
    }
}
pub struct FetchRequest {
    pub url: url::Url,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}
pub enum FetchOutcome {
    NotModified(ResponseMeta),
    Fetched { meta: ResponseMeta, body: Vec<u8> },
    Failed(FetchFailure),
}
pub struct ResponseMeta {
    pub status: u16,
    pub final_url: url::Url,
    pub permanent_redirect: Option<url::Url>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_type: Option<String>,
    pub cache_floor: Option<Duration>,
    pub bytes: u64,
}
pub struct FetchFailure {
    pub status: Option<u16>,
    pub message: String,
    pub retry_after: Option<Duration>,
}
