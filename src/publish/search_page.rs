//! The search page: the Arabic page of the stories a query found, with the query in the search box and a line
//! that says what happened (a hint when there is no query, the reason a query cannot run, no results).

use chrono::{DateTime, Utc};

use super::html::{render_page, PageExtras};
use super::{FeedMeta, PageLink};
use crate::model::{EntityTag, StoryView};

/// Renders `/search?q=query`. `alternates` are the topic's feeds; `notice` is shown above the results.
pub fn render_search_page(
    meta: &FeedMeta,
    query: &str,
    notice: Option<&str>,
    stories: &[StoryView],
    alternates: &[PageLink],
    entity_links: &[EntityTag],
    now: DateTime<Utc>,
) -> String {
    let heading = if query.is_empty() {
        "البحث".to_string()
    } else {
        format!("نتائج البحث عن «{query}»")
    };
    render_page(
        meta,
        &heading,
        stories,
        alternates,
        entity_links,
        now,
        &PageExtras {
            query,
            notice,
            ..PageExtras::default()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::tests::{built_at, meta, stories};

    #[test]
    fn query_is_kept_in_the_box_and_escaped() {
        let p = render_search_page(
            &meta(),
            "\"غاز\" <b>",
            None,
            &stories(),
            &[],
            &[],
            built_at(),
        );
        assert!(
            p.contains("name=\"q\" value=\"&quot;غاز&quot; &lt;b&gt;\""),
            "{p}"
        );
        assert!(p.contains("<h1>نتائج البحث عن «&quot;غاز&quot; &lt;b&gt;»</h1>"));
        assert_eq!(p.matches("<li class=\"story\">").count(), 2);
    }

    #[test]
    fn notice_replaces_the_empty_message() {
        let p = render_search_page(&meta(), "غاز", Some("لا نتائج."), &[], &[], &[], built_at());
        assert!(p.contains("<p class=\"notice\">لا نتائج.</p>"));
        assert!(!p.contains("لا توجد أخبار بعد."));
        assert!(!p.contains("<ol"));
    }
}
