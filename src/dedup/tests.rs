//! Unit tests of story clustering: the merge rules the brief calls for, one by one, and the index mechanics.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::regions::Gazetteer;

fn at(hours: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap() + Duration::hours(hours)
}

fn verdict(a: (&str, &str), b: (&str, &str), gap_hours: i64) -> Verdict {
    let g = Gazetteer::builtin();
    let fa = features(a.0, Some(a.1), &g);
    let fb = features(b.0, Some(b.1), &g);
    same_story(&fa, at(0), &fb, at(gap_hours), &DedupSettings::default())
}

#[test]
fn same_headline_spelled_differently_merges() {
    let v = verdict(
        ("«كازاخستان» ترفع إنتاج النفط إلى ٢ مليون برميل يومياً", ""),
        ("كازاخستان ترفع انتاج النفط الى 2 مليون برميل يوميا!", ""),
        2,
    );
    assert!(v.same, "{v:?}");
    let v = verdict(
        ("البرلمان القيرغيزي يصادق على معاهدة الحدود", ""),
        ("البرلمان القرغيزي يُصادِق على مُعاهدة الحدود", ""),
        1,
    );
    assert!(v.same, "{v:?}");
}

#[test]
fn rewording_with_shared_facts_merges() {
    let v = verdict(
        (
            "زلزال بقوة 5.6 درجات يضرب طاجيكستان",
            "ضرب زلزال بقوة 5.6 درجات منطقة وادي راشت شرقي طاجيكستان وشعر به سكان دوشنبه",
        ),
        (
            "هزة أرضية عنيفة تضرب وادي راشت الطاجيكي",
            "خلفت هزة أرضية بلغت قوتها 5.6 درجة أضرارا في وادي راشت الجبلي بطاجيكستان",
        ),
        3,
    );
    assert!(v.same, "{v:?}");
}

#[test]
fn another_amount_splits() {
    let v = verdict(
        ("السعودية تقدم 3 ملايين دولار لقرغيزستان", "منحة لدعم المدارس"),
        ("السعودية تقدم 5 ملايين دولار لقرغيزستان", "منحة لدعم المدارس"),
        1,
    );
    assert_eq!(v.reason, Reason::OtherFigure, "{v:?}");
    // Words and digits for the same figure agree.
    let v = verdict(
        ("كازاخستان وأذربيجان توقعان ٧ وثائق تعاون", ""),
        ("كازاخستان وأذربيجان توقعان سبع وثائق تعاون", ""),
        1,
    );
    assert!(v.same, "{v:?}");
}

#[test]
fn another_month_splits() {
    let v = verdict(
        ("التضخم في كازاخستان يبلغ 12 بالمئة في أكتوبر", ""),
        ("التضخم في كازاخستان يبلغ 12 بالمئة في تشرين الثاني", ""),
        3,
    );
    assert_eq!(v.reason, Reason::OtherMonth, "{v:?}");
    let v = verdict(
        ("التضخم في كازاخستان 12% في أكتوبر", ""),
        ("التضخم في كازاخستان 12% في تشرين الأول", ""),
        3,
    );
    assert!(v.same, "{v:?}");
}

#[test]
fn another_partner_country_splits() {
    let v = verdict(
        ("أوزبكستان توقع اتفاقية استثمار مع الإمارات", ""),
        ("أوزبكستان توقع اتفاقية استثمار مع السعودية", ""),
        1,
    );
    assert_eq!(v.reason, Reason::OtherPartner, "{v:?}");
    let v = verdict(
        ("زلزال يضرب جنوب قرغيزستان", ""),
        ("زلزال يضرب جنوب طاجيكستان", ""),
        1,
    );
    assert_eq!(v.reason, Reason::OtherCountry, "{v:?}");
}

#[test]
fn opposite_outcome_and_follow_up_split() {
    let v = verdict(
        ("قمة باكو ويريفان تنتهي باتفاق على ترسيم الحدود", ""),
        ("قمة باكو ويريفان تنتهي دون اتفاق على ترسيم الحدود", ""),
        2,
    );
    assert_eq!(v.reason, Reason::OtherOutcome, "{v:?}");
    let v = verdict(
        ("الشرطة الجورجية تعتقل زعيما معارضا في تبليسي", ""),
        ("محكمة جورجية تفرج عن زعيم معارض في تبليسي", ""),
        96,
    );
    assert!(
        matches!(v.reason, Reason::TooFarApart | Reason::FollowUp),
        "{v:?}"
    );
}

#[test]
fn index_places_inserts_and_evicts() {
    let g = Gazetteer::builtin();
    let mut index = StoryIndex::new(DedupSettings::default());
    let a = features(
        "كازاخستان ترفع إنتاج النفط إلى 2 مليون برميل يوميا",
        None,
        &g,
    );
    let b = features(
        "كازاخستان ترفع انتاج النفط الى ٢ مليون برميل يومياً",
        None,
        &g,
    );
    let c = features("زلزال يضرب جنوب طاجيكستان", None, &g);
    assert_eq!(index.place(&a, at(0)), None);
    index.insert(1, 100, &a, at(0));
    assert_eq!(index.place(&b, at(2)), Some(100));
    assert_eq!(index.place(&c, at(2)), None);
    // Outside the window nothing matches, and eviction forgets.
    assert_eq!(index.place(&b, at(100)), None);
    index.insert(2, 100, &b, at(2));
    assert_eq!(index.len(), 2);
    index.evict_older_than(at(1));
    assert_eq!(index.len(), 1);
    assert_eq!(index.members(100), vec![2]);
    index.evict_older_than(at(10));
    assert!(index.is_empty());
}

#[test]
fn settings_are_a_strict_config_table() {
    let s: DedupSettings = toml::from_str("window_hours = 48").unwrap();
    assert_eq!(s.window_hours, 48);
    assert_eq!(s.follow_up_hours, DedupSettings::default().follow_up_hours);
    assert!(toml::from_str::<DedupSettings>("windw_hours = 48").is_err());
}

#[test]
fn explanation_shows_the_evidence() {
    let g = Gazetteer::builtin();
    let a = features(
        "أذربيجان ترفع الحد الأدنى للأجور إلى 400 منات",
        Some("<p>قرار &amp; حكومي</p>"),
        &g,
    );
    let b = features("أذربيجان ترفع الحد الأدنى للمعاشات إلى ٣٢٠ منات", None, &g);
    let text = explain(&a, at(0), &b, at(1), &DedupSettings::default()).to_string();
    assert!(
        text.contains("400") && text.contains("320") && text.contains("OtherFigure"),
        "{text}"
    );
    // The summary's words are compared without its markup.
    assert!(
        text.contains("قرار")
            && !text.contains("amp")
            && !text.contains('<')
            && text.contains("\"az\""),
        "{text}"
    );
}

#[test]
fn html_is_stripped_for_matching() {
    assert_eq!(
        super::text_to_match(Some("<p>باكو&nbsp;&#1610;</p><p>x</p>"), None)
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["باكو", "ي", "x"]
    );
}

#[test]
fn the_text_to_match_is_the_summary_else_the_content() {
    use super::{item_features, text_to_match};
    assert_eq!(
        text_to_match(Some("<p>ملخص</p>"), Some("نص كامل")).trim(),
        "ملخص"
    );
    assert_eq!(
        text_to_match(None, Some("<p>نص كامل</p>")).trim(),
        "نص كامل"
    );
    // A summary that is only a picture says nothing: the content is matched instead.
    assert_eq!(
        text_to_match(Some("<img src=\"x.jpg\"/>"), Some("نص كامل")).trim(),
        "نص كامل"
    );
    let g = Gazetteer::builtin();
    let f = item_features("حريق في سوق", None, Some("<p>حريق في بيشكيك</p>"), None, &g);
    assert_eq!(f.entities()[0].id, "kg");
}

#[test]
fn one_sense_per_item_and_homonyms_elsewhere() {
    let g = Gazetteer::builtin();
    let ids = |title: &str, summary: &str| -> Vec<String> {
        features(title, Some(summary), &g)
            .entities()
            .iter()
            .map(|e| e.id.clone())
            .collect()
    };
    // The case: a clitic in front of the exclude phrase, and a bare جورجيا further on.
    assert!(ids(
        "سباق مجلس الشيوخ بولاية جورجيا يتجه إلى جولة إعادة",
        "لم يحصل أي من المرشحين على أغلبية في جورجيا، ما يعني جولة إعادة في الولاية الأمريكية."
    )
    .is_empty());
    assert!(ids("جورجيا ميلوني تستقبل رئيس الوزراء الياباني", "في روما.").is_empty());
    assert!(ids("زلزال يهز مدينة أرمينيا في كولومبيا", "غربي كولومبيا.").is_empty());
    assert!(ids("زلزال يضرب محافظة أذربيجان الشرقية", "شمال غربي إيران.").is_empty());
    assert!(ids("ترحيل شاب من أصل شيشاني", "بعد إدانته.").is_empty());
    // The country itself, in the same item as a homonym of another entity, is still tagged.
    assert_eq!(ids("جورجيا تهزم اليونان", "في تبليسي."), vec!["ge"]);
}

#[test]
fn numbers_in_words_meet_digits() {
    let g = Gazetteer::builtin();
    let numbers = |t: &str| features(t, None, &g).numbers();
    assert_eq!(numbers("صدرت اثني عشر مليار متر مكعب"), vec![12e9]);
    assert_eq!(numbers("محصول يبلغ ثلاثة ملايين و600 ألف طن"), vec![3.6e6]);
    assert_eq!(numbers("ثلاثة مليارات و200 مليون دولار"), vec![3.2e9]);
    assert_eq!(numbers("عفو عن ثلاثمئة سجين"), vec![300.0]);
    assert_eq!(numbers("ترتفع التذكرة إلى ألفي سوم"), vec![2000.0]);
    assert_eq!(numbers("رياح سرعتها خمسة وعشرين مترا"), vec![25.0]);
    assert_eq!(numbers("بقدرة ستمئة ميغاواط"), vec![600.0]);
}

#[test]
fn same_day_look_alikes_split() {
    let v = verdict(
        ("وزارة الطاقة الكازاخستانية تعلن خطة لخفض الانبعاثات 15%", ""),
        (
            "وزارة الزراعة الكازاخستانية تعلن خطة لخفض استهلاك المياه 15%",
            "",
        ),
        2,
    );
    assert_eq!(v.reason, Reason::OtherSubject, "{v:?}");
    let v = verdict(
        ("زلزال بقوة 4.7 درجات يضرب خجند", "في طاجيكستان."),
        ("هزة أرضية بقوة 4.7 درجات في كولاب", "في طاجيكستان."),
        2,
    );
    assert_eq!(v.reason, Reason::OtherPlace, "{v:?}");
    let v = verdict(
        ("البرلمان القرغيزي يقر قانون التجمعات في القراءة الأولى", ""),
        ("جاباروف يوقع قانون التجمعات", ""),
        2,
    );
    assert_eq!(v.reason, Reason::OtherStage, "{v:?}");
    let v = verdict(
        (
            "البنك المركزي يبقي سعر الفائدة عند 14%",
            "قرر البنك المركزي الأوزبكي الإبقاء على الفائدة.",
        ),
        (
            "البنك المركزي يبقي سعر الفائدة عند 14%",
            "أبقى البنك الوطني القرغيزي الفائدة دون تغيير.",
        ),
        2,
    );
    assert_eq!(v.reason, Reason::OtherCountries, "{v:?}");
    let v = verdict(
        ("محكمة في بيشكيك تبرئ صحفيين", ""),
        ("محكمة في بيشكيك تسجن ناشطا", ""),
        2,
    );
    assert!(!v.same, "{v:?}");
}
