use crate::model::EntityTag;
pub struct Gazetteer;
#[derive(Debug)]
pub struct GazetteerError;
impl std::fmt::Display for GazetteerError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "x")
    }
}
impl Gazetteer {
    pub fn builtin() -> Gazetteer {
        Gazetteer
    }
    pub fn load(_p: &std::path::Path) -> Result<Gazetteer, GazetteerError> {
        todo!()
    }
    pub fn entities(&self) -> Vec<EntityTag> {
        vec![]
    }
    pub fn fingerprint(&self) -> String {
        String::new()
    }
}
