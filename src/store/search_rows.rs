//! The search index rows of a batch's new items: their text folded on a thread of its own while the writer goes
//! on with the batch's statements, and written to `item_search` together just before the commit.
//!
//! **Why after the batch, not one insert beside each item's own, and in key order.** FTS5 keeps inserted words in
//! memory and writes them out as a new segment of the index whenever the transaction sets a savepoint, and
//! whenever a rowid comes that is not above the previous one. SQLite set a savepoint for every `items` insert
//! while a trigger counted them (until migration 6), and feeds list their items newest first (descending keys) or
//! oldest first, mixed across sources: every item became its own one-row segment, and FTS5 spent its time writing
//! and merging thousands of them (a fifth of a poll round). Written last and sorted by key (a single-row insert
//! into the index sets no savepoint), a batch's words go out as one segment at commit.
//!
//! **Why on another thread.** Folding (`search::words`: Unicode normalization, clitics, stems) is pure CPU and
//! needs nothing from the database, while the writer is the one serial stage of a poll round: fetching, parsing
//! and matching features run for many sources at once, storing for one at a time. Folding beside it, on the other
//! core, takes that work off the round's critical path; it costs a thread per batch (tens of microseconds, against
//! the commit's sync of the log).

use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use rusqlite::{params, Connection};

use super::search::{index_row, INSERT_ROW};
use crate::normalize::FoldedItem;

/// An item's text as the index needs it, owned so that it can cross to the folding thread: what ingest folded
/// already (`folded`), and the raw texts it did not.
struct Text {
    key: i64,
    title: String,
    summary: Option<String>,
    content: Option<String>,
    folded: Option<Arc<FoldedItem>>,
    entities: String,
}

/// A folded index row: key, title words, body words, entity ids.
type Row = (i64, String, String, String);

/// The way to the folding thread, and the thread (which returns the rows once the way is closed).
type Folding = (mpsc::Sender<Vec<Text>>, JoinHandle<Vec<Row>>);

/// Index rows of new items waiting to be written (see the module doc).
#[derive(Default)]
pub(super) struct PendingRows {
    /// Texts not yet handed over: they cross to the folding thread a source at a time, not an item at a time
    /// (one wake-up of the thread each).
    batch: Vec<Text>,
    folding: Option<Folding>,
    /// Rows folded here when no thread could be started.
    folded: Vec<Row>,
    waiting: usize,
    /// Bytes of text (title, summary, content) of the waiting rows.
    text_bytes: usize,
}

impl PendingRows {
    /// Queues an item's text for folding (see [`PendingRows::hand_over`]). `folded`: the texts ingest folded
    /// already (for the item's features), which are not folded again.
    pub(super) fn push(
        &mut self,
        key: i64,
        (title, summary, content): (&str, Option<&str>, Option<&str>),
        folded: Option<&Arc<FoldedItem>>,
        entities: &str,
    ) {
        self.waiting += 1;
        self.text_bytes += title.len() + summary.map_or(0, str::len) + content.map_or(0, str::len);
        // Only the raw texts still to fold cross to the thread.
        let raw = |text: Option<&str>, ready: Option<&String>| match ready {
            Some(_) => None,
            None => text.map(str::to_owned),
        };
        self.batch.push(Text {
            key,
            title: if folded.is_some() {
                String::new()
            } else {
                title.to_owned()
            },
            summary: raw(summary, folded.and_then(|f| f.summary.as_ref())),
            content: raw(content, folded.and_then(|f| f.content.as_ref())),
            folded: folded.map(Arc::clone),
            entities: entities.to_owned(),
        });
    }

    /// Hands the queued texts to the folding thread (started with the group's first texts), which folds them
    /// while the writer goes on with the next source.
    pub(super) fn hand_over(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.batch);
        if self.folding.is_none() {
            self.folding = start_folding();
        }
        let batch = match &self.folding {
            Some((texts, _)) => match texts.send(batch) {
                Ok(()) => return,
                // The thread is gone (it panicked): `write` reports that; fold these here meanwhile.
                Err(mpsc::SendError(batch)) => batch,
            },
            None => batch,
        };
        self.folded.extend(batch.into_iter().map(fold));
    }

    /// How many rows wait.
    pub(super) fn len(&self) -> usize {
        self.waiting
    }

    /// How much text the waiting rows were folded from.
    pub(super) fn text_bytes(&self) -> usize {
        self.text_bytes
    }

    /// Waits for the folding and writes the waiting rows into the index, in key order, in the caller's
    /// transaction.
    pub(super) fn write(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        self.hand_over();
        let mut rows = std::mem::take(&mut self.folded);
        if let Some((texts, thread)) = self.folding.take() {
            drop(texts); // ends the thread's loop
            match thread.join() {
                Ok(folded) => rows.extend(folded),
                // A panic while folding is a bug, as it was when folding ran on the writer's own thread.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        self.waiting = 0;
        self.text_bytes = 0;
        rows.sort_unstable_by_key(|row| row.0);
        let mut insert = conn.prepare_cached(INSERT_ROW)?;
        for (key, title, body, entities) in rows {
            insert.execute(params![key, title, body, entities])?;
        }
        Ok(())
    }
}

fn fold(t: Text) -> Row {
    let (title, body) = index_row(
        &t.title,
        t.summary.as_deref(),
        t.content.as_deref(),
        t.folded.as_deref(),
    );
    (t.key, title, body, t.entities.replace(',', " "))
}

/// A thread folding the texts it is sent until the sender is dropped; `None` when none can be started (the
/// caller folds on its own thread then).
fn start_folding() -> Option<Folding> {
    let (texts, received) = mpsc::channel::<Vec<Text>>();
    let thread = std::thread::Builder::new()
        .name("search-fold".into())
        .spawn(move || received.into_iter().flatten().map(fold).collect());
    match thread {
        Ok(thread) => Some((texts, thread)),
        Err(e) => {
            tracing::warn!(error = %e, "cannot start a thread to fold search text; folding on the writer");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::search::index_texts;
    use super::*;
    use crate::dedup::item_features_folded;
    use crate::regions::Gazetteer;
    use proptest::prelude::*;

    /// The row written from the folds ingest made for the item's features, and the row folded from its texts.
    fn both_rows(
        title: &str,
        summary: Option<&str>,
        content: Option<&str>,
    ) -> ((String, String), (String, String)) {
        let (_, folded) =
            item_features_folded(title, summary, content, None, &Gazetteer::builtin());
        (
            index_row(title, summary, content, Some(&folded)),
            index_texts(title, summary, content),
        )
    }

    #[test]
    fn rows_from_the_features_folds_are_the_rows_folded_from_the_texts() {
        let long = "<p>قال وزير الطاقة الكازاخي إن الإنتاج ارتفع 12% في أستانا، </p>".repeat(40);
        let cases: Vec<(&str, Option<&str>, Option<&str>)> = vec![
            (
                "كازاخستان تعلن نمو 3٪ في الصادرات",
                Some("<p>ارتفعت الصادرات بنسبة 3%</p>"),
                None,
            ),
            ("عنوان", None, Some("<p>نص كامل بلا ملخص عن باكو</p>")),
            (
                "عنوان",
                Some("<img src=\"x.jpg\"/>"),
                Some("<p>نص كامل</p>"),
            ),
            ("عنوان", Some("ملخص قصير"), Some(&long)),
            ("عنوان", None, Some(&long)),
            ("عنوان", Some(&long), None),
            ("", None, None),
            ("ﻻ باكو ５%", Some("  "), None),
        ];
        for (t, s, c) in cases {
            let (from_folds, folded_here) = both_rows(t, s, c);
            assert_eq!(from_folds, folded_here, "{t:?} {s:?} {c:?}");
        }
    }

    #[test]
    fn ingest_hands_over_the_texts_it_folded_whole() {
        let g = Gazetteer::builtin();
        let (_, f) = item_features_folded("عنوان 5%", Some("<p>ملخص</p>"), Some("نص"), None, &g);
        assert_eq!(f.title, "عنوان 5 %");
        assert_eq!(f.summary.as_deref(), Some("ملخص"));
        assert_eq!(f.content, None, "not the text to match: not folded");
        let (_, f) = item_features_folded("عنوان", None, Some("<p>نص</p>"), None, &g);
        assert_eq!((f.summary, f.content.as_deref()), (None, Some("نص")));
        let long = "كلمة ".repeat(500);
        let (_, f) = item_features_folded("عنوان", None, Some(&long), None, &g);
        assert_eq!(f.content, None, "only its lead was folded");
    }

    proptest! {
        #[test]
        fn rows_agree_on_any_text(
            title in "[ \\x{0600}-\\x{06FF}a-z0-9%٪.,<>/]{0,40}",
            summary in proptest::option::of("[ \\x{0600}-\\x{06FF}a-z0-9%٪.,<>p/&;]{0,300}"),
            content in proptest::option::of("[ \\x{0600}-\\x{06FF}a-z0-9%٪.,<>p/]{0,600}"),
        ) {
            let (from_folds, folded_here) = both_rows(&title, summary.as_deref(), content.as_deref());
            prop_assert_eq!(from_folds, folded_here);
        }
    }
}
