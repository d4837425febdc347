//! The read-only commands: `stories`, `search`, `sources` and `explain`. They open the database with a connection
//! of their own (WAL lets them run beside a live daemon) and print plain text or JSON.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::config::Config;
use crate::dedup;
use crate::error::{Error, Result};
use crate::publish::rfc3339;
use crate::startup::load_gazetteer;
use crate::store::{Store, StoredItem};

fn open(config: &Config) -> Result<Store> {
    crate::pipeline::open_store(config)
}

/// `qafila stories [--json] [--limit N]`: the stories the feed shows, newest first, with every member item.
pub fn stories(config: &Config, as_json: bool, limit: usize) -> Result<()> {
    let store = open(config)?;
    let filtered = config.region_filtered_ids();
    let mut out = Vec::new();
    for story in store.latest_stories(limit, &filtered)? {
        let items = store.story_items(story.id)?;
        let Some(lead) = items.first() else { continue };
        out.push(story_json(&story.guid, story.published, lead, &items));
    }
    print_stories(&out, as_json);
    Ok(())
}

/// `qafila search [--json] [--limit N] QUERY`: the stories matching QUERY, newest first, each led by the report
/// that matched; the same shape as `stories`.
pub fn search(config: &Config, query: &str, as_json: bool, limit: usize) -> Result<()> {
    let store = open(config)?;
    let gazetteer = load_gazetteer(config)?;
    let query = crate::search::parse(query, &gazetteer)
        .map_err(|e| Error::Usage(format!("bad query: {e}")))?;
    let mut out = Vec::new();
    for hit in store.search(&query, limit, &config.region_filtered_ids())? {
        let items = store.story_items(hit.story.id)?;
        let lead = &hit.story.items[hit.matched];
        out.push(story_json(
            &hit.story.guid,
            hit.story.published,
            lead,
            &items,
        ));
    }
    print_stories(&out, as_json);
    Ok(())
}

/// One story as `stories --json` prints it: the lead's title and link, the story's date, its entities (in the
/// order its items name them) and every item.
fn story_json(
    guid: &str,
    published: DateTime<Utc>,
    lead: &StoredItem,
    items: &[StoredItem],
) -> Value {
    let mut entities: Vec<&str> = Vec::new();
    for id in items.iter().flat_map(|i| i.entities.iter()) {
        if !entities.contains(&id.as_str()) {
            entities.push(id);
        }
    }
    json!({
        "id": guid,
        "title": lead.title,
        "link": lead.link,
        "published": rfc3339(published),
        "entities": entities,
        "items": items.iter().map(|i| json!({
            "source": i.source_id,
            "title": i.title,
            "link": i.link,
            "published": rfc3339(i.sort_time),
        })).collect::<Vec<Value>>(),
    })
}

fn print_stories(out: &[Value], as_json: bool) {
    if as_json {
        println!("{}", serde_json::to_string_pretty(out).expect("json"));
        return;
    }
    for story in out {
        let items = story["items"].as_array().map_or(0, Vec::len);
        println!(
            "{}  {}  ({items} {})",
            story["published"].as_str().unwrap_or(""),
            story["title"].as_str().unwrap_or(""),
            if items == 1 { "report" } else { "reports" }
        );
        for item in story["items"].as_array().into_iter().flatten() {
            println!(
                "    {}: {}",
                item["source"].as_str().unwrap_or(""),
                item["link"].as_str().unwrap_or("-")
            );
        }
    }
}

/// `qafila sources [--json]`: each configured source with its fetch state.
pub fn sources(config: &Config, as_json: bool) -> Result<()> {
    let store = open(config)?;
    let states = store.source_states()?;
    let mut rows = Vec::new();
    for source in &config.sources {
        let Some(s) = states.iter().find(|s| s.id == source.id()) else {
            continue;
        };
        rows.push(json!({
            "id": s.id,
            "url": crate::redact::public_url(&s.url),
            "enabled": source.enabled,
            "moved_to": s.moved_to.as_deref().map(crate::redact::public_url),
            "discovered": s.discovered.as_deref().map(crate::redact::public_url),
            "last_status": s.last_status,
            "last_error": s.last_error,
            "consecutive_failures": s.consecutive_failures,
            "last_success": s.last_success.map(rfc3339),
            "next_due": s.next_due.map(rfc3339),
            "items_stored": s.items_stored,
        }));
    }
    if as_json {
        println!("{}", serde_json::to_string_pretty(&rows).expect("json"));
        return Ok(());
    }
    for r in &rows {
        let status = match (&r["last_status"], &r["last_error"]) {
            (_, Value::String(e)) => format!("failing ×{}: {e}", r["consecutive_failures"]),
            (Value::Number(n), _) => format!("ok {n}"),
            _ => "never fetched".to_string(),
        };
        println!(
            "{:<20} {:>6} items  next {}  {}",
            r["id"].as_str().unwrap_or(""),
            r["items_stored"],
            r["next_due"].as_str().unwrap_or("now"),
            status
        );
        if let Some(feed) = r["discovered"].as_str() {
            println!("{:<20} feed found on the page: {feed}", "");
        }
    }
    Ok(())
}

/// `qafila explain URL1 URL2`: the matching figures of two stored items and the verdict.
pub fn explain(config: &Config, url1: &str, url2: &str) -> Result<()> {
    let store = open(config)?;
    let gazetteer = load_gazetteer(config)?;
    let find = |url: &str| {
        store
            .item_by_link(url)?
            .ok_or_else(|| Error::Usage(format!("no stored item has the link {url}")))
    };
    let (a, b) = (find(url1)?, find(url2)?);
    let fa = dedup::item_features(
        &a.title,
        a.summary.as_deref(),
        a.content.as_deref(),
        a.boilerplate.as_deref(),
        &gazetteer,
    );
    let fb = dedup::item_features(
        &b.title,
        b.summary.as_deref(),
        b.content.as_deref(),
        b.boilerplate.as_deref(),
        &gazetteer,
    );
    println!("A: [{}] {}", a.source_id, a.title);
    println!("B: [{}] {}", b.source_id, b.title);
    // What each outlet repeats in nearly every item counts nothing (`dedup::Boilerplate`): say which words.
    for (side, item) in [("A", &a), ("B", &b)] {
        if let Some(words) = &item.boilerplate {
            println!("{side}'s boilerplate (not counted): {words}");
        }
    }
    let stored = if a.story_id == b.story_id {
        "the same story"
    } else {
        "different stories"
    };
    println!("stored in {stored}");
    println!(
        "{}",
        dedup::explain(&fa, a.sort_time, &fb, b.sort_time, &config.dedup)
    );
    Ok(())
}

/// `qafila backup PATH`: a consistent copy of the live database.
pub fn backup(config: &Config, path: &std::path::Path) -> Result<()> {
    let store = Store::open(&config.storage.database)?;
    let bytes = store.backup_to(path)?;
    println!(
        "backed up {} to {} ({bytes} bytes)",
        config.storage.database.display(),
        path.display()
    );
    Ok(())
}

/// `qafila restore PATH`: the backup replaces the database (refused while the daemon has it open).
pub fn restore(config: &Config, path: &std::path::Path) -> Result<()> {
    crate::store::restore(path, &config.storage.database)?;
    println!(
        "restored {} from {}",
        config.storage.database.display(),
        path.display()
    );
    Ok(())
}

/// `qafila import-opml FILE`: `[[source]]` tables to append to the config.
pub fn import_opml(config: &Config, file: &std::path::Path) -> Result<()> {
    let bytes = std::fs::read(file)
        .map_err(|e| Error::Usage(format!("cannot read {}: {e}", file.display())))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::Usage(format!("{}: not UTF-8 text", file.display())))?;
    let existing: Vec<(String, String)> = config
        .sources
        .iter()
        .map(|s| (s.id().to_string(), s.url.to_string()))
        .collect();
    let toml = crate::opml_import::opml_to_toml(&text, &existing)
        .map_err(|e| Error::Usage(format!("{}: {e}", file.display())))?;
    print!("{toml}");
    Ok(())
}

/// `qafila discover URL`: the feeds a page leads to (advertised, else at the usual paths), each fetched and
/// checked, as `[[source]]` tables to append to the config; the one qafila would poll for that page comes first.
pub async fn discover(config: &Config, url: &str) -> Result<String> {
    use crate::fetch::{FetchOutcome, FetchRequest, Fetcher};
    use crate::opml_import::{comment_text, derive_id, source_table, unique_id};
    let page = url::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| Error::Usage(format!("`{url}` is not an absolute http(s) URL")))?;
    let fetcher =
        Fetcher::new(config.fetch.client_settings()).map_err(|e| Error::Internal(e.to_string()))?;
    // The page named on the command line is the operator's choice: exempt when it is a non-public IP literal.
    let allow_private = crate::fetch::private_allowed(&page, false);
    let request = FetchRequest {
        url: page.clone(),
        allow_private,
        etag: None,
        last_modified: None,
        last_to_host: false,
    };
    let (meta, body) = match fetcher.fetch(&request).await {
        FetchOutcome::Fetched { meta, body } => (meta, body),
        FetchOutcome::Failed(f) => return Err(Error::Usage(format!("cannot fetch the page: {f}"))),
        FetchOutcome::NotModified(_) => {
            return Err(Error::Usage(format!(
                "{page}: unexpected 304 without validators"
            )))
        }
    };
    let base = meta.final_url.clone();
    let found = match crate::parse::parse_feed(&body, meta.content_type.as_deref(), &base) {
        // The URL is a feed already.
        Ok(feed) => vec![crate::pipeline::FoundFeed {
            arabic: true,
            url: base.clone(),
            feed,
            meta,
        }],
        Err(_) => {
            let mut found = crate::pipeline::discover_feeds(
                &fetcher,
                &crate::pipeline::CpuSlots::beside_the_writer(),
                allow_private,
                &base,
                &body,
                meta.content_type.as_deref(),
                true,
            )
            .await?;
            // The order qafila would choose in: the first Arabic one, else the first.
            if let Some(i) = found.iter().position(|f| f.arabic) {
                let preferred = found.remove(i);
                found.insert(0, preferred);
            }
            found
        }
    };
    if found.is_empty() {
        return Err(Error::Usage(format!(
            "{page}: no feed found (none advertised with <link rel=\"alternate\">, none at /feed/, /rss, /feed.xml, \
             /index.xml…); for a site without a feed, use kind = \"html\" with select = {{ item = \"…\", title = \"…\" }}"
        )));
    }
    let mut taken: std::collections::HashSet<String> =
        config.sources.iter().map(|s| s.id().to_string()).collect();
    let mut out = format!(
        "\n# Found by `qafila discover {}`: {} feed(s); the first is the one qafila polls for this page.\n\
         # Review before appending; general outlets may want `region_filter = true`.\n",
        comment_text(page.as_str()),
        found.len()
    );
    for feed in &found {
        let host = feed.url.host_str().unwrap_or_default().to_string();
        let title = feed.feed.title.clone().unwrap_or_default();
        let language = if feed.arabic { "Arabic" } else { "not Arabic" };
        out.push('\n');
        if let Some(existing) = config.sources.iter().find(|s| {
            crate::identity::canonical_url(s.url.as_str())
                == crate::identity::canonical_url(feed.url.as_str())
        }) {
            out.push_str(&format!(
                "# skipped {} <{}>: already configured as `{}`\n",
                comment_text(&title),
                comment_text(feed.url.as_str()),
                existing.id()
            ));
            continue;
        }
        out.push_str(&format!(
            "# {} ({language}, {} items)\n",
            comment_text(if title.is_empty() { &host } else { &title }),
            feed.feed.items.len()
        ));
        let id = unique_id(&derive_id(&title, &host), &mut taken);
        let name = if title.trim().is_empty() {
            host.clone()
        } else {
            title.trim().to_string()
        };
        out.push_str(&source_table(&id, &name, feed.url.as_str()));
    }
    Ok(out)
}

/// `qafila export-opml`: the configured sources as OPML 2.0.
pub fn export_opml(config: &Config) -> Result<()> {
    print!("{}", crate::site::sources_opml(config, Utc::now()));
    Ok(())
}
