//! Search at scale: builds a database of synthetic but realistic Arabic news items through the real ingest path
//! (`qafila::bench_api`: one transaction per source fetch of 1000 items, every item indexed as the daemon does it),
//! then measures two-word query latency (p50/p99 of parsing plus the store search, as `qafila search` runs them;
//! wall clock and this thread's CPU time) and the search index's share of the database (`dbstat`: the FTS5 shadow
//! tables plus the time-key index).
//!
//! `cargo bench --bench search` builds 1 M items into `target/search-bench/` once (reused while the item count
//! matches; `SEARCH_BENCH_ITEMS=N` for another size) and prints the figures. Items: headlines of 9–14 words,
//! summaries of 30–50, and for 40 % of them an HTML body of 150–400 words whose first paragraph is often the summary;
//! words are drawn Zipf-like from a news lexicon with their article, proclitic and suffix forms, a long tail of
//! names, Arabic-Indic and Latin numbers, and the diacritics and tatweel some outlets use.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use qafila::bench_api::{BenchItem, BenchStore};
use qafila::model::{ParsedItem, RegionTags};

const LEXICON: &str = "كازاخستان أوزبكستان قرغيزستان طاجيكستان تركمانستان أذربيجان أرمينيا جورجيا روسيا الصين تركيا إيران \
    الغاز النفط الطاقة الكهرباء الاستثمار التجارة الاقتصاد الحكومة الرئيس الوزير وزير رئيس الخارجية الدفاع البرلمان \
    الانتخابات الحدود الأمن الجيش الشرطة المحكمة القانون الدستور الاتفاقية الاتفاق التعاون العلاقات المفاوضات القمة \
    المؤتمر الزيارة الوفد السفير السفارة المنظمة الأمم المتحدة الاتحاد الأوروبي شنغهاي الممر النقل السكك الحديد الطريق \
    الميناء المطار الرحلات الطيران السياحة الزراعة القمح القطن المياه السد النهر بحر قزوين الجفاف الزلزال الفيضانات \
    الثلوج الطقس المناخ البيئة الصحة المستشفى التعليم الجامعة الطلاب المدارس الثقافة المهرجان الرياضة المنتخب البطولة \
    كرة القدم الملاكمة المصارعة الذهب اليورانيوم المعادن النحاس الفحم الأسعار التضخم العملة الدولار المصرف البنك \
    الموازنة الضرائب الصادرات الواردات النمو الناتج المحلي الإجمالي مليون مليار ألف بالمئة برميل طن كيلومتر ميغاواط \
    يناير فبراير مارس أبريل مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر الاثنين الثلاثاء الأربعاء الخميس الجمعة \
    السبت الأحد أعلن أعلنت قال قالت أكد أكدت بحث يبحث تبحث وقع توقع وقعت افتتح تفتتح أطلق تطلق رفع ترفع خفض تخفض \
    استقبل يستقبل زار يزور التقى يلتقي شارك يشارك ناقش يناقش دعا يدعو طالب يطالب رفض يرفض وافق يوافق أقر يقر \
    جديد جديدة كبير كبيرة أول الأولى الثاني الثانية رسمي رسمية دولي دولية إقليمي إقليمية مشترك مشتركة اقتصادي اقتصادية \
    سياسي سياسية عسكري عسكرية تجاري تجارية صناعي صناعية الشمال الجنوب الشرق الغرب آسيا الوسطى القوقاز أستانا ألماتي \
    طشقند سمرقند بخارى بيشكيك أوش دوشنبه عشق آباد باكو يريفان تبليسي موسكو بكين أنقرة طهران الرياض الدوحة أبوظبي القاهرة \
    الشيشان داغستان أبخازيا بايكونور كاراباخ زنغزور توكاييف ميرضيائيف جاباروف رحمون علييف باشينيان بوتين أردوغان \
    مشروع مشروعات خط أنابيب محطة مصنع منطقة صناعية حرة صندوق برنامج خطة إصلاحات قطاع سوق أسواق شركة شركات مستثمرين \
    مواطنين العمال المهاجرين اللاجئين السكان المدينة العاصمة القرية المنطقة الولاية المحافظة الإقليم البلاد البلدين";
const FILLERS: &[&str] = &[
    "في", "من", "على", "إلى", "مع", "عن", "بعد", "قبل", "خلال", "التي", "الذي", "أن", "كما", "و",
];
const PROCLITICS: &[&str] = &["", "", "", "", "", "", "و", "ب", "ل", "وب"];
const SUFFIXES: &[&str] = &["", "", "", "", "", "", "ي", "ية", "ات", "ها"];
const SYLLABLES: &[&str] = &[
    "با", "تو", "كا", "را", "مي", "زو", "نو", "شا", "خا", "دي", "يف", "وف", "ان", "ست", "بك", "لي",
    "غا", "قو", "سا", "جو",
];

struct Words {
    lexicon: Vec<&'static str>,
    rng: fastrand::Rng,
}

impl Words {
    /// A rank drawn so that rank r is about 1/r as likely as rank 1.
    fn zipf(&mut self, n: usize) -> usize {
        let u = self.rng.f64();
        ((n as f64 + 1.0).powf(u) - 1.0) as usize % n
    }

    fn word(&mut self) -> String {
        let roll = self.rng.u8(..100);
        if roll < 12 {
            return FILLERS[self.rng.usize(..FILLERS.len())].to_string();
        }
        if roll < 18 {
            let n = self.rng.u32(1..5000);
            return if self.rng.bool() {
                n.to_string()
                    .chars()
                    .map(|c| char::from_u32(c as u32 - 48 + 0x0660).unwrap())
                    .collect()
            } else {
                n.to_string()
            };
        }
        if roll < 26 {
            // The long tail: names of people, villages, companies.
            let len = self.rng.usize(2..5);
            let n = self.zipf(40_000);
            let mut r = fastrand::Rng::with_seed(n as u64);
            return (0..len)
                .map(|_| SYLLABLES[r.usize(..SYLLABLES.len())])
                .collect();
        }
        let rank = self.zipf(self.lexicon.len());
        let base = self.lexicon[rank];
        let mut w = format!(
            "{}{base}{}",
            PROCLITICS[self.rng.usize(..PROCLITICS.len())],
            SUFFIXES[self.rng.usize(..SUFFIXES.len())]
        );
        if self.rng.u8(..50) == 0 {
            w = w.replacen('ا', "اَ", 1).replacen('ت', "تـ", 1);
        }
        w
    }

    fn text(&mut self, from: usize, to: usize) -> String {
        let n = self.rng.usize(from..=to);
        (0..n).map(|_| self.word()).collect::<Vec<_>>().join(" ")
    }
}

/// About 1.6 reports per story: a new item joins one of the last 300 stories a third of the time.
struct Clusters {
    recent: Vec<i64>,
    rng: fastrand::Rng,
}

impl Clusters {
    fn choose(&mut self) -> Option<i64> {
        (self.rng.u8(..3) == 0 && !self.recent.is_empty())
            .then(|| self.recent[self.rng.usize(..self.recent.len())])
    }

    fn stored(&mut self, story_id: i64) {
        if !self.recent.contains(&story_id) {
            self.recent.push(story_id);
            if self.recent.len() > 300 {
                self.recent.remove(0);
            }
        }
    }
}

fn build(path: &std::path::Path, total: usize) -> Duration {
    for stale in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{stale}", path.display()));
    }
    let mut store = BenchStore::open(path).unwrap();
    let sources: Vec<String> = (0..40).map(|i| format!("s{i}")).collect();
    store
        .add_sources(&sources.iter().map(String::as_str).collect::<Vec<_>>())
        .unwrap();
    let mut words = Words {
        lexicon: LEXICON.split_whitespace().collect(),
        rng: fastrand::Rng::with_seed(13),
    };
    let mut clusters = Clusters {
        recent: Vec::new(),
        rng: fastrand::Rng::with_seed(5),
    };
    let start = Utc.with_ymd_and_hms(2024, 11, 1, 0, 0, 0).unwrap();
    let span = 2 * 365 * 86_400;
    let batch = 1000;
    let began = Instant::now();
    for b in 0..total.div_ceil(batch) {
        let mut items = Vec::with_capacity(batch);
        for i in b * batch..((b + 1) * batch).min(total) {
            let mut t = (i as i64 * span) / total as i64;
            if words.rng.u8(..20) == 0 {
                t -= words.rng.i64(0..10 * 86_400); // a backlog from a newly added source
            }
            let t = start + chrono::Duration::seconds(t);
            let summary = words.text(30, 50);
            let content = (words.rng.u8(..10) < 4).then(|| {
                let mut paragraphs = Vec::new();
                if words.rng.bool() {
                    paragraphs.push(summary.clone());
                }
                for _ in 0..words.rng.usize(3..7) {
                    paragraphs.push(words.text(40, 70));
                }
                format!("<p>{}</p>", paragraphs.join("</p>\n<p>"))
            });
            let entities: Vec<String> = ["kz", "uz", "kg", "tj", "tm", "az", "am", "ge"]
                .iter()
                .filter(|_| words.rng.u8(..6) == 0)
                .map(|s| s.to_string())
                .collect();
            items.push(BenchItem {
                item: ParsedItem {
                    guid: Some(format!("k{i}")),
                    link: Some(format!("https://s{}.example/news/{i}", i % 40)),
                    title: words.text(9, 14),
                    summary: Some(format!("<p>{summary}</p>")),
                    content,
                    published: Some(t),
                    ..Default::default()
                },
                tags: RegionTags {
                    region_match: !entities.is_empty(),
                    entities,
                },
                joins: clusters.choose(),
            });
        }
        let stored = store
            .ingest(&sources[b % sources.len()], &items, Utc::now())
            .unwrap();
        for story in stored.into_iter().flatten() {
            clusters.stored(story);
        }
        if b % 100 == 99 {
            eprintln!(
                "  {} items, {:.0} s",
                (b + 1) * batch,
                began.elapsed().as_secs_f64()
            );
        }
    }
    let took = began.elapsed();
    store.optimize().unwrap();
    took
}

#[repr(C)]
struct Timespec {
    sec: i64,
    nsec: i64,
}

unsafe extern "C" {
    fn clock_gettime(clock: i32, time: *mut Timespec) -> i32;
}

/// CPU time of this thread: what a query costs, without the time other processes on a busy machine take.
fn thread_cpu() -> Duration {
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut t = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `t` is a valid, writable timespec for the duration of the call.
    unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut t) };
    Duration::new(t.sec as u64, t.nsec as u32)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing and must not build a gigabyte.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let total: usize = std::env::var("SEARCH_BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/search-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("items-{total}.db"));
    let stored = BenchStore::open(&path)
        .and_then(|s| s.item_count())
        .unwrap_or(0);
    if stored as usize != total {
        eprintln!("building {total} items into {} …", path.display());
        let took = build(&path, total);
        println!(
            "built {total} items in {:.1} s ({:.0} items/s, indexing included)",
            took.as_secs_f64(),
            total as f64 / took.as_secs_f64()
        );
    }
    let store = BenchStore::open(&path).unwrap();
    let space = store.space().unwrap();
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    println!(
        "database {:.0} MiB; search index {:.0} MiB = {:.1} % of it (FTS5 tables {:.0} MiB, time-key index {:.0} MiB); items table {:.0} MiB",
        mib(space.database),
        mib(space.search_index()),
        space.search_share_percent(),
        mib(space.fulltext),
        mib(space.key_index),
        mib(space.items),
    );

    let lexicon: Vec<&str> = LEXICON.split_whitespace().collect();
    let mut rng = fastrand::Rng::with_seed(99);
    let mut classes: Vec<(&str, Vec<String>)> = vec![
        ("frequent + frequent", Vec::new()),
        ("frequent + mid", Vec::new()),
        ("mid + rare", Vec::new()),
    ];
    for _ in 0..200 {
        let top = |rng: &mut fastrand::Rng| lexicon[rng.usize(..40)];
        let mid = |rng: &mut fastrand::Rng| lexicon[rng.usize(40..lexicon.len())];
        classes[0]
            .1
            .push(format!("{} {}", top(&mut rng), top(&mut rng)));
        classes[1]
            .1
            .push(format!("{} {}", top(&mut rng), mid(&mut rng)));
        classes[2]
            .1
            .push(format!("{} {}", mid(&mut rng), mid(&mut rng)));
    }
    classes.push((
        "\"الغاز كازاخستان\" (as one phrase)",
        vec!["\"الغاز كازاخستان\"".into(); 50],
    ));
    classes.push(("الغاز كازاخستان", vec!["الغاز كازاخستان".into(); 50]));
    // A pronoun form (its noun's ة written ت) and a phrase of two ة-nouns: the queries with the most word forms.
    classes.push(("حكومتها الجديدة", vec!["حكومتها الجديدة".into(); 50]));
    classes.push((
        "\"الحكومة الجديدة\" (as one phrase)",
        vec!["\"الحكومة الجديدة\"".into(); 50],
    ));
    for limit in [20usize, 100] {
        // One pass to warm the page cache, as a running server's would be.
        for (_, queries) in &classes {
            for q in queries {
                store.search(q, limit).unwrap();
            }
        }
        let (mut all, mut all_cpu) = (Vec::new(), Vec::new());
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        for (name, queries) in &classes {
            let (mut times, mut cpu) = (Vec::new(), Vec::new());
            let mut found = 0;
            for q in queries {
                let (t, c) = (Instant::now(), thread_cpu());
                found += store.search(q, limit).unwrap();
                times.push(t.elapsed());
                cpu.push(thread_cpu() - c);
            }
            times.sort();
            cpu.sort();
            println!(
                "limit {limit:>3}  {name:<36} wall p50 {:>6.2} ms p99 {:>6.2} ms | cpu p50 {:>6.2} ms p99 {:>6.2} ms  ({} queries, {:.0} stories each)",
                ms(percentile(&times, 0.5)),
                ms(percentile(&times, 0.99)),
                ms(percentile(&cpu, 0.5)),
                ms(percentile(&cpu, 0.99)),
                times.len(),
                found as f64 / times.len() as f64
            );
            all.extend(times);
            all_cpu.extend(cpu);
        }
        all.sort();
        all_cpu.sort();
        println!(
            "limit {limit:>3}  all                                  wall p50 {:>6.2} ms p99 {:>6.2} ms | cpu p50 {:>6.2} ms p99 {:>6.2} ms",
            ms(percentile(&all, 0.5)),
            ms(percentile(&all, 0.99)),
            ms(percentile(&all_cpu, 0.5)),
            ms(percentile(&all_cpu, 0.99)),
        );
    }
}
