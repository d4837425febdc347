//! The day archive page (`/day/YYYY-MM-DD`): one UTC day's stories on the same Arabic page as the home page,
//! with links to the nearest older and newer days that have stories, and the home page's link into it.
//!
//! Times on an archive page are absolute only ("٢٧ نوفمبر ٢٠٢٦، ١٤:٠٥ ت.ع.م"): the page is about a date, and a
//! relative time would change its bytes (and `ETag`) every minute for nothing.

use chrono::{DateTime, NaiveDate, Utc};

use super::html::{render_page, NavLink, PageExtras, Pager};
use super::timefmt::day_ar;
use super::FeedMeta;
use crate::model::{EntityTag, StoryView};

/// The archive path of `day`: `/day/2026-11-27`.
pub(crate) fn day_path(day: NaiveDate) -> String {
    format!("/day/{}", day.format("%Y-%m-%d"))
}

/// The link to the archive of `day` as a newer day (`next`) or an older one.
pub(crate) fn day_link(day: NaiveDate, newer: bool) -> NavLink {
    let which = if newer {
        "اليوم التالي"
    } else {
        "اليوم السابق"
    };
    NavLink {
        href: day_path(day),
        label: format!("{which}: {}", day_ar(day)),
    }
}

/// The link back to the latest stories.
pub(crate) fn home_link() -> NavLink {
    NavLink {
        href: "/".into(),
        label: "آخر الأخبار".into(),
    }
}

/// The home page's way back in time: the archive of the day of its oldest story, which goes on where the home page
/// stops (and links to the days before it). `None` while there are no stories.
pub(crate) fn older_than(stories: &[StoryView]) -> Option<Pager> {
    let day = stories.last()?.lead.published.date_naive();
    Some(Pager {
        newer: None,
        older: Some(NavLink {
            href: day_path(day),
            label: format!("أخبار أقدم: أرشيف {}", day_ar(day)),
        }),
    })
}

/// Renders `/day/YYYY-MM-DD`. `notice` is shown above the stories (an empty day, a day longer than the page).
pub(crate) fn render_day_page(
    meta: &FeedMeta,
    day: NaiveDate,
    stories: &[StoryView],
    pager: &Pager,
    notice: Option<&str>,
    entity_links: &[EntityTag],
) -> String {
    render_page(
        meta,
        &format!("أخبار {}", day_ar(day)),
        stories,
        &[],
        entity_links,
        DateTime::<Utc>::UNIX_EPOCH,
        &PageExtras {
            notice,
            pager: Some(pager),
            timeless: true,
            ..PageExtras::default()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::tests::{meta, stories};

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
    }

    fn pager() -> Pager {
        Pager {
            newer: Some(day_link(day().succ_opt().unwrap(), true)),
            older: Some(day_link(
                NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
                false,
            )),
        }
    }

    #[test]
    fn the_day_page_has_its_date_its_stories_and_both_neighbours() {
        let p = render_day_page(&meta(), day(), &stories(), &pager(), None, &[]);
        assert!(p.contains("<html lang=\"ar\" dir=\"rtl\">"));
        assert!(p.contains("<h1>أخبار ٢٧ نوفمبر ٢٠٢٦</h1>"), "{p}");
        assert!(p.contains("<title>أخبار ٢٧ نوفمبر ٢٠٢٦ | قافلة"));
        assert_eq!(p.matches("<li class=\"story\">").count(), 2);
        assert!(p.contains(
            "<a class=\"newer\" rel=\"next\" href=\"/day/2026-11-28\">→ اليوم التالي: ٢٨ نوفمبر ٢٠٢٦</a>"
        ));
        assert!(p.contains(
            "<a class=\"older\" rel=\"prev\" href=\"/day/2026-11-20\">اليوم السابق: ٢٠ نوفمبر ٢٠٢٦ ←</a>"
        ));
        assert!(p.contains("<link rel=\"next\" href=\"/day/2026-11-28\">\n<link rel=\"prev\" href=\"/day/2026-11-20\">\n<style>"));
        assert!(p.contains("<p class=\"also\">أيضاً في:"));
        assert!(p.contains("<time datetime=\"2026-11-27T11:00:00Z\">"));
        assert!(
            !p.contains("class=\"ago\""),
            "an archive page has no relative times"
        );
        assert!(!p.to_ascii_lowercase().contains("<script"));
    }

    #[test]
    fn an_empty_day_says_so_and_still_leads_on() {
        let pager = Pager {
            newer: Some(home_link()),
            older: pager().older,
        };
        let p = render_day_page(
            &meta(),
            day(),
            &[],
            &pager,
            Some("لا أخبار في هذا اليوم."),
            &[],
        );
        assert!(p.contains("<p class=\"notice\">لا أخبار في هذا اليوم.</p>"));
        assert!(!p.contains("<ol"));
        assert!(p.contains("href=\"/\">→ آخر الأخبار</a>"));
        assert!(p.contains("href=\"/day/2026-11-20\""));
    }

    #[test]
    fn the_home_page_links_to_the_day_of_its_oldest_story() {
        let s = stories();
        let oldest = s.last().unwrap().lead.published.date_naive();
        let pager = older_than(&s).unwrap();
        assert_eq!(pager.newer, None);
        assert_eq!(pager.older.unwrap().href, day_path(oldest));
        assert_eq!(older_than(&[]), None);
        assert_eq!(
            day_path(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()),
            "/day/1970-01-01"
        );
    }
}
