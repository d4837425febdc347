//! The floor a poll round is measured against (`bench/poll_compare.py`): parse every feed file of a directory with
//! feed-rs and insert its entries with rusqlite, one transaction per file, in a WAL database with
//! `synchronous = FULL` like qafila's. No fetching, no matching, no publishing: what any aggregator must at
//! least pay to store the same round.
//!
//! `cargo run --release --example poll_floor -- FEEDS_DIR DB_PATH`

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(db)) = (args.next(), args.next()) else {
        return Err("usage: poll_floor FEEDS_DIR DB_PATH".into());
    };
    let started = Instant::now();
    let mut conn = rusqlite::Connection::open(&db)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         CREATE TABLE IF NOT EXISTS items (
             id INTEGER PRIMARY KEY,
             source TEXT NOT NULL,
             guid TEXT NOT NULL,
             link TEXT,
             title TEXT NOT NULL,
             summary TEXT,
             published INTEGER,
             UNIQUE (source, guid)
         );",
    )?;
    let mut files: Vec<_> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    let mut items = 0;
    for path in &files {
        let source = path.file_stem().unwrap_or_default().to_string_lossy();
        let feed = feed_rs::parser::parse(&std::fs::read(path)?[..])?;
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO items (source, guid, link, title, summary, published)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for e in &feed.entries {
                insert.execute(rusqlite::params![
                    source,
                    e.id,
                    e.links.first().map(|l| l.href.as_str()),
                    e.title.as_ref().map_or("", |t| t.content.as_str()),
                    e.summary.as_ref().map(|s| s.content.as_str()),
                    e.published.map(|t| t.timestamp()),
                ])?;
                items += 1;
            }
        }
        tx.commit()?;
    }
    println!(
        "floor: {} files, {items} items in {:.3} s",
        files.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
