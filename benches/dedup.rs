//! Benchmarks of the matching core: normalization throughput on Arabic headlines and summaries, and the cost of
//! placing one item in story indexes of 10 k, 100 k and 1 M items (which must stay flat: the index is not a scan).
//!
//! Items are synthetic but shaped like the real feed: a region entity or two, a leader or city, a verb, a topic,
//! a figure with its unit, a month, generic news words, occasional diacritics, Arabic-Indic digits and HTML.
//! Run with `cargo bench --bench dedup`. On a machine shared with other work, wall time measures the neighbours
//! too: `QAFILA_BENCH_CPU=1 cargo bench --bench dedup` measures the benchmark thread's CPU time instead.

use std::hint::black_box;

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{BenchmarkId, Criterion, Throughput};
use qafila::bench_api::feeds::{rss_document, templated_feeds};
use qafila::dedup::{
    features, item_features_folded, Boilerplate, DedupSettings, ItemFeatures, StoryIndex,
};
use qafila::normalize::normalize;
use qafila::regions::Gazetteer;

const COUNTRIES: &[&str] = &[
    "كازاخستان",
    "قرغيزستان",
    "قيرغيزستان",
    "طاجيكستان",
    "تركمانستان",
    "أوزبكستان",
    "أذربيجان",
    "أرمينيا",
    "جورجيا",
    "الشيشان",
    "داغستان",
    "إنغوشيا",
    "أبخازيا",
];
const PLACES: &[&str] = &[
    "أستانا",
    "ألماتي",
    "بيشكيك",
    "أوش",
    "دوشنبه",
    "عشق آباد",
    "طشقند",
    "سمرقند",
    "بخارى",
    "باكو",
    "كنجة",
    "يريفان",
    "تبليسي",
    "باتومي",
    "غروزني",
    "محج قلعة",
    "ماغاس",
    "سوخومي",
];
const PEOPLE: &[&str] = &[
    "توكاييف",
    "جاباروف",
    "رحمون",
    "بيردي محمدوف",
    "ميرضيائيف",
    "علييف",
    "باشينيان",
    "كوباخيدزه",
    "قديروف",
];
const PARTNERS: &[&str] = &[
    "السعودية",
    "الإمارات",
    "قطر",
    "الكويت",
    "مصر",
    "تركيا",
    "الصين",
    "روسيا",
    "الهند",
    "ألمانيا",
    "فرنسا",
];
const VERBS: &[&str] = &[
    "توقع",
    "تبحث",
    "تطلق",
    "تفتتح",
    "ترفع",
    "تخفض",
    "تعلن",
    "تستضيف",
    "تدشن",
    "تستقبل",
    "تقر",
    "تعزز",
    "توسع",
    "تعتمد",
];
const TOPICS: &[&str] = &[
    "اتفاقية للتعاون في مجال الطاقة",
    "مشروعا لسكك الحديد",
    "محطة للطاقة الشمسية",
    "خط أنابيب للغاز",
    "منطقة صناعية حرة",
    "رحلات جوية مباشرة",
    "صندوق استثمار مشترك",
    "برنامجا لدعم المزارعين",
    "قانونا جديدا للإعلام",
    "خطة لمكافحة التضخم",
    "ممرا للنقل عبر بحر قزوين",
    "مركز بيانات للذكاء الاصطناعي",
    "مصنعا للأسمدة",
    "سدا كهرومائيا",
    "ميناء جافا",
    "معرضا دوليا للسياحة",
    "مفاوضات حول ترسيم الحدود",
    "إصلاحات في قطاع المصارف",
    "مهرجانا للثقافة",
    "مستشفى جامعيا",
];
const UNITS: &[&str] = &[
    "مليون دولار",
    "مليار دولار",
    "ميغاواط",
    "كيلومتر",
    "ألف طن",
    "بالمئة",
    "منات",
    "ألف سائح",
];
const MONTHS: &[&str] = &[
    "يناير",
    "فبراير",
    "أبريل",
    "مايو",
    "يونيو",
    "سبتمبر",
    "أكتوبر",
    "نوفمبر",
    "تشرين الأول",
    "كانون الثاني",
];
const FILLER: &[&str] = &[
    "وقال مسؤولون إن الخطوة تأتي في إطار تعزيز العلاقات الثنائية بين البلدين",
    "وأكدت وزارة الخارجية أن المشروع سيساهم في تنويع مصادر الدخل وخلق فرص عمل جديدة",
    "وأشار الجانبان إلى أهمية توسيع التبادل التجاري وتسهيل حركة البضائع",
    "ويأتي ذلك بعد سلسلة من الاجتماعات على مستوى الخبراء خلال الأشهر الماضية",
    "ولفت بيان رسمي إلى أن التمويل سيأتي من مصادر حكومية وخاصة",
];

struct Gen(fastrand::Rng);

impl Gen {
    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.0.usize(..list.len())]
    }

    fn number(&mut self) -> String {
        let n = self.0.u32(1..2000);
        if self.0.bool() {
            // Arabic-Indic digits, as several outlets write them.
            n.to_string()
                .chars()
                .map(|c| char::from_u32(c as u32 - '0' as u32 + 0x0660).unwrap())
                .collect()
        } else {
            n.to_string()
        }
    }

    /// (title, summary)
    fn item(&mut self) -> (String, String) {
        let subject = if self.0.bool() {
            self.pick(COUNTRIES)
        } else {
            self.pick(PEOPLE)
        };
        let title = format!(
            "{subject} {} {} بقيمة {} {} مع {}",
            self.pick(VERBS),
            self.pick(TOPICS),
            self.number(),
            self.pick(UNITS),
            self.pick(PARTNERS)
        );
        let summary = format!(
            "<p>أعلنت السلطات في {} أن {} {} في {} خلال {}، بمشاركة وفد من {} و{}. {}.</p>",
            self.pick(PLACES),
            self.pick(COUNTRIES),
            self.pick(TOPICS),
            self.pick(PLACES),
            self.pick(MONTHS),
            self.pick(PARTNERS),
            self.pick(COUNTRIES),
            self.pick(FILLER)
        );
        // Diacritics and tatweel on some items.
        if self.0.u8(..4) == 0 {
            (title.replace('ا', "اَ").replace('ت', "تـ"), summary)
        } else {
            (title, summary)
        }
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap()
}

fn bench_normalize<M: Measurement>(c: &mut Criterion<M>) {
    let mut generator = Gen(fastrand::Rng::with_seed(7));
    let corpus: Vec<String> = (0..2000)
        .map(|_| {
            let (t, s) = generator.item();
            format!("{t} {s}")
        })
        .collect();
    let bytes: usize = corpus.iter().map(String::len).sum();
    let mut group = c.benchmark_group("normalize");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(20);
    group.bench_function("headlines+summaries", |b| {
        b.iter(|| {
            for text in &corpus {
                black_box(normalize(black_box(text)));
            }
        })
    });
    group.finish();
}

/// Features of one item (folding, gazetteer words and matches, tokens, figures, subject): what every new item
/// costs before it is placed.
fn bench_features<M: Measurement>(c: &mut Criterion<M>) {
    let g = Gazetteer::builtin();
    let mut generator = Gen(fastrand::Rng::with_seed(7));
    let items: Vec<(String, String)> = (0..2000).map(|_| generator.item()).collect();
    let feeds = templated_feeds(40, 50);
    let mut group = c.benchmark_group("features");
    group.throughput(Throughput::Elements(items.len() as u64));
    group.sample_size(20);
    group.bench_function("items", |b| {
        b.iter(|| {
            for (t, s) in &items {
                black_box(features(black_box(t), Some(black_box(s)), &g));
            }
        })
    });
    group.bench_function("feeds", |b| {
        // What preparing a fetched document costs (`pipeline::prepare_all`): every item's features with their
        // folds, then the document's boilerplate found and dropped.
        b.iter(|| {
            for feed in &feeds {
                let mut prepared: Vec<_> = feed
                    .iter()
                    .map(|(t, s)| item_features_folded(t, Some(s), None, None, &g).0)
                    .collect();
                let boilerplate = Boilerplate::of_feed(&prepared);
                for f in &mut prepared {
                    black_box(boilerplate.strip(f).stored());
                }
                black_box(prepared);
            }
        })
    });
    group.finish();
}

/// What the poller's CPU slots spend on one fetched document before the writer sees it (`bench_api::prepare_fetch`):
/// parsing the RSS, then keying, dating and preparing each entry's features and dropping the document's
/// boilerplate. On 40 documents of 50 entries, byte for byte what `bench/poll_bench.py` serves (and the 10 000-item
/// round of `bench/poll_compare.py` polls).
fn bench_prepare<M: Measurement>(c: &mut Criterion<M>) {
    let g = Gazetteer::builtin();
    let documents: Vec<(Vec<u8>, url::Url)> = templated_feeds(40, 50)
        .iter()
        .enumerate()
        .map(|(source, items)| {
            (
                rss_document(source, items),
                url::Url::parse(&format!("http://127.0.0.{}:8000/feed.xml", source + 2)).unwrap(),
            )
        })
        .collect();
    let now = start() + Duration::days(1);
    let mut group = c.benchmark_group("prepare");
    group.throughput(Throughput::Elements(2000));
    group.sample_size(20);
    group.bench_function("feeds", |b| {
        b.iter(|| {
            for (body, base) in &documents {
                let prepared = qafila::bench_api::prepare_fetch(
                    black_box(body),
                    Some("application/rss+xml; charset=utf-8"),
                    base,
                    now,
                    &g,
                );
                assert_eq!(prepared, Ok(50));
            }
        })
    });
    group.finish();
}

/// Builds an index of `n` items spread over the 72-hour window (all within reach of a query at its end).
/// Features are computed for a pool of distinct items and reused, so building the 1 M index stays affordable.
fn build_index(n: usize, pool: &[ItemFeatures]) -> StoryIndex {
    let mut index = StoryIndex::new(DedupSettings::default());
    let span_secs = 70 * 3600;
    for i in 0..n {
        let t = start() + Duration::seconds((i as i64 * span_secs) / n as i64);
        index.insert(i as i64, i as i64, &pool[i % pool.len()], t);
    }
    index
}

fn bench_place<M: Measurement>(c: &mut Criterion<M>) {
    let g = Gazetteer::builtin();
    let mut generator = Gen(fastrand::Rng::with_seed(11));
    let pool: Vec<ItemFeatures> = (0..50_000)
        .map(|_| {
            let (t, s) = generator.item();
            features(&t, Some(&s), &g)
        })
        .collect();
    let queries: Vec<ItemFeatures> = (0..256)
        .map(|_| {
            let (t, s) = generator.item();
            features(&t, Some(&s), &g)
        })
        .collect();
    let now = start() + Duration::hours(71);
    let mut group = c.benchmark_group("place");
    group.sample_size(20);
    for n in [10_000usize, 100_000, 1_000_000] {
        let index = build_index(n, &pool);
        assert_eq!(index.len(), n);
        let mut q = 0;
        group.bench_with_input(BenchmarkId::from_parameter(n), &index, |b, index| {
            b.iter(|| {
                q = (q + 1) % queries.len();
                black_box(index.place(black_box(&queries[q]), now))
            })
        });
        drop(index);
    }
    group.finish();
}

/// The writer's story work in `bench/poll_compare.py`'s first round: its 10 000 items (the templated feeds, each
/// feed's boilerplate dropped as when it is prepared), feed after feed in a shuffled order, each placed and
/// inserted into an index that starts empty, as `pipeline::writer` does (`place_keeping`, `insert_placed`).
/// Reported per item.
fn bench_place_round<M: Measurement>(c: &mut Criterion<M>) {
    let g = Gazetteer::builtin();
    let mut feeds: Vec<Vec<(ItemFeatures, DateTime<Utc>)>> = templated_feeds(200, 50)
        .into_iter()
        .enumerate()
        .map(|(source, items)| {
            let mut prepared: Vec<(ItemFeatures, DateTime<Utc>)> = items
                .iter()
                .enumerate()
                .map(|(i, (t, s))| {
                    let n = (source * 1000 + i) as i64;
                    let f = item_features_folded(t, Some(s), None, None, &g).0;
                    (f, start() + Duration::minutes((n / 60) % 24 * 60 + n % 60))
                })
                .collect();
            let boilerplate = Boilerplate::of_feed(prepared.iter().map(|(f, _)| f));
            for (f, _) in &mut prepared {
                boilerplate.strip(f);
            }
            prepared
        })
        .collect();
    fastrand::Rng::with_seed(3).shuffle(&mut feeds);
    let items: usize = feeds.iter().map(Vec::len).sum();
    let mut group = c.benchmark_group("place_round");
    group.sample_size(10);
    group.throughput(Throughput::Elements(items as u64));
    // The index is dropped outside the measurement: the writer keeps it.
    group.bench_function(BenchmarkId::from_parameter(items), |b| {
        b.iter_with_large_drop(|| {
            let mut index = StoryIndex::new(DedupSettings::default());
            let mut id = 0;
            for (f, t) in feeds.iter().flatten() {
                id += 1;
                let (story, placed) = index.place_keeping(black_box(f), *t);
                index.insert_placed(placed, id, story.unwrap_or(id), f, *t);
            }
            index
        })
    });
    group.finish();
}

/// CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`), in nanoseconds.
fn thread_cpu_ns() -> u64 {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is Linux's.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.sec as u64 * 1_000_000_000 + ts.nsec as u64
}

/// Criterion measurement of the benchmark thread's CPU time (`QAFILA_BENCH_CPU=1`).
struct ThreadCpu;

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, started: u64) -> u64 {
        thread_cpu_ns() - started
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuMicros
    }
}

/// Shows CPU nanoseconds as microseconds ("µs cpu").
struct CpuMicros;

impl ValueFormatter for CpuMicros {
    fn scale_values(&self, _typical: f64, values: &mut [f64]) -> &'static str {
        values.iter_mut().for_each(|v| *v /= 1e3);
        "µs cpu"
    }
    fn scale_throughputs(&self, _typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        let (amount, unit) = match t {
            Throughput::Bytes(b) | Throughput::BytesDecimal(b) => (*b as f64 / 1e6, "MB/s cpu"),
            Throughput::Elements(e) | Throughput::Bits(e) => (*e as f64, "elem/s cpu"),
            Throughput::ElementsAndBytes { elements, .. } => (*elements as f64, "elem/s cpu"),
        };
        values.iter_mut().for_each(|v| *v = amount / (*v * 1e-9));
        unit
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

fn main() {
    if std::env::var_os("QAFILA_BENCH_CPU").is_some() {
        let mut c = Criterion::default()
            .with_measurement(ThreadCpu)
            .configure_from_args();
        bench_normalize(&mut c);
        bench_features(&mut c);
        bench_prepare(&mut c);
        bench_place(&mut c);
        bench_place_round(&mut c);
        c.final_summary();
    } else {
        let mut c = Criterion::default().configure_from_args();
        bench_normalize(&mut c);
        bench_features(&mut c);
        bench_prepare(&mut c);
        bench_place(&mut c);
        bench_place_round(&mut c);
        c.final_summary();
    }
}
