//! Tests of the gazetteer: the shipped data, matching, exclusions and load errors.

use super::*;

fn ids(g: &Gazetteer, text: &str) -> Vec<String> {
    g.tag(text).into_iter().map(|t| t.id).collect()
}

#[test]
fn builtin_loads_and_lists_region_entities_only() {
    let g = Gazetteer::builtin();
    let all: Vec<String> = g.entities().into_iter().map(|t| t.id).collect();
    for id in [
        "kz",
        "kg",
        "tj",
        "tm",
        "uz",
        "az",
        "am",
        "ge",
        "abkhazia",
        "south-ossetia",
        "chechnya",
        "dagestan",
        "ingushetia",
        "karabakh",
        "central-asia",
        "caucasus",
        "caspian",
    ] {
        assert!(all.contains(&id.to_string()), "{id} missing");
    }
    assert!(
        !all.contains(&"sa".to_string()),
        "foreign entries are not region entities"
    );
    assert_eq!(g.entity("kz").unwrap().name, "كازاخستان");
    assert!(g.entity("sa").is_none());
}

#[test]
fn variants_cities_and_demonyms_match() {
    let g = Gazetteer::builtin();
    assert_eq!(ids(&g, "قيرغيزيا"), ["kg"]);
    assert_eq!(ids(&g, "كيرغيزستان وأوش"), ["kg"]);
    assert_eq!(ids(&g, "الرئيس الكازاخستاني في بيشكيك"), ["kz", "kg"]);
    assert_eq!(ids(&g, "وفد أوزبيكي يزور عشق أباد"), ["tm", "uz"]);
    assert_eq!(ids(&g, "الوزيرة الأذربيجانية"), ["az"]);
    assert_eq!(ids(&g, "مقتل عاملين أذربيجانيين"), ["az"]);
    assert_eq!(ids(&g, "قتل عاملان أذربيجانيان"), ["az"], "the dual");
    assert_eq!(ids(&g, "الكرج"), ["ge"]);
    assert_eq!(ids(&g, "محجّ قلعة عاصمة داغستان"), ["dagestan"]);
}

#[test]
fn multi_word_names_match() {
    let g = Gazetteer::builtin();
    assert_eq!(ids(&g, "قمة آسيا الوسطى"), ["central-asia"]);
    assert_eq!(ids(&g, "وصل إلى عشق آباد"), ["tm"]);
    assert_eq!(ids(&g, "مطار نور سلطان"), ["kz"]);
    assert_eq!(ids(&g, "إقليم ناغورنو كاراباخ"), ["karabakh"]);
    assert_eq!(ids(&g, "بحر قزوين"), ["caspian"]);
    // North Ossetia is not South Ossetia.
    assert_eq!(ids(&g, "أوسيتيا الشمالية"), ["north-ossetia"]);
}

#[test]
fn clitics_are_handled() {
    let g = Gazetteer::builtin();
    assert_eq!(ids(&g, "بكازاخستان"), ["kz"]);
    assert_eq!(ids(&g, "وأذربيجان"), ["az"]);
    assert_eq!(ids(&g, "لأرمينيا"), ["am"]);
    assert_eq!(ids(&g, "والأذربيجاني"), ["az"]);
    assert_eq!(ids(&g, "ولآسيا الوسطى"), ["central-asia"]);
    // Words that merely start with a clitic letter stay whole.
    assert!(ids(&g, "وزير لبنان في باريس").is_empty());
}

#[test]
fn excludes_suppress_nearby_matches() {
    let g = Gazetteer::builtin();
    assert!(ids(&g, "إعصار يضرب ولاية جورجيا الأمريكية").is_empty());
    assert!(ids(&g, "فرز الأصوات في أتلانتا بجورجيا").is_empty());
    assert!(ids(&g, "رواه البخاري ومسلم").is_empty());
    assert_eq!(ids(&g, "رئيس وزراء جورجيا في تبليسي"), ["ge"]);
    assert_eq!(ids(&g, "مدينة بخارى الأوزبكية"), ["uz"]);
    assert!(ids(&g, "التركمان في سوريا").is_empty());
    // Wildcards: a nom de guerre, whatever the first name.
    assert!(ids(&g, "اعتقال أبو عمر الأوزبكي في إدلب").is_empty());
    assert!(ids(&g, "مقتل أبو حمزة الشيشاني").is_empty());
    assert_eq!(ids(&g, "أبو ظبي تستقبل الرئيس الأوزبكي"), ["uz"]);
    // Communities abroad and origins ([common] exclude).
    assert!(ids(&g, "الجالية الأوزبكية في إسطنبول").is_empty());
    assert!(ids(&g, "شاب من أصل شيشاني").is_empty());
}

#[test]
fn off_region_text_has_no_tags() {
    let g = Gazetteer::builtin();
    assert!(ids(
        &g,
        "المملكة العربية السعودية والإمارات توقعان اتفاقا في الرياض"
    )
    .is_empty());
    assert!(ids(&g, "روسيا البيضاء").is_empty());
}

#[test]
fn fingerprint_follows_data() {
    let a = Gazetteer::builtin();
    let b = Gazetteer::parse_str(&BUILTIN.replace("\"كازخستان\", ", ""), Path::new("x")).unwrap();
    assert_eq!(a.fingerprint(), Gazetteer::builtin().fingerprint());
    assert_ne!(a.fingerprint(), b.fingerprint());
}

#[test]
fn errors_name_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("regions.toml");
    std::fs::write(&path, "[[entity]]\nid = \"kz\"\nname = \"كازاخستان\"\nkind = \"country\"\nnames = [\"كازاخستان\"]\n\n[[entity]]\nid = \"kz\"\nname = \"x\"\nkind = \"country\"\nnames = [\"y\"]\n").unwrap();
    let msg = Gazetteer::load(&path).unwrap_err().to_string();
    assert!(
        msg.contains("regions.toml:8") && msg.contains("`id`") && msg.contains("unique"),
        "{msg}"
    );

    std::fs::write(
        &path,
        "[[entity]]\nid = \"kz\"\nname = \"k\"\nkind = \"planet\"\nnames = [\"k\"]\n",
    )
    .unwrap();
    let msg = Gazetteer::load(&path).unwrap_err().to_string();
    assert!(msg.contains("regions.toml:4"), "{msg}");

    std::fs::write(
        &path,
        "[[entity]]\nid = \"kz\"\nname = \"k\"\nkind = \"country\"\nnames = [\"«»\"]\n",
    )
    .unwrap();
    let msg = Gazetteer::load(&path).unwrap_err().to_string();
    assert!(
        msg.contains("regions.toml:5") && msg.contains("`names`"),
        "{msg}"
    );

    let msg = Gazetteer::load(&dir.path().join("missing.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("missing.toml") && msg.contains("cannot read"),
        "{msg}"
    );
}

/// Words to check the lexicon on: every lexicon word, every word of the gazetteer file and of the labeled sets
/// (folded), each also behind every clitic.
fn lexicon_sample(g: &Gazetteer) -> Vec<String> {
    let mut words: Vec<String> = g.lexicon.keys().map(|w| w.to_string()).collect();
    let mut texts = vec![include_str!("../../data/regions.toml").to_string()];
    for file in [
        "dedup_eval.toml",
        "dedup_dense_week.toml",
        "region_relevance.toml",
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(file);
        texts.push(std::fs::read_to_string(path).unwrap());
    }
    for text in &texts {
        words.extend(normalize::normalize(text).split(' ').map(str::to_string));
    }
    let bare = words.clone();
    for prefix in [
        "و", "ب", "ل", "ف", "ك", "ال", "وال", "بال", "لل", "وب", "ول", "فب", "وك",
    ] {
        words.extend(bare.iter().map(|w| format!("{prefix}{w}")));
    }
    words.sort();
    words.dedup();
    words
}

#[test]
fn the_lexicon_answers_what_each_rule_set_answers() {
    let g = Gazetteer::builtin();
    let sets = word_sets(&g.entries);
    let words = lexicon_sample(&g);
    assert!(words.len() > 20_000, "{}", words.len());
    for w in &words {
        let lex = g.lex(w);
        assert_eq!(
            lex.flags & Lex::KEEP != 0,
            normalize::keeps_clitics(w),
            "{w}"
        );
        assert_eq!(lex.flags & Lex::KNOWN != 0, sets.known.contains(w), "{w}");
        assert_eq!(
            lex.flags & Lex::EXCLUDE != 0,
            sets.exclude_words.contains(w),
            "{w}"
        );
        assert_eq!(lex.is_stopword(), normalize::is_stopword(w), "{w}");
        assert_eq!(
            lex.first().map(|f| &g.first_lists[f]),
            sets.by_first.get(w),
            "{w}"
        );
        assert_eq!(lex.figure, FigureWord::of(w), "{w}");
    }
}

#[test]
fn stripping_clitics_with_the_lexicon_is_strip_clitics() {
    let g = Gazetteer::builtin();
    for w in lexicon_sample(&g) {
        let (stripped, lex) = g.strip_clitics(&w);
        assert_eq!(
            stripped,
            normalize::strip_clitics(&w, &|x| g.is_known_word(x)),
            "{w}"
        );
        assert_eq!(lex, g.lex(stripped), "{w}");
    }
    let folded = normalize::fold_marking_percent("وبكازاخستان 12% بالمئة");
    assert_eq!(
        g.words_lexed(&folded).text,
        ["كازاخستان", "12", "ميه", "ميه"]
    );
}

mod lexicon_props {
    use super::*;
    use proptest::prelude::*;

    /// A word of clitics, letters the clitic rules look at, and the start of a gazetteer word.
    fn word() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "و",
            "ب",
            "ل",
            "ف",
            "ك",
            "ال",
            "لل",
            "ا",
            "ي",
            "ه",
            "ن",
            "كازاخستان",
            "جورجيا",
            "باكو",
            "الف",
            "مليون",
            "عشرين",
            "يناير",
            "في",
            "الله",
            "الا",
            "5",
            "ميه",
            "ولايه",
            "امريكيه",
        ]);
        prop::collection::vec(pieces, 1..5).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn any_word_strips_and_reads_as_the_rule_sets_say(w in word()) {
            static BUILT: std::sync::OnceLock<(Gazetteer, WordSets)> = std::sync::OnceLock::new();
            let (g, sets) = BUILT.get_or_init(|| {
                let g = Gazetteer::builtin();
                let sets = word_sets(&g.entries);
                (g, sets)
            });
            let (stripped, lex) = g.strip_clitics(&w);
            prop_assert_eq!(stripped, normalize::strip_clitics(&w, &|x| sets.known.contains(x)));
            prop_assert_eq!(lex, g.lex(stripped));
            prop_assert_eq!(lex.is_stopword(), normalize::is_stopword(stripped));
            prop_assert_eq!(lex.flags & Lex::EXCLUDE != 0, sets.exclude_words.contains(stripped));
            prop_assert_eq!(lex.first().map(|f| &g.first_lists[f]), sets.by_first.get(stripped));
            prop_assert_eq!(lex.figure, FigureWord::of(stripped));
        }
    }
}

proptest::proptest! {
    #[test]
    fn folded_words_are_the_pieces_between_spaces(text in "[ ا-ي0-9%a ]{0,60}") {
        let split: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
        proptest::prop_assert_eq!(folded_words(&text).collect::<Vec<_>>(), split);
    }
}
