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
