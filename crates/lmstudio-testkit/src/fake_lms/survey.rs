//! `lms runtime survey [--json]`: the hardware survey, as one of a few machines
//! ([`FakeSurvey`]). The JSON is pretty-printed with two spaces, in the shape lmstudio-js's
//! `RuntimeHardwareSurveyResult` gives it (`lms` prints that object as it is).

use std::io::Write;

use serde_json::{Value, json};

use super::{args, fail};

/// Which machine `lms runtime survey --json` describes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum FakeSurvey {
    /// Linux with one NVIDIA RTX 4090 (24 GiB, CUDA) and 64 GiB of RAM: one `llama.cpp`
    /// engine.
    #[default]
    Cuda,
    /// An Apple M3 Max with 64 GiB of unified memory: an integrated GPU with no dedicated
    /// memory (48 GiB usable by it), and two engines (`mlx-llm` first, then `llama.cpp`).
    AppleSilicon,
    /// No GPU: the GPU survey found no devices; 16 GiB of RAM.
    NoGpu,
    /// Numbers no real survey has: negative, huge, fractional, strings, `true`.
    Hostile,
    /// Not JSON.
    Malformed,
    /// `{"status":"noCompatibleBackends","engines":[]}`.
    NoEngines,
}

impl FakeSurvey {
    /// The name the `--survey` option of the fake takes.
    pub(crate) fn as_arg(self) -> &'static str {
        match self {
            Self::Cuda => "cuda",
            Self::AppleSilicon => "apple",
            Self::NoGpu => "no-gpu",
            Self::Hostile => "hostile",
            Self::Malformed => "malformed",
            Self::NoEngines => "no-engines",
        }
    }

    /// Reads a `--survey` value.
    pub(crate) fn from_arg(text: &str) -> Result<Self, String> {
        [
            Self::Cuda,
            Self::AppleSilicon,
            Self::NoGpu,
            Self::Hostile,
            Self::Malformed,
            Self::NoEngines,
        ]
        .into_iter()
        .find(|survey| survey.as_arg() == text)
        .ok_or_else(|| format!("option '--survey': unknown machine {text:?}"))
    }
}

const GIB: u64 = 1 << 30;

fn ok() -> Value {
    json!({ "code": "success", "message": "" })
}

fn engine(
    name: &str,
    engine: &str,
    platform: &str,
    gpus: Value,
    cpu: Value,
    memory: Value,
) -> Value {
    json!({
        "name": name,
        "version": "1.52.1",
        "engine": engine,
        "platform": platform,
        "compatibility": { "status": "compatible" },
        "supportedModelFormatNames": [if engine == "mlx-llm" { "safetensors" } else { "gguf" }],
        "hardwareSurvey": {
            "gpuSurveyResult": {
                "result": if gpus.as_array().is_some_and(Vec::is_empty) {
                    json!({ "code": "noDevicesFound", "message": "No GPUs found" })
                } else {
                    ok()
                },
                "gpuInfo": gpus,
            },
            "cpuSurveyResult": { "result": ok(), "cpuInfo": cpu },
        },
        "memoryInfo": memory,
    })
}

fn rtx_4090() -> Value {
    json!({
        "name": "NVIDIA GeForce RTX 4090",
        "deviceId": 0,
        "totalMemoryCapacityBytes": 24 * GIB,
        "dedicatedMemoryCapacityBytes": 24 * GIB,
        "integrationType": "discrete",
        "detectionPlatform": "CUDA",
        "detectionPlatformVersion": "12.8",
        "otherInfo": { "driverVersion": "570.133.07" },
    })
}

fn x86_cpu() -> Value {
    json!({
        "name": "AMD Ryzen 9 7950X 16-Core Processor",
        "architecture": "x86_64",
        "supportedInstructionSetExtensions": ["AVX", "AVX2"],
    })
}

/// The survey body for `survey` (`None`: not JSON).
pub(crate) fn body(survey: FakeSurvey) -> Option<Value> {
    let apple_gpu = json!({
        "name": "Apple M3 Max",
        "deviceId": 0,
        "totalMemoryCapacityBytes": 48 * GIB,
        "dedicatedMemoryCapacityBytes": 0,
        "integrationType": "integrated",
        "detectionPlatform": "Metal",
        "detectionPlatformVersion": "",
        "otherInfo": {},
    });
    let apple_cpu =
        json!({ "architecture": "ARM64", "supportedInstructionSetExtensions": ["AdvSIMD"] });
    let apple_memory =
        json!({ "ramCapacity": 64 * GIB, "vramCapacity": 48 * GIB, "totalMemory": 64 * GIB });
    let engines = match survey {
        FakeSurvey::Malformed => return None,
        FakeSurvey::NoEngines => {
            return Some(json!({ "status": "noCompatibleBackends", "engines": [] }));
        }
        FakeSurvey::Cuda => vec![engine(
            "CUDA 12 llama.cpp (Linux)",
            "llama.cpp",
            "linux",
            json!([rtx_4090()]),
            x86_cpu(),
            json!({ "ramCapacity": 64 * GIB, "vramCapacity": 24 * GIB, "totalMemory": 88 * GIB }),
        )],
        FakeSurvey::AppleSilicon => vec![
            engine(
                "MLX",
                "mlx-llm",
                "mac",
                json!([apple_gpu.clone()]),
                apple_cpu.clone(),
                apple_memory.clone(),
            ),
            engine(
                "Metal llama.cpp",
                "llama.cpp",
                "mac",
                json!([apple_gpu]),
                apple_cpu,
                apple_memory,
            ),
        ],
        FakeSurvey::NoGpu => vec![engine(
            "CPU llama.cpp (Linux)",
            "llama.cpp",
            "linux",
            json!([]),
            x86_cpu(),
            json!({ "ramCapacity": 16 * GIB, "vramCapacity": 0, "totalMemory": 16 * GIB }),
        )],
        FakeSurvey::Hostile => vec![engine(
            "CUDA 12 llama.cpp (Linux)",
            "llama.cpp",
            "linux",
            json!([
                {
                    "name": "negative", "deviceId": -1,
                    "totalMemoryCapacityBytes": -25_769_803_776i64,
                    "dedicatedMemoryCapacityBytes": 1e300,
                    "integrationType": "discrete", "detectionPlatform": "CUDA",
                    "detectionPlatformVersion": "12.8", "otherInfo": {}
                },
                {
                    "name": "strings", "deviceId": "1",
                    "totalMemoryCapacityBytes": "25769803776",
                    "dedicatedMemoryCapacityBytes": "lots",
                    "integrationType": "discrete", "detectionPlatform": "CUDA",
                    "detectionPlatformVersion": "12.8", "otherInfo": {}
                },
                {
                    "name": "fraction", "deviceId": 2.5,
                    "totalMemoryCapacityBytes": 25_769_803_776.75,
                    "dedicatedMemoryCapacityBytes": true,
                    "integrationType": "quantum", "detectionPlatform": "Glide",
                    "detectionPlatformVersion": "", "otherInfo": {}
                }
            ]),
            x86_cpu(),
            json!({ "ramCapacity": 18_446_744_073_709_551_615u64, "vramCapacity": -1, "totalMemory": "NaN" }),
        )],
    };
    Some(json!({ "status": "ok", "engines": engines }))
}

/// `lms runtime <survey> [--json] [--refresh]`.
pub(crate) fn runtime(
    survey: FakeSurvey,
    rest: &[String],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let Some((sub, rest)) = rest.split_first() else {
        return fail(err, "missing subcommand: lms runtime <survey>");
    };
    if sub != "survey" {
        return fail(err, &format!("unknown command 'runtime {sub}'"));
    }
    let parsed = match args::parse(rest, &[], &["json", "refresh"], &[]) {
        Ok(parsed) => parsed,
        Err(message) => return fail(err, &message),
    };
    let Some(body) = body(survey) else {
        let _ = writeln!(out, "{{\"status\": \"ok\", \"engines\": [{{\"name\": ");
        return 0;
    };
    if parsed.has("json") {
        let text = serde_json::to_string_pretty(&body).unwrap_or_default();
        let _ = writeln!(out, "{text}");
        return 0;
    }
    let engines = body["engines"].as_array().cloned().unwrap_or_default();
    let Some(engine) = engines
        .iter()
        .find(|e| e["engine"] == "llama.cpp")
        .or_else(|| engines.first())
    else {
        let _ = writeln!(out, "No runtime survey results");
        return 0;
    };
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let _ = writeln!(
        out,
        "Survey by {} ({})",
        text(&engine["name"]),
        text(&engine["version"])
    );
    let gpus = engine["hardwareSurvey"]["gpuSurveyResult"]["gpuInfo"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if gpus.is_empty() {
        let _ = writeln!(out, "No GPUs detected");
    }
    for gpu in gpus {
        let _ = writeln!(
            out,
            "{}   {}",
            text(&gpu["name"]),
            gpu["totalMemoryCapacityBytes"]
        );
    }
    0
}
