use std::io::Read;
use std::path::Path;

use super::*;
use crate::publish::tests::stories;

fn config(dir: &Path) -> Config {
    let text = format!(
        "[feed]\ntitle = \"قافلة\"\ndescription = \"test\"\nlink = \"http://127.0.0.1/\"\n\
         self_url = \"http://127.0.0.1/feed.xml\"\noutput = \"{}/out/feed.xml\"\n\
         [storage]\ndatabase = \"{}/q.db\"\n\
         [[source]]\nid = \"a\"\nname = \"a\"\nurl = \"http://127.0.0.1:9/a.xml\"\n",
        dir.display(),
        dir.display()
    );
    Config::parse(&text, Path::new("qafila.toml")).unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &bytes[..], &mut out).unwrap();
    out
}

#[test]
fn poll_writes_the_very_feed_the_daemon_publishes() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let (site, stories) = (Site::default(), stories());
    let now = Utc::now();
    rebuild(&site, &config, &Gazetteer::builtin(), &stories, now).unwrap();
    let served = site.get("/feed.xml").unwrap().body;
    assert_eq!(std::fs::read(&config.feed.output).unwrap(), &served[..]);
    std::fs::remove_file(&config.feed.output).unwrap();
    write_feed_file(&config, &stories).unwrap();
    assert_eq!(std::fs::read(&config.feed.output).unwrap(), &served[..]);
}

#[test]
fn country_slices_are_compressed_on_first_request_only_main_documents_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let site = Site::default();
    let g = Gazetteer::builtin();
    rebuild(&site, &config, &g, &stories(), Utc::now()).unwrap();
    for path in MAIN_DOCUMENTS {
        let doc = site.get(path).unwrap();
        assert!(
            doc.has_compressed(true) && doc.has_compressed(false),
            "{path}"
        );
    }
    let slice = site.get("/country/kz.xml").unwrap();
    assert!(!slice.has_compressed(true) && !slice.has_compressed(false));
    assert_eq!(slice.held_bytes(), slice.body.len());
    // The first request's form serves every later one: clones share it.
    assert_eq!(unbrotli(&slice.brotli()), &slice.body[..]);
    let again = site.get("/country/kz.xml").unwrap();
    assert!(again.has_compressed(true) && !again.has_compressed(false));
    assert_eq!(gunzip(&again.gzip()), &again.body[..]);
    assert!(slice.has_compressed(false));
    // An unchanged document keeps its forms through the next publish.
    rebuild(&site, &config, &g, &stories(), Utc::now()).unwrap();
    let kept = site.get("/country/kz.xml").unwrap();
    assert!(kept.has_compressed(true) && kept.has_compressed(false));
}
