//! `lmstudio-bench`: release benchmarks of the LM Studio crates, each figure beside a
//! baseline measured in the same run on the same input (run it with `cargo xtask bench`).
//!
//! Figures are medians over repeated runs (min–max shown); the table is printed as Markdown
//! and written with every detail to `target/bench/latest.json`. See docs/benchmarks.md.

#![forbid(unsafe_code)]

mod corpus;
mod engine_reuse;
mod footprint;
mod get_loop;
mod instructions;
mod messages_decode;
mod readiness;
mod refused;
mod report;
mod responses_decode;
mod rss;
mod servers;
mod sse_decode;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;

use report::Figure;

const USAGE: &str = "\
usage: lmstudio-bench [--quick] [--only LIST] [--out FILE] [--root DIR]

  --quick      fewer iterations and smaller inputs (a smoke run, figures are noisier)
  --only LIST  comma-separated subset of: readiness,engine,get,instructions,sse,responses,messages,
               refused,rss,footprint
  --out FILE   where to write the JSON results (default: <root>/target/bench/latest.json)
  --root DIR   the repository root (default: the parent of this crate)
";

/// All benchmarks, in run order.
const ALL: [&str; 10] = [
    "readiness",
    "engine",
    "get",
    "instructions",
    "sse",
    "responses",
    "messages",
    "refused",
    "rss",
    "footprint",
];

/// Iteration counts and input sizes.
#[derive(Clone, Debug)]
pub(crate) struct Params {
    /// Whether this is a `--quick` run.
    pub(crate) quick: bool,
    /// Warm-readiness iterations per side.
    pub(crate) readiness_iters: usize,
    /// Requests per GET-loop sample.
    pub(crate) get_batch: usize,
    /// GET-loop samples per client.
    pub(crate) get_rounds: usize,
    /// Size of the SSE decode input.
    pub(crate) sse_bytes: usize,
    /// SSE decode samples per side.
    pub(crate) sse_rounds: usize,
    /// Refused / connect samples per side.
    pub(crate) refused_iters: usize,
    /// Size of the streamed body in the RSS benchmark.
    pub(crate) rss_bytes: usize,
    /// RSS samples per mode.
    pub(crate) rss_rounds: usize,
}

impl Params {
    fn new(quick: bool) -> Self {
        if quick {
            Self {
                quick,
                readiness_iters: 30,
                get_batch: 300,
                get_rounds: 5,
                sse_bytes: 4 << 20,
                sse_rounds: 3,
                refused_iters: 20,
                rss_bytes: 20_000_000,
                rss_rounds: 1,
            }
        } else {
            Self {
                quick,
                readiness_iters: 200,
                get_batch: 2000,
                get_rounds: 15,
                sse_bytes: 32 << 20,
                sse_rounds: 9,
                refused_iters: 100,
                rss_bytes: 100_000_000,
                rss_rounds: 3,
            }
        }
    }

    fn to_json(&self) -> serde_json::Value {
        json!({
            "readiness_iters": self.readiness_iters,
            "get_batch": self.get_batch,
            "get_rounds": self.get_rounds,
            "sse_bytes": self.sse_bytes,
            "sse_rounds": self.sse_rounds,
            "refused_iters": self.refused_iters,
            "rss_bytes": self.rss_bytes,
            "rss_rounds": self.rss_rounds,
        })
    }
}

struct Options {
    params: Params,
    only: Vec<String>,
    out: Option<PathBuf>,
    root: PathBuf,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut quick = false;
    let mut only: Vec<String> = ALL.iter().map(|s| (*s).to_owned()).collect();
    let mut out = None;
    let mut root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".."));
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--quick" => quick = true,
            "--only" => {
                only = value("--only")?
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect();
                if let Some(bad) = only.iter().find(|s| !ALL.contains(&s.as_str())) {
                    return Err(format!("unknown benchmark `{bad}`\n\n{USAGE}"));
                }
            }
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--root" => root = PathBuf::from(value("--root")?),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
        }
    }
    Ok(Options {
        params: Params::new(quick),
        only,
        out,
        root,
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("rss-child") => rss::child(&args[1..]),
        Some("get-child") => instructions::child(&args[1..]),
        _ => parse(&args).and_then(run),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: Options) -> Result<(), String> {
    let started = Instant::now();
    let params = &options.params;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot build the runtime: {e}"))?;
    let mut figures: Vec<Figure> = Vec::new();
    for name in ALL.iter().filter(|n| options.only.iter().any(|o| o == *n)) {
        let section = Instant::now();
        eprintln!("bench: {name} ...");
        let result = match *name {
            "readiness" => runtime.block_on(readiness::run(params)),
            "engine" => runtime.block_on(engine_reuse::run(params)),
            "get" => runtime.block_on(get_loop::run(params)),
            "sse" => runtime.block_on(sse_decode::run(params)),
            "responses" => responses_decode::run(params),
            "refused" => runtime.block_on(refused::run(params)),
            "rss" => runtime.block_on(rss::run(params)),
            "instructions" => instructions::run(params, &options.root),
            "messages" => messages_decode::run(params),
            _ => footprint::run(&options.root),
        };
        let new = result.map_err(|e| format!("{name}: {e}"))?;
        eprintln!(
            "bench: {name} done in {:.1} s",
            section.elapsed().as_secs_f64()
        );
        figures.extend(new);
    }
    let total = started.elapsed().as_secs_f64();
    let (pass, miss) = report::tally(&figures);
    println!();
    print!("{}", report::table(&figures));
    println!();
    println!(
        "targets: {pass} PASS, {miss} MISS · {}run in {total:.1} s",
        if params.quick { "quick " } else { "" }
    );
    let out = options
        .out
        .unwrap_or_else(|| options.root.join("target/bench/latest.json"));
    let generated = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let meta = json!({
        "generated_unix": generated,
        "quick": params.quick,
        "total_seconds": total,
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "params": params.to_json(),
        "benchmarks": options.only,
    });
    report::write_json(&out, &figures, meta)?;
    println!("results: {}", out.display());
    Ok(())
}
