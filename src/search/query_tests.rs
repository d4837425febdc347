//! Parsing and compiling queries.

use super::*;

fn known() -> Vec<String> {
    ["kz", "uz", "south-ossetia"].map(String::from).to_vec()
}

fn parse(q: &str) -> Result<Query, QueryError> {
    Query::parse(q, &known(), &|w| w == "كازاخستان")
}

fn words(t: &Term) -> Vec<&str> {
    t.words.iter().map(String::as_str).collect()
}

#[test]
fn words_are_all_required() {
    let q = parse("الغاز كازاخستان").unwrap();
    assert_eq!(q.clauses.len(), 2);
    assert_eq!(words(&q.clauses[0][0]), ["غاز"]);
    assert_eq!(words(&q.clauses[1][0]), ["كازاخستان"]);
}

#[test]
fn or_binds_tighter_than_and() {
    let q = parse("الغاز النفط OR الذهب").unwrap();
    assert_eq!(q.clauses.len(), 2);
    assert_eq!(q.clauses[1].len(), 2);
    let arabic = parse("النفط أو الذهب").unwrap();
    assert_eq!(arabic.clauses.len(), 1);
    assert_eq!(arabic.clauses[0].len(), 2);
}

#[test]
fn phrases_keep_order_and_guillemets_work() {
    for q in [
        "\"ممر الشمال الجنوب\"",
        "«ممر الشمال الجنوب»",
        "ممر الشمال–الجنوب",
    ] {
        let p = parse(q).unwrap();
        let all: Vec<Vec<&str>> = p.clauses.iter().flatten().map(words).collect();
        assert!(all.concat() == ["ممر", "شمال", "جنوب"], "{q}: {all:?}");
    }
    let p = parse("\"ممر الشمال الجنوب\"").unwrap();
    assert_eq!(p.clauses.len(), 1);
}

#[test]
fn exclusions_and_countries() {
    let q = parse("الغاز -روسيا -\"بحر قزوين\" country:KZ -country:uz").unwrap();
    assert_eq!(q.excluded.len(), 2);
    assert_eq!(q.countries, ["kz"]);
    assert_eq!(q.excluded_countries, ["uz"]);
    let only_country = parse("country:south-ossetia").unwrap();
    assert!(only_country.clauses.is_empty());
    assert_eq!(only_country.to_match(), "entities : (\"south-ossetia\")");
}

#[test]
fn gazetteer_word_behind_a_proclitic_is_the_bare_word() {
    let q = parse("بكازاخستان").unwrap();
    assert_eq!(words(&q.clauses[0][0]), ["كازاخستان"]);
}

#[test]
fn bad_queries_are_values_with_messages() {
    let cases = [
        ("\"الغاز", QueryError::UnclosedQuote),
        ("OR الغاز", QueryError::DanglingOr),
        ("الغاز OR", QueryError::DanglingOr),
        ("الغاز OR OR النفط", QueryError::DanglingOr),
        ("الغاز OR -النفط", QueryError::ExcludedInOr),
        ("الغاز OR country:kz", QueryError::CountryInOr),
        ("الغاز - النفط", QueryError::EmptyExclusion),
        ("في من على", QueryError::Empty),
        ("", QueryError::Empty),
        ("   ", QueryError::Empty),
        ("-الغاز", QueryError::OnlyExclusions),
        ("-country:kz", QueryError::OnlyExclusions),
    ];
    for (q, expected) in cases {
        let got = parse(q).unwrap_err();
        assert_eq!(got, expected, "{q}");
        assert!(!got.to_string().is_empty() && !got.message_ar().is_empty());
    }
    match parse("الغاز country:ru").unwrap_err() {
        QueryError::UnknownCountry { id, .. } => assert_eq!(id, "ru"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse(&"غاز ".repeat(100)).unwrap_err(),
        QueryError::TooLong { .. }
    ));
    assert!(matches!(
        parse(&"غاز ".repeat(MAX_WORDS + 1)).unwrap_err(),
        QueryError::TooManyWords { .. }
    ));
}

#[test]
fn match_expression_quotes_every_word() {
    let m = parse("الغاز -روسيا country:kz").unwrap().to_match();
    assert!(
        m.starts_with("({title body} : (((\"غاز\" OR \"وغاز\""),
        "{m}"
    );
    assert!(
        m.contains(" AND entities : (\"kz\")) NOT {title body} : ((\"روسيا\""),
        "{m}"
    );
    // Operator words and FTS5 syntax in user text are only ever words inside quotes.
    let hostile = parse("NEAR(a b) title:x AND \"x\"\"").unwrap_err();
    assert_eq!(hostile, QueryError::UnclosedQuote);
    let m = parse("NEAR(a b) title:x AND * ^").unwrap().to_match();
    assert!(!m.contains("NEAR(") && !m.contains("title:"), "{m}");
}

/// The FTS5 strings one term's MATCH expression is made of.
fn strings(m: &str) -> Vec<String> {
    m.split('"').skip(1).step_by(2).map(String::from).collect()
}

#[test]
fn every_word_of_a_phrase_takes_its_proclitic_forms() {
    let q = parse("\"ممر الشمال جنوب\"").unwrap();
    let all = strings(&term_match(&q.clauses[0][0], &mut |_| true));
    for written in [
        "ممر شمال جنوب",
        "وممر شمال جنوب",
        "ممر شمال وجنوب",
        "ممر بشمال جنوب",
    ] {
        let stored = crate::search::words::index_words(written).join(" ");
        assert!(all.contains(&stored), "{written} → {stored} not in {all:?}");
    }
    // A pronoun on a later word: "رئيس حكومتها" is found by the phrase "رئيس الحكومة".
    let q = parse("\"رئيس الحكومة\"").unwrap();
    let all = strings(&term_match(&q.clauses[0][0], &mut |_| true));
    let stored = crate::search::words::index_words("رئيس حكومتها").join(" ");
    assert!(all.contains(&stored), "{stored} not in {all:?}");
}

#[test]
fn a_long_phrase_stays_within_its_budget() {
    assert_eq!(forms_per_word(2), 16);
    assert_eq!(forms_per_word(3), 6);
    assert_eq!(forms_per_word(4), 4);
    assert_eq!(forms_per_word(8), 2);
    assert_eq!(forms_per_word(9), 1);
    for n in 2..=MAX_WORDS {
        let phrase = format!("\"{}\"", vec!["الحكومة"; n].join(" "));
        let q = parse(&phrase).unwrap();
        let all = strings(&term_match(&q.clauses[0][0], &mut |_| true));
        assert!(all.len() <= MAX_PHRASE_FORMS, "{n} words: {}", all.len());
        // The phrase as typed (each word's own index form) is always among them.
        assert_eq!(all[0], vec!["حكوم"; n].join(" "));
    }
}

#[test]
fn only_forms_the_index_holds_are_asked_for() {
    let q = parse("\"رئيس الحكومة\" -وقتها").unwrap();
    let held = ["رييس", "حكومتها", "وحكوم"];
    let m = q.to_match_in(&mut |w| held.contains(&w));
    let (phrase, excluded) = m.split_once(" NOT ").unwrap();
    assert_eq!(strings(phrase), ["رييس وحكوم", "رييس حكومتها"], "{m}");
    // A single word keeps all its forms; a phrase word none of whose forms is held keeps its first form.
    assert_eq!(strings(excluded), lookup_forms("وقتها"));
    let m = parse("\"رئيس الحكومة\"")
        .unwrap()
        .to_match_in(&mut |_| false);
    assert_eq!(strings(&m), ["رييس حكوم"]);
}

#[test]
fn asking_stops_at_the_forms_a_phrase_keeps() {
    let q = parse("\"الحكومة الجديدة في العاصمة\"").unwrap();
    let mut asked = 0;
    let m = q.to_match_in(&mut |_| {
        asked += 1;
        true
    });
    assert_eq!(asked, 3 * forms_per_word(3));
    assert_eq!(strings(&m).len(), forms_per_word(3).pow(3));
}

/// Query text an operator or a reader may type: Arabic words, proclitics and pronouns, quotes, guillemets,
/// operators, `country:` filters, digits and separators, and a little of anything.
fn typed_query() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let piece = prop_oneof![
        proptest::sample::select(vec![
            "كازاخستان",
            "بكازاخستان",
            "العاصمة",
            "لعاصمتها",
            "وسياساتهم",
            "في",
            "من",
            "OR",
            "أو",
            "-",
            "\"",
            "«",
            "»",
            "country:kz",
            "-country:uz",
            "country:",
            "1,000",
            "٣٫٥",
            ".",
            "..",
            "ـ",
            "ة",
            "ه",
            "ت",
            "ها",
            "و",
            "ال",
            " ",
            "  ",
            "(",
            ")",
            "*",
            "^",
            ":",
            "NEAR",
            "AND",
            "NOT",
        ])
        .prop_map(String::from),
        "\\PC{1,4}",
    ];
    proptest::collection::vec(piece, 0..16).prop_map(|v| v.join(" "))
}

proptest::proptest! {
    /// Whatever is typed, parsing never panics, and a query that parses compiles to an expression FTS5 accepts
    /// (on an index with qafila's columns and tokenizer), every form kept or none.
    #[test]
    fn any_typed_query_parses_or_is_refused_and_compiles_to_valid_fts5(raw in typed_query()) {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE VIRTUAL TABLE item_search USING fts5(title, body, entities, content = '',
                 contentless_delete = 1, tokenize = \"ascii tokenchars '.-_'\");
             INSERT INTO item_search (rowid, title, body, entities) VALUES (1, 'كازاخستان', 'عاصمه', 'kz');",
        )
        .unwrap();
        if let Ok(q) = parse(&raw) {
            for keep_all in [true, false] {
                let expr = q.to_match_in(&mut |_| keep_all);
                let run = conn
                    .prepare("SELECT rowid FROM item_search WHERE item_search MATCH ?1")
                    .and_then(|mut s| s.query_map([&expr], |r| r.get::<_, i64>(0))?.collect::<rusqlite::Result<Vec<_>>>());
                proptest::prop_assert!(run.is_ok(), "{raw:?} → {expr}: {run:?}");
            }
        }
    }
}

#[test]
fn a_stopword_after_or_leaves_the_or_to_the_next_word() {
    // "النفط أو في الغاز": the stopword is not indexed, so the OR joins the word after it, as typed.
    for q in ["النفط OR في الغاز", "النفط أو في الغاز"] {
        let q = parse(q).unwrap();
        assert_eq!(q.clauses.len(), 1, "{q:?}");
        assert_eq!(q.clauses[0].len(), 2, "{q:?}");
    }
}
