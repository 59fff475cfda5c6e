//! Benchmark 2b: CPU instructions per keep-alive GET, counted by callgrind (valgrind).
//!
//! Wall time on loopback is mostly thread wake-ups, and CPU time is noisy on a shared
//! machine; an instruction count is repeatable. Each side runs in a child process
//! (`lmstudio-bench get-child <mode> <n>`) under `valgrind --tool=callgrind`, once with a short
//! and once with a long loop; the difference divided by the difference in requests is the cost
//! of one request (client, its hyper connection task, and the same minimal server for every
//! side), with start-up and warm-up cancelled out. Skipped, with a message, when valgrind is
//! not installed.

use std::path::Path;
use std::process::{Command, Stdio};

use lmstudio_transport::{Client, Endpoint};
use serde_json::json;

use crate::Params;
use crate::get_loop::{RawClient, ours_batch, reqwest_batch};
use crate::report::{Figure, Target};
use crate::servers::RawServer;
use crate::stats::Summary;

/// The sides measured, in order: ours, the baseline, the floor.
const MODES: [&str; 3] = ["ours", "reqwest", "raw"];

/// Runs the benchmark (synchronously: it only waits for child processes).
pub(crate) fn run(params: &Params, root: &Path) -> Result<Vec<Figure>, String> {
    if Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| !s.success())
        .unwrap_or(true)
    {
        eprintln!(
            "bench: instructions skipped: valgrind is not installed (apt-get install valgrind)"
        );
        return Ok(Vec::new());
    }
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let work = root.join("target").join("bench").join("callgrind");
    std::fs::create_dir_all(&work).map_err(|e| format!("creating {}: {e}", work.display()))?;
    let (short, long) = if params.quick {
        (100, 400)
    } else {
        (200, 1200)
    };
    let mut per_request = [0.0f64; 3];
    for (slot, mode) in MODES.iter().enumerate() {
        let a = count(&exe, &work, mode, short)?;
        let b = count(&exe, &work, mode, long)?;
        if b <= a {
            return Err(format!(
                "{mode}: {long} requests counted {b} instructions, {short} counted {a}"
            ));
        }
        per_request[slot] = (b - a) as f64 / (long - short) as f64;
    }
    let [ours, base, raw] = per_request;
    let details = json!({
        "requests": [short, long],
        "instructions_per_request": { "ours": ours, "reqwest": base, "raw_floor": raw },
        "method": "callgrind total instructions, (long - short) / (requests long - requests short)",
    });
    Ok(vec![
        Figure::new(
            "get_instructions",
            "2. keep-alive small JSON GET (instructions per request, callgrind)",
            "instr",
            Summary::exact(ours),
        )
        .baseline("reqwest", Summary::exact(base))
        .target(Target::RatioAtMost(0.9))
        .details(details.clone()),
        Figure::new(
            "get_instructions_floor",
            "2. keep-alive small JSON GET (instructions) vs the raw floor",
            "instr",
            Summary::exact(ours),
        )
        .baseline("raw HTTP/1.1 on one TcpStream", Summary::exact(raw))
        .details(details),
    ])
}

/// Total instructions of `get-child <mode> <n>` under callgrind.
fn count(exe: &Path, work: &Path, mode: &str, n: usize) -> Result<u64, String> {
    let out_file = work.join(format!("{mode}-{n}.out"));
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(exe)
        .args(["get-child", mode, &n.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        return Err(format!(
            "{mode} x{n} under callgrind failed ({}): {tail:?}",
            output.status
        ));
    }
    collected(&stderr)
        .ok_or_else(|| format!("no `Collected :` line in callgrind's output for {mode} x{n}"))
}

/// The `==PID== Collected : N` total callgrind prints on exit.
fn collected(stderr: &str) -> Option<u64> {
    stderr.lines().find_map(|line| {
        let (_, rest) = line.split_once("Collected :")?;
        rest.trim().replace(',', "").parse().ok()
    })
}

/// The child: `n` keep-alive GETs of one side against a fresh minimal server.
pub(crate) fn child(args: &[String]) -> Result<(), String> {
    let [mode, n] = args else {
        return Err("usage: get-child <ours|reqwest|raw> <requests>".to_owned());
    };
    let n: usize = n.parse().map_err(|_| format!("not a count: {n}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot build the runtime: {e}"))?;
    let server = RawServer::json().map_err(|e| format!("cannot start the server: {e}"))?;
    let url = server.url();
    runtime.block_on(async {
        match mode.as_str() {
            "ours" => {
                let endpoint = Endpoint::parse(&url).map_err(|e| e.to_string())?;
                let client = Client::builder(endpoint)
                    .build()
                    .map_err(|e| e.to_string())?;
                ours_batch(&client, n).await
            }
            "reqwest" => {
                let client = reqwest::Client::new();
                reqwest_batch(&client, &format!("{url}{}", crate::get_loop::PATH), n).await
            }
            "raw" => RawClient::connect(server.port()).await?.batch(n).await,
            other => Err(format!("unknown mode `{other}`")),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::collected;

    #[test]
    fn reads_the_collected_total() {
        let stderr = "==12== Events    : Ir\n==12== Collected : 37367433\n==12==\n";
        assert_eq!(collected(stderr), Some(37_367_433));
        assert_eq!(collected("==12== Collected : 1,234"), Some(1234));
        assert_eq!(collected("no total here"), None);
    }
}
