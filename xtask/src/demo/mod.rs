//! `cargo xtask demo`: the readiness flow and a streamed chat, against the bundled emulator or
//! a real LM Studio, with live progress and a timing summary.

mod bar;

use futures_util::StreamExt;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lmstudio_testkit::{
    CatalogModel, Emulator, EmulatorBuilder, FakeLmsOptions, Profile, ServerStartWatcher,
    StartAnswer,
};
use vtcode_config::{PreloadMode, VTCodeConfig};
use vtcode_lmstudio::proto::openai::{ChatCompletionRequest, ChatMessage};
use vtcode_lmstudio::{
    DEFAULT_OSS_MODEL, DownloadStep, LMStudioClient, LoadStep, ReadinessReport, format_bytes,
};

use crate::checks::millis;

const DEMO_USAGE: &str = "\
usage: cargo xtask demo [--url URL] [--model KEY] [--profile 0.3|0.4] [--jit on|off]
                        [--prompt TEXT] [--max-tokens N] [--auto-start]

Without --url (or LMSTUDIO_URL) the demo starts the bundled LM Studio emulator with the model
not yet downloaded; with it, the same flow runs against that server (a real LM Studio).
--auto-start begins with no server at all: `[lmstudio] auto_start = true` starts it through a
fake `lms server start`, which brings the emulator up (not with --url).";

/// What the command line asked for.
#[derive(Debug)]
struct DemoArgs {
    url: Option<String>,
    model: String,
    profile: Profile,
    jit: bool,
    prompt: String,
    max_tokens: i64,
    auto_start: bool,
}

fn parse_args(args: &[String]) -> Result<DemoArgs, String> {
    let mut parsed = DemoArgs {
        url: std::env::var("LMSTUDIO_URL")
            .ok()
            .filter(|u| !u.trim().is_empty()),
        model: DEFAULT_OSS_MODEL.to_owned(),
        profile: Profile::V0_4,
        jit: true,
        prompt: "In two sentences, what does a coding agent need from a local model server?"
            .to_owned(),
        max_tokens: 96,
        auto_start: false,
    };
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let mut value = |name: &str| {
            iter.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value\n\n{DEMO_USAGE}"))
        };
        match flag.as_str() {
            "--url" => parsed.url = Some(value("--url")?),
            "--model" => parsed.model = value("--model")?,
            "--prompt" => parsed.prompt = value("--prompt")?,
            "--max-tokens" => {
                let text = value("--max-tokens")?;
                parsed.max_tokens = text
                    .parse()
                    .map_err(|_| format!("--max-tokens: `{text}` is not a number"))?;
            }
            "--profile" => {
                parsed.profile = match value("--profile")?.as_str() {
                    "0.3" => Profile::V0_3,
                    "0.4" => Profile::V0_4,
                    other => return Err(format!("--profile: expected 0.3 or 0.4, got `{other}`")),
                }
            }
            "--jit" => {
                parsed.jit = match value("--jit")?.as_str() {
                    "on" => true,
                    "off" => false,
                    other => return Err(format!("--jit: expected on or off, got `{other}`")),
                }
            }
            "--auto-start" => parsed.auto_start = true,
            "-h" | "--help" => return Err(DEMO_USAGE.to_owned()),
            other => return Err(format!("unknown argument `{other}`\n\n{DEMO_USAGE}")),
        }
    }
    if parsed.auto_start && parsed.url.is_some() {
        return Err(format!(
            "--auto-start runs against the emulator only: drop --url (and LMSTUDIO_URL)\n\n{DEMO_USAGE}"
        ));
    }
    Ok(parsed)
}

/// Runs the demo.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let args = parse_args(args)?;
    if args.url.is_none() && (args.profile == Profile::V0_3 || args.auto_start) {
        // LM Studio 0.3 downloads and loads through `lms`, and an automatic start runs
        // `lms server start`: the emulator comes with a fake `lms`.
        crate::integration::build_fake_lms()?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}"))?;
    runtime.block_on(run_demo(args))
}

/// The emulator and what it needs to stay alive for the run.
struct LocalServer {
    /// The emulator started up front (`None` with `--auto-start`: the watcher starts it).
    emulator: Option<Emulator>,
    /// With `--auto-start`: answers the fake `lms server start` with the emulator.
    starts: Option<ServerStartWatcher>,
    url: String,
    lms_dir: Option<TempDir>,
    lms_path: Option<PathBuf>,
}

impl LocalServer {
    /// Requests the emulator served, whichever way it was started.
    fn request_count(&self) -> usize {
        match (&self.emulator, &self.starts) {
            (Some(emulator), _) => emulator.requests().len(),
            (None, Some(starts)) => starts.emulators().iter().map(|e| e.requests().len()).sum(),
            (None, None) => 0,
        }
    }
}

async fn run_demo(args: DemoArgs) -> Result<(), String> {
    let local = match &args.url {
        Some(_) => None,
        None if args.auto_start => Some(prepare_auto_start(&args)?),
        None => Some(start_emulator(&args).await?),
    };
    let url = match (&args.url, &local) {
        (Some(url), _) => url.clone(),
        (None, Some(local)) => local.url.clone(),
        (None, None) => return Err("no server".to_owned()),
    };
    match &local {
        Some(local) if local.emulator.is_none() => println!(
            "Nothing listens on {url}: LM Studio is not running. [lmstudio] auto_start = true \
             will start it (a fake `lms server start` brings up the emulator: profile {}, JIT {}, \
             {} not downloaded)",
            profile_name(args.profile),
            if args.jit { "on" } else { "off" },
            args.model
        ),
        Some(_) => println!(
            "Started the LM Studio emulator at {url} (profile {}, JIT {}, {} not downloaded)",
            profile_name(args.profile),
            if args.jit { "on" } else { "off" },
            args.model
        ),
        None => println!("Using the server at {url}"),
    }

    let mut config = VTCodeConfig::default()
        .with_base_url(url.clone())
        .with_default_model(args.model.clone())
        .with_preload(PreloadMode::Wait)
        .with_auto_start(args.auto_start);
    if let Some(path) = local.as_ref().and_then(|l| l.lms_path.clone()) {
        config = config.with_lms_path(path);
    }
    let mut builder =
        LMStudioClient::builder(&config).reporter(Arc::new(bar::TerminalProgress::new()));
    if let Some(dir) = local.as_ref().and_then(|l| l.lms_dir.as_ref()) {
        // Not this user's LM Studio home: its server record (bind address, CORS) is not the
        // emulator's.
        builder = builder.lmstudio_home(dir.path().join("lmstudio-home"));
    }
    let client = builder.build().map_err(|e| format!("configuration: {e}"))?;

    println!("\n[1/2] Making {} ready", args.model);
    let report = client
        .ensure_ready(&args.model)
        .await
        .map_err(|e| format!("readiness failed: {e}"))?;
    print_report(&report);

    println!("\n[2/2] Streaming a chat answer\n");
    println!("> {}\n", args.prompt);
    let chat = stream_chat(&client, &args).await?;

    println!("\nSummary");
    println!("  server        {}", describe_server(&report));
    if let Some(start) = &report.server_start {
        println!(
            "  server start  {} (lms server start --port {})",
            millis(start.elapsed),
            start.port
        );
    }
    println!("  check         {}", millis(report.timings.check));
    match report.timings.download {
        Some(download) => println!("  download      {}", millis(download)),
        None => println!("  download      not needed"),
    }
    match report.timings.load {
        Some(load) => println!("  load          {}", millis(load)),
        None => println!("  load          not needed"),
    }
    println!("  readiness     {}", millis(report.timings.total));
    println!(
        "  first token   {}",
        chat.first_token.map_or("-".to_owned(), millis)
    );
    println!(
        "  chat          {} ({} chunks, {} completion tokens, {:.1} tokens/s)",
        millis(chat.total),
        chat.chunks,
        chat.completion_tokens
            .map_or("?".to_owned(), |t| t.to_string()),
        chat.tokens_per_second()
    );
    if let Some(local) = &local {
        println!("  requests      {} to the emulator", local.request_count());
    }
    Ok(())
}

/// The demo's emulator: the model not yet downloaded, visible download and load times.
fn emulator_builder(profile: Profile, jit: bool, model: &str) -> EmulatorBuilder {
    let mut models = vec![CatalogModel::nomic_embed()];
    let wanted = if model == DEFAULT_OSS_MODEL {
        CatalogModel::gpt_oss_20b()
    } else {
        CatalogModel::llm(model.to_owned()).size_bytes(4_920_734_272)
    };
    models.insert(0, wanted.downloaded(false));
    Emulator::builder()
        .profile(profile)
        .jit(jit)
        .models(models)
        // About three seconds for the 12 GB default model: long enough to watch.
        .download_speed(4_000_000_000)
        .load_delay(Duration::from_millis(600))
        .stream_chunk_delay(Duration::from_millis(25))
}

/// `--auto-start`: no server yet. A free port, a fake `lms` whose `server start` asks the
/// watcher in this process, which brings the emulator up on that port.
fn prepare_auto_start(args: &DemoArgs) -> Result<LocalServer, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|e| format!("could not find a free port: {e}"))?
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let binary = lmstudio_testkit::find_fake_lms_binary().ok_or(
        "the fake `lms` is not built: run `cargo build -p lmstudio-testkit --bin fake-lms`",
    )?;
    let dir = TempDir::new("demo-auto-start")?;
    let options = FakeLmsOptions::new().server_start_via(dir.path());
    let path = lmstudio_testkit::write_lms_wrapper_with(dir.path(), &binary, &url, &options)
        .map_err(|e| format!("could not write the fake lms: {e}"))?;
    let (profile, jit, model) = (args.profile, args.jit, args.model.clone());
    let starts = ServerStartWatcher::watch(dir.path(), move |_| {
        StartAnswer::emulator(emulator_builder(profile, jit, &model))
    });
    Ok(LocalServer {
        emulator: None,
        starts: Some(starts),
        url,
        lms_dir: Some(dir),
        lms_path: Some(path),
    })
}

async fn start_emulator(args: &DemoArgs) -> Result<LocalServer, String> {
    let emulator = emulator_builder(args.profile, args.jit, &args.model)
        .start()
        .await
        .map_err(|e| format!("could not start the emulator: {e}"))?;
    // LM Studio 0.3 cannot download over REST: the flow uses `lms get`, so give it the fake one.
    let (lms_dir, lms_path) = if args.profile == Profile::V0_3 {
        let binary = lmstudio_testkit::find_fake_lms_binary().ok_or(
            "the fake `lms` is not built: run `cargo build -p lmstudio-testkit --bin fake-lms`",
        )?;
        let dir = TempDir::new("demo-lms")?;
        let path = lmstudio_testkit::write_lms_wrapper(dir.path(), &binary, &emulator.url())
            .map_err(|e| format!("could not write the fake lms: {e}"))?;
        (Some(dir), Some(path))
    } else {
        (None, None)
    };
    Ok(LocalServer {
        url: emulator.url(),
        emulator: Some(emulator),
        starts: None,
        lms_dir,
        lms_path,
    })
}

/// What the streamed chat measured.
struct ChatFigures {
    first_token: Option<Duration>,
    total: Duration,
    /// From the first to the last content chunk.
    generation: Duration,
    chunks: usize,
    completion_tokens: Option<u64>,
}

impl ChatFigures {
    fn tokens_per_second(&self) -> f64 {
        match self.completion_tokens {
            Some(tokens) if !self.generation.is_zero() => {
                tokens as f64 / self.generation.as_secs_f64()
            }
            _ => 0.0,
        }
    }
}

async fn stream_chat(client: &LMStudioClient, args: &DemoArgs) -> Result<ChatFigures, String> {
    let mut request = ChatCompletionRequest::new(
        args.model.clone(),
        vec![ChatMessage::user(args.prompt.as_str())],
    );
    request.max_tokens = Some(args.max_tokens);
    let started = Instant::now();
    let mut stream = client
        .chat_stream(request)
        .await
        .map_err(|e| format!("chat failed: {e}"))?;
    let mut first_token = None;
    let mut last_token = started;
    let mut in_reasoning = false;
    let mut stdout = std::io::stdout();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("\nchat stream failed: {e}"))?;
        for choice in &chunk.choices {
            let (reasoning, content) = (choice.delta.reasoning(), choice.delta.text());
            let text = match (reasoning.as_deref(), content.as_deref()) {
                (Some(thought), _) if !thought.is_empty() => {
                    if !in_reasoning {
                        print!("(thinking) ");
                        in_reasoning = true;
                    }
                    thought
                }
                (_, Some(content)) if !content.is_empty() => {
                    if in_reasoning {
                        print!("\n\n");
                        in_reasoning = false;
                    }
                    content
                }
                _ => continue,
            };
            first_token.get_or_insert_with(|| started.elapsed());
            last_token = Instant::now();
            print!("{text}");
            let _ = stdout.flush();
        }
    }
    println!();
    let summary = stream.summary();
    let total = started.elapsed();
    Ok(ChatFigures {
        first_token,
        total,
        generation: first_token.map_or(Duration::ZERO, |first| {
            last_token.duration_since(started).saturating_sub(first)
        }),
        chunks: summary.chunks,
        completion_tokens: summary.usage.as_ref().map(|u| u.completion_tokens),
    })
}

fn print_report(report: &ReadinessReport) {
    println!("  server: {}", describe_server(report));
    if let Some(start) = &report.server_start {
        println!(
            "  server start: started by auto_start on port {} in {}",
            start.port,
            millis(start.elapsed)
        );
    }
    match &report.download {
        DownloadStep::AlreadyPresent => println!("  download: already on disk"),
        DownloadStep::Downloaded { method, bytes } => println!(
            "  download: done via {method}{}",
            bytes.map_or(String::new(), |b| format!(" ({})", format_bytes(b)))
        ),
        DownloadStep::Skipped { reason } => println!("  download: skipped ({reason})"),
        other => println!("  download: {other:?}"),
    }
    match &report.load {
        LoadStep::AlreadyLoaded { instance_id } => {
            println!("  load: already loaded as {instance_id}")
        }
        LoadStep::Loaded {
            instance_id,
            method,
            load_seconds,
            ..
        } => println!(
            "  load: loaded as {instance_id} via {method}{}",
            load_seconds.map_or(String::new(), |s| format!(" (server says {s:.2} s)"))
        ),
        LoadStep::Background => println!("  load: started in the background"),
        LoadStep::Skipped { reason } => println!("  load: skipped ({reason})"),
        other => println!("  load: {other:?}"),
    }
    for warning in &report.warnings {
        println!("  warning: {warning}");
    }
}

fn describe_server(report: &ReadinessReport) -> &'static str {
    report
        .server
        .as_ref()
        .map_or("unidentified", |server| server.describe())
}

fn profile_name(profile: Profile) -> &'static str {
    match profile {
        Profile::V0_3 => "0.3",
        Profile::V0_4 => "0.4",
    }
}

/// A directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(prefix: &str) -> Result<Self, String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("xtask-{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path)
            .map_err(|e| format!("could not create {}: {e}", path.display()))?;
        Ok(Self(path))
    }

    pub(crate) fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::parse_args;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn auto_start_is_a_flag_for_the_emulator_only() {
        let err = parse_args(&strings(&[
            "--auto-start",
            "--url",
            "http://127.0.0.1:1234",
        ]))
        .expect_err("not with a real server");
        assert!(err.contains("--auto-start"), "{err}");
        if std::env::var_os("LMSTUDIO_URL").is_none() {
            let parsed = parse_args(&strings(&["--auto-start", "--profile", "0.3"])).unwrap();
            assert!(parsed.auto_start);
            assert!(!parse_args(&[]).unwrap().auto_start);
        }
    }
}
