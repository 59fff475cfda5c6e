//! Property tests: hostile JSON through every conversion that reads server or `lms` numbers.
//!
//! Each case builds a JSON tree shaped like a real answer (the real field names, mostly the
//! right types) with hostile numbers in it — `1e-300`, `1e308`, `-1`, `u64::MAX`, `i64::MIN`,
//! `"NaN"` as a string, tokens no `f64` holds spliced into the text (`1e999`,
//! `18446744073709551616`), wrong types, unknown fields, and now and then arrays of thousands
//! of elements — parses it into the wire types (a parse error is fine), then runs the
//! facade's conversions on it. None may panic, and what comes out must be usable: no NaN or
//! negative speed, no ETA past [`MAX_ETA`], no load time a `Duration` cannot hold.
//!
//! `cargo test` runs [`DEFAULT_CASES`] cases per property; set `PROPTEST_CASES` for a long run:
//! `PROPTEST_CASES=200000 cargo test --release -p vtcode-lmstudio --lib prop`.

use std::time::{Duration, Instant};

use lmstudio_proto::lms::{LmsLoadedModel, LmsModel};
use lmstudio_proto::native::v1::{DownloadStatus, LoadResponse};
use lmstudio_proto::native::{v0, v1};
use lmstudio_proto::numbers::duration_from_secs_f64;
use lmstudio_proto::openai::ModelList;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value, json};

use super::{MAX_ETA, download_progress, seconds};
use crate::catalog::{CatalogSource, ModelCatalog, ModelInfo};
use crate::progress::{ProgressEvent, progress_line};
use crate::status::{instance_statuses, merge_lms_instances};
use crate::{convert, model_id};

/// Cases per property in a plain `cargo test` (a second or two in a debug build).
const DEFAULT_CASES: u32 = 32;

/// Number tokens spliced verbatim into the JSON text: what a `serde_json::Value` cannot hold.
const RAW_TOKENS: &[&str] = &[
    "1e999",
    "-1e999",
    "1e-400",
    "-0",
    "-0.0",
    "18446744073709551616",
    "-9223372036854775809",
    "1.0e19",
    "123456789012345678901234567890",
    "0.000000000000000000000000000001",
    "NaN",
    "Infinity",
    "-Infinity",
    "0e0",
    "1E+2",
];

/// A string leaf that `render` replaces by the raw token after it.
const RAW_MARK: &str = "\u{1}raw:";

/// Real field names of every listing, status and load answer, for unknown-field noise.
const FIELD_NAMES: &[&str] = &[
    "type",
    "key",
    "id",
    "object",
    "display_name",
    "publisher",
    "architecture",
    "arch",
    "quantization",
    "name",
    "bits_per_weight",
    "bits",
    "size_bytes",
    "sizeBytes",
    "loaded_instances",
    "config",
    "context_length",
    "contextLength",
    "max_context_length",
    "maxContextLength",
    "loaded_context_length",
    "parallel",
    "eval_batch_size",
    "num_experts",
    "format",
    "capabilities",
    "variants",
    "selected_variant",
    "state",
    "modelKey",
    "identifier",
    "ttlMs",
    "lastUsedTime",
    "queued",
    "status",
    "job_id",
    "total_size_bytes",
    "downloaded_bytes",
    "bytes_per_second",
    "estimated_completion",
    "instance_id",
    "load_time_seconds",
    "error",
];

fn config() -> Config {
    let mut config = Config::default(); // reads PROPTEST_CASES
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = DEFAULT_CASES;
    }
    // Crashes become named regression tests; no files are written into the source tree.
    config.failure_persistence = None;
    config
}

/// Numbers a hostile server or proxy might send, as JSON values.
fn hostile_number() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => prop::sample::select(vec![
            json!(1e-300),
            json!(-1e-300),
            json!(5e-324),
            json!(f64::MIN_POSITIVE),
            json!(1e308),
            json!(f64::MAX),
            json!(f64::MIN),
            json!(-1),
            json!(-1.0),
            json!(0),
            json!(-0.0),
            json!(0.5),
            json!(1),
            json!(4096),
            json!(u64::MAX),
            json!(u64::MAX - 1),
            json!(i64::MIN),
            json!(i64::MAX),
            json!(9_007_199_254_740_993_u64),
            json!(1.844_674_407_370_955_2e19),
            json!(2_920_000_000_u64),
            json!(45_670_000.0),
        ]),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        // NaN and infinities become `null` in a `Value`; the raw tokens cover them in text.
        1 => any::<f64>().prop_map(Value::from),
        1 => prop::sample::select(RAW_TOKENS)
            .prop_map(|token| Value::String(format!("{RAW_MARK}{token}"))),
        1 => prop::sample::select(vec!["NaN", "-1", "1e-300", "Infinity", "", "12", "0x10"])
            .prop_map(Value::from),
    ]
    .boxed()
}

/// Numbers for a field the wire types read as `u64` (sizes, counts, lengths, TTLs): mostly
/// in range, with its edges (`0`, `u64::MAX`), sometimes any hostile number (negative,
/// fractional, out of range) that fails the parse.
fn count() -> BoxedStrategy<Value> {
    prop_oneof![
        6 => prop::sample::select(vec![
            0,
            1,
            2,
            4096,
            131_072,
            1_230_000_000,
            2_920_000_000,
            12_000_000_000,
            9_007_199_254_740_993,
            u64::MAX / 2,
            u64::MAX - 1,
            u64::MAX,
        ])
        .prop_map(Value::from),
        3 => any::<u64>().prop_map(Value::from),
        1 => hostile_number(),
    ]
    .boxed()
}

/// Model keys and ids: a small pool (so joins and lookups meet) plus arbitrary text.
fn key() -> BoxedStrategy<String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "openai/gpt-oss-20b",
            "OpenAI/GPT-OSS-20B",
            "openai/gpt-oss-20b:2",
            "openai/gpt-oss-20b@mxfp4",
            "qwen/qwen3-4b",
            "a",
            "a:2",
            "a@q4_k_m",
            "",
        ])
        .prop_map(str::to_owned),
        1 => "[a-zA-Z0-9/@:._-]{0,16}",
        1 => any::<String>(),
    ]
    .boxed()
}

fn text() -> BoxedStrategy<Value> {
    key().prop_map(Value::from).boxed()
}

fn boolean() -> BoxedStrategy<Value> {
    any::<bool>().prop_map(Value::from).boxed()
}

fn one_of(words: &'static [&'static str]) -> BoxedStrategy<Value> {
    prop_oneof![
        4 => prop::sample::select(words).prop_map(Value::from),
        1 => text(),
    ]
    .boxed()
}

fn field_name() -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::sample::select(FIELD_NAMES).prop_map(str::to_owned),
        1 => "[a-zA-Z_]{1,12}",
    ]
    .boxed()
}

/// Any JSON tree: hostile numbers, keys, booleans, null, small arrays and objects.
fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![Just(Value::Null), boolean(), hostile_number(), text(),];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((field_name(), inner), 0..5)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
    .boxed()
}

/// A field: mostly the expected shape, sometimes absent, sometimes anything at all.
fn field(expected: BoxedStrategy<Value>) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        40 => expected.prop_map(Some),
        3 => Just(None),
        1 => any_json().prop_map(Some),
    ]
    .boxed()
}

/// A `u64` field.
fn number() -> BoxedStrategy<Option<Value>> {
    field(count())
}

/// An `f64` field (speeds, seconds, bits per weight): any hostile number.
fn float() -> BoxedStrategy<Option<Value>> {
    field(hostile_number())
}

/// An object with these fields (each possibly missing or mistyped) and a few unknown ones.
fn object(fields: Vec<(&'static str, BoxedStrategy<Option<Value>>)>) -> BoxedStrategy<Value> {
    let named: Vec<BoxedStrategy<(&'static str, Option<Value>)>> = fields
        .into_iter()
        .map(|(name, strategy)| strategy.prop_map(move |value| (name, value)).boxed())
        .collect();
    let unknown = prop::collection::vec((field_name(), any_json()), 0..3);
    (named, unknown)
        .prop_map(|(named, unknown)| {
            let mut map: Map<String, Value> = unknown.into_iter().collect();
            for (name, value) in named {
                if let Some(value) = value {
                    map.insert(name.to_owned(), value);
                }
            }
            Value::Object(map)
        })
        .boxed()
}

/// An array of `element`s: usually short; when `huge`, now and then thousands long
/// (copies of one element, so building it stays cheap).
fn array(element: BoxedStrategy<Value>, huge: bool) -> BoxedStrategy<Value> {
    let short = prop::collection::vec(element.clone(), 0..6).prop_map(Value::Array);
    if huge {
        prop_oneof![
            24 => short,
            1 => (element, 500..4_000usize).prop_map(|(one, n)| Value::Array(vec![one; n])),
        ]
        .boxed()
    } else {
        short.boxed()
    }
}

fn v1_model() -> BoxedStrategy<Value> {
    let instance = object(vec![
        ("id", field(text())),
        (
            "config",
            field(object(vec![
                ("context_length", number()),
                ("parallel", number()),
                ("eval_batch_size", number()),
                ("num_experts", number()),
                ("flash_attention", field(boolean())),
            ])),
        ),
    ]);
    object(vec![
        ("type", field(one_of(&["llm", "embedding", "vlm"]))),
        ("key", field(text())),
        ("display_name", field(text())),
        ("publisher", field(text())),
        ("architecture", field(text())),
        (
            "quantization",
            field(object(vec![
                ("name", field(text())),
                ("bits_per_weight", float()),
            ])),
        ),
        ("size_bytes", number()),
        ("params_string", field(text())),
        ("loaded_instances", field(array(instance, false))),
        ("max_context_length", number()),
        ("format", field(text())),
        (
            "capabilities",
            field(object(vec![
                ("vision", field(boolean())),
                ("trained_for_tool_use", field(boolean())),
                (
                    "reasoning",
                    field(object(vec![
                        (
                            "allowed_options",
                            field(array(
                                one_of(&["off", "low", "medium", "high", "on"]),
                                false,
                            )),
                        ),
                        ("default", field(one_of(&["off", "low", "on"]))),
                    ])),
                ),
            ])),
        ),
        ("variants", field(array(text(), false))),
        ("selected_variant", field(text())),
    ])
}

fn v0_model() -> BoxedStrategy<Value> {
    object(vec![
        ("id", field(text())),
        ("object", field(one_of(&["model"]))),
        ("type", field(one_of(&["llm", "embeddings", "vlm"]))),
        ("publisher", field(text())),
        ("arch", field(text())),
        ("compatibility_type", field(text())),
        ("quantization", field(text())),
        ("state", field(one_of(&["loaded", "not-loaded", "loading"]))),
        ("max_context_length", number()),
        ("loaded_context_length", number()),
        ("capabilities", field(array(text(), false))),
    ])
}

fn openai_model() -> BoxedStrategy<Value> {
    object(vec![
        ("id", field(text())),
        ("object", field(one_of(&["model"]))),
        ("owned_by", field(one_of(&["organization_owner", "openai"]))),
        ("created", number()),
    ])
}

fn lms_fields() -> Vec<(&'static str, BoxedStrategy<Option<Value>>)> {
    vec![
        ("type", field(one_of(&["llm", "embedding"]))),
        ("modelKey", field(text())),
        ("format", field(text())),
        ("displayName", field(text())),
        ("publisher", field(text())),
        ("path", field(text())),
        ("sizeBytes", number()),
        ("architecture", field(text())),
        (
            "quantization",
            field(object(vec![("name", field(text())), ("bits", float())])),
        ),
        ("variants", field(array(text(), false))),
        ("selectedVariant", field(text())),
        ("vision", field(boolean())),
        ("trainedForToolUse", field(boolean())),
        ("maxContextLength", number()),
    ]
}

fn lms_model() -> BoxedStrategy<Value> {
    object(lms_fields())
}

fn lms_loaded() -> BoxedStrategy<Value> {
    let mut fields = lms_fields();
    fields.extend([
        ("identifier", field(text())),
        ("ttlMs", number()),
        ("lastUsedTime", number()),
        ("contextLength", number()),
        (
            "status",
            field(one_of(&["idle", "generating", "processingPrompt"])),
        ),
        ("queued", number()),
        ("parallel", number()),
    ]);
    object(fields)
}

fn download_status() -> BoxedStrategy<Value> {
    object(vec![
        ("job_id", field(text())),
        (
            "status",
            field(one_of(&[
                "downloading",
                "paused",
                "completed",
                "failed",
                "already_downloaded",
            ])),
        ),
        ("total_size_bytes", number()),
        ("downloaded_bytes", number()),
        ("bytes_per_second", float()),
        ("estimated_completion", field(text())),
        ("started_at", field(text())),
        ("completed_at", field(text())),
        ("error", field(any_json())),
    ])
}

fn load_response() -> BoxedStrategy<Value> {
    object(vec![
        ("type", field(one_of(&["llm", "embedding"]))),
        ("instance_id", field(text())),
        ("load_time_seconds", float()),
        ("status", field(one_of(&["loaded"]))),
        (
            "load_config",
            field(object(vec![
                ("context_length", number()),
                ("parallel", number()),
            ])),
        ),
    ])
}

/// The JSON text of `value`, with the raw-token markers replaced by the bare tokens.
fn render(value: &Value) -> String {
    let mut text = value.to_string();
    if text.contains("\\u0001raw:") {
        for token in RAW_TOKENS {
            text = text.replace(&format!("\"\\u0001raw:{token}\""), token);
        }
    }
    text
}

fn parse<T: serde::de::DeserializeOwned>(value: &Value) -> Option<T> {
    serde_json::from_str(&render(value)).ok()
}

/// Everything the facade does with a merged catalog: keys, lookups, statuses.
fn exercise_catalog(source: CatalogSource, models: Vec<ModelInfo>) {
    let catalog = ModelCatalog { source, models };
    let keys = catalog.keys();
    assert_eq!(keys.len(), catalog.models.len());
    for model in catalog.models.iter().take(64) {
        let _ = (model.request_id(), model.is_loaded(), model.is_embedding());
        let statuses = instance_statuses(model);
        assert_eq!(statuses.len(), model.loaded_instances.len());
    }
    for wanted in keys.iter().take(4) {
        let _ = model_id::find(&catalog.models, wanted);
    }
    let _ = model_id::find(&catalog.models, "openai/gpt-oss-20b");
}

/// A progress event's numbers are usable: speed finite and not negative, ETA at most a year
/// (so `Instant::now() + eta` cannot overflow), and it formats.
fn check_progress(event: &ProgressEvent) {
    if let ProgressEvent::DownloadProgress {
        bytes_per_second,
        eta,
        ..
    } = event
    {
        if let Some(speed) = bytes_per_second {
            assert!(speed.is_finite() && *speed >= 0.0, "speed {speed}");
        }
        if let Some(eta) = eta {
            assert!(*eta <= MAX_ETA, "eta {eta:?}");
            assert!(Instant::now().checked_add(*eta).is_some());
        }
    }
    let _ = progress_line(event);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn prop_v1_listing_merges_without_panicking(body in object(vec![
        ("models", field(array(v1_model(), true))),
    ])) {
        if let Some(response) = parse::<v1::ModelsResponse>(&body) {
            let models = response.models.iter().map(convert::from_v1).collect();
            exercise_catalog(CatalogSource::NativeV1, models);
        }
    }

    #[test]
    fn prop_v0_listing_merges_without_panicking(body in object(vec![
        ("object", field(one_of(&["list"]))),
        ("data", field(array(v0_model(), true))),
    ])) {
        if let Some(response) = parse::<v0::ModelsResponse>(&body) {
            let models = response.data.iter().map(convert::from_v0).collect();
            exercise_catalog(CatalogSource::NativeV0, models);
        }
    }

    #[test]
    fn prop_openai_listing_merges_without_panicking(body in object(vec![
        ("object", field(one_of(&["list"]))),
        ("data", field(array(openai_model(), true))),
    ])) {
        if let Some(response) = parse::<ModelList>(&body) {
            let models = response.data.iter().map(convert::from_openai).collect();
            exercise_catalog(CatalogSource::OpenAiModels, models);
        }
    }

    #[test]
    fn prop_lms_ls_and_ps_join_without_panicking(
        ls in array(lms_model(), true),
        ps in array(lms_loaded(), true),
    ) {
        let downloaded: Vec<LmsModel> = parse(&ls).unwrap_or_default();
        let loaded: Vec<LmsLoadedModel> = parse(&ps).unwrap_or_default();
        let models = convert::from_lms(&downloaded, &loaded);
        let instances: usize = models.iter().map(|m| m.loaded_instances.len()).sum();
        prop_assert_eq!(instances, loaded.len());
        let mut statuses: Vec<_> = models.iter().flat_map(instance_statuses).collect();
        for status in &mut statuses {
            status.ttl = None;
        }
        merge_lms_instances(&mut statuses, &loaded);
        for status in &statuses {
            if let Some(ttl) = status.ttl {
                prop_assert!(ttl <= Duration::from_millis(u64::MAX));
            }
        }
        exercise_catalog(CatalogSource::LmsCli, models);
    }

    #[test]
    fn prop_download_status_polls_become_usable_progress(
        started in any::<Option<u64>>(),
        polls in prop::collection::vec(download_status(), 1..6),
    ) {
        // The polling loop: the best total so far, one event per status.
        let mut total = started;
        for poll in &polls {
            let Some(status) = parse::<DownloadStatus>(poll) else {
                continue;
            };
            if let Some(fraction) = status.fraction() {
                prop_assert!((0.0..=1.0).contains(&fraction), "fraction {}", fraction);
            }
            total = status.total_size_bytes.or(total);
            check_progress(&download_progress("m", &status, total));
        }
    }

    #[test]
    fn prop_load_responses_give_usable_load_times(body in load_response()) {
        if let Some(response) = parse::<LoadResponse>(&body) {
            let load_seconds = seconds(response.load_time_seconds);
            if let Some(secs) = load_seconds {
                prop_assert!(secs.is_finite() && secs >= 0.0);
                prop_assert!(duration_from_secs_f64(secs).is_some());
            }
            let event = ProgressEvent::LoadFinished {
                model: "m".to_owned(),
                instance_id: response.instance_id.unwrap_or_default(),
                load_seconds,
            };
            let _ = format!("{event:?}");
        }
    }

    #[test]
    fn prop_arbitrary_bytes_parse_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(response) = serde_json::from_slice::<v1::ModelsResponse>(&bytes) {
            exercise_catalog(CatalogSource::NativeV1, response.models.iter().map(convert::from_v1).collect());
        }
        if let Ok(status) = serde_json::from_slice::<DownloadStatus>(&bytes) {
            check_progress(&download_progress("m", &status, status.total_size_bytes));
        }
        if let Ok(response) = serde_json::from_slice::<LoadResponse>(&bytes) {
            let _ = seconds(response.load_time_seconds);
        }
    }
}

/// How many of `n` generated answers parse as `T`, and how many of those pass `interesting`.
fn parse_rate<T: serde::de::DeserializeOwned>(
    strategy: BoxedStrategy<Value>,
    n: usize,
    interesting: impl Fn(&T) -> bool,
) -> (usize, usize) {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let (mut parsed, mut hits) = (0, 0);
    for _ in 0..n {
        let Ok(tree) = strategy.new_tree(&mut runner) else {
            continue;
        };
        if let Some(value) = parse::<T>(&tree.current()) {
            parsed += 1;
            hits += usize::from(interesting(&value));
        }
    }
    (parsed, hits)
}

/// The generators must reach the conversions, not only the parse errors.
#[test]
fn prop_generators_produce_parseable_answers() {
    let (parsed, with_eta) = parse_rate(download_status(), 100, |status: &DownloadStatus| {
        matches!(
            download_progress("m", status, status.total_size_bytes),
            ProgressEvent::DownloadProgress { eta: Some(_), .. }
        )
    });
    assert!(
        parsed >= 20,
        "only {parsed} of 100 download statuses parsed"
    );
    assert!(with_eta >= 1, "no generated status had an ETA");
    let (parsed, timed) = parse_rate(load_response(), 100, |r: &LoadResponse| {
        r.load_time_seconds.is_some()
    });
    assert!(
        parsed >= 20 && timed >= 5,
        "load answers: {parsed} parsed, {timed} timed"
    );
    let (parsed, loaded) = parse_rate(v1_model(), 100, |m: &v1::Model| m.is_loaded());
    assert!(
        parsed >= 10 && loaded >= 3,
        "v1 models: {parsed} parsed, {loaded} loaded"
    );
    let (parsed, ttl) = parse_rate(lms_loaded(), 100, |m: &LmsLoadedModel| m.ttl_ms.is_some());
    assert!(
        parsed >= 10 && ttl >= 3,
        "lms ps rows: {parsed} parsed, {ttl} with a TTL"
    );
    assert_eq!(render(&json!(format!("{RAW_MARK}1e999"))), "1e999");
}
