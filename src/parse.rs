#[derive(Debug)]
pub struct ParseError;
impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "x")
    }
}
pub fn parse_feed(
    _b: &[u8],
    _c: Option<&str>,
    _u: &url::Url,
) -> Result<crate::model::ParsedFeed, ParseError> {
    todo!()
}
