//! [`LMStudioClient::resources`]: what LM Studio can tell about memory, in one call — the
//! hardware's capacity (`lms runtime survey --json`) and what is loaded now (with sizes,
//! contexts, TTLs and LM Link devices) — and, in [`RESOURCE_LIMITS`], what it cannot.

use lmstudio_proto::lms::{
    LmsCompatibilityStatus, LmsGpuDetectionPlatform, LmsGpuInfo, LmsGpuIntegrationType,
    LmsRuntimeSurvey, LmsSurveyEngine,
};

use crate::client::LMStudioClient;
use crate::error::LmStudioError;
use crate::status::LoadedModelStatus;

/// What no call of this crate can report, because neither LM Studio's SDK (lmstudio-js) nor
/// its CLI (`lms`) offers it.
pub const RESOURCE_LIMITS: &str = "LM Studio reports no live memory usage: neither its SDK nor \
its lms CLI says how much RAM or VRAM is in use or free. What exists is the hardware's \
capacity (lms runtime survey), an estimate before a load (lms load --estimate-only, see \
LMStudioClient::estimate_load), and the loaded instances with their on-disk size, context \
length, TTL and LM Link device. The on-disk size is a lower bound of what an instance uses: \
its context (KV cache) comes on top.";

/// Hardware capacity, what is loaded, and why a part is missing.
///
/// ```no_run
/// # async fn run(client: vtcode_lmstudio::LMStudioClient) -> Result<(), vtcode_lmstudio::LmStudioError> {
/// let resources = client.resources().await?;
/// if let Some(engine) = resources.primary_engine() {
///     for gpu in &engine.gpus {
///         println!("{:?}: {:?} bytes", gpu.name, gpu.memory_bytes);
///     }
/// }
/// println!("loaded: {} bytes on disk", resources.loaded_size_bytes());
/// for note in &resources.notes {
///     println!("note: {note}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Resources {
    /// The hardware each runtime engine sees, in the survey's order (see
    /// [`primary_engine`](Self::primary_engine)). Empty when the survey could not be read:
    /// [`notes`](Self::notes) says why.
    pub engines: Vec<EngineResources>,
    /// Every loaded instance, as [`LMStudioClient::status`] lists them.
    pub loaded: Vec<LoadedModelStatus>,
    /// Why a part of this answer is missing or partial (no `lms`, a server on another
    /// machine, a survey that failed, TTLs and devices unknown).
    pub notes: Vec<String>,
}

impl Resources {
    /// The engine `lms runtime survey` shows: `llama.cpp`'s, else the first.
    pub fn primary_engine(&self) -> Option<&EngineResources> {
        self.engines
            .iter()
            .find(|engine| engine.engine.as_deref() == Some("llama.cpp"))
            .or_else(|| self.engines.first())
    }

    /// The on-disk size of every loaded instance, summed (saturating; an instance of unknown
    /// size counts 0). A lower bound of the memory they use: see [`RESOURCE_LIMITS`].
    pub fn loaded_size_bytes(&self) -> u64 {
        self.loaded
            .iter()
            .filter_map(|instance| instance.size_bytes)
            .fold(0u64, u64::saturating_add)
    }

    /// What LM Studio cannot report ([`RESOURCE_LIMITS`]).
    pub fn limits(&self) -> &'static str {
        RESOURCE_LIMITS
    }
}

/// What one runtime engine (llama.cpp, MLX, ...) sees of the hardware. Every number is
/// `None` when the survey did not give a usable one.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EngineResources {
    /// The engine's display name, e.g. `CUDA 12 llama.cpp (Linux)`.
    pub name: Option<String>,
    /// The engine's version.
    pub version: Option<String>,
    /// The engine family, e.g. `llama.cpp` or `mlx-llm`.
    pub engine: Option<String>,
    /// The platform it is built for, e.g. `linux`.
    pub platform: Option<String>,
    /// Whether it can run here (`compatible`, or why not).
    pub compatibility: Option<LmsCompatibilityStatus>,
    /// The engine's words about its compatibility, when it gives them.
    pub compatibility_message: Option<String>,
    /// The GPUs it found.
    pub gpus: Vec<GpuResources>,
    /// System RAM, in bytes (`memoryInfo.ramCapacity`).
    pub ram_bytes: Option<u64>,
    /// GPU memory, in bytes (`memoryInfo.vramCapacity`).
    pub vram_bytes: Option<u64>,
    /// The engine's total (`memoryInfo.totalMemory`; on unified-memory machines not the sum
    /// of the two above).
    pub total_memory_bytes: Option<u64>,
}

impl EngineResources {
    /// True when the survey says the engine can run here.
    pub fn is_compatible(&self) -> bool {
        self.compatibility == Some(LmsCompatibilityStatus::Compatible)
    }

    /// The memory of every GPU, summed as `lms` shows each one (saturating; unknown ones
    /// count 0). `None` without GPUs.
    pub fn gpu_memory_bytes(&self) -> Option<u64> {
        (!self.gpus.is_empty()).then(|| {
            self.gpus
                .iter()
                .filter_map(|gpu| gpu.memory_bytes)
                .fold(0u64, u64::saturating_add)
        })
    }
}

/// One GPU.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GpuResources {
    /// Its name, e.g. `NVIDIA GeForce RTX 4090`.
    pub name: Option<String>,
    /// Its memory as `lms` shows it: the dedicated memory when above 0, else the total (an
    /// integrated GPU has none of its own and uses shared memory).
    pub memory_bytes: Option<u64>,
    /// All the memory it can use (`totalMemoryCapacityBytes`).
    pub total_memory_bytes: Option<u64>,
    /// Its own memory (`dedicatedMemoryCapacityBytes`; 0 for an integrated GPU).
    pub dedicated_memory_bytes: Option<u64>,
    /// Integrated or discrete.
    pub integration: Option<LmsGpuIntegrationType>,
    /// How it was found: CUDA, Metal, Vulkan, ROCm, ...
    pub detection_platform: Option<LmsGpuDetectionPlatform>,
}

impl From<&LmsGpuInfo> for GpuResources {
    fn from(gpu: &LmsGpuInfo) -> Self {
        Self {
            name: gpu.name.clone(),
            memory_bytes: gpu.memory_bytes(),
            total_memory_bytes: gpu.total_memory_capacity_bytes,
            dedicated_memory_bytes: gpu.dedicated_memory_capacity_bytes,
            integration: gpu.integration_type.clone(),
            detection_platform: gpu.detection_platform.clone(),
        }
    }
}

impl From<&LmsSurveyEngine> for EngineResources {
    fn from(engine: &LmsSurveyEngine) -> Self {
        let memory = engine.memory_info.as_ref();
        Self {
            name: engine.name.clone(),
            version: engine.version.clone(),
            engine: engine.engine.clone(),
            platform: engine.platform.clone(),
            compatibility: engine.compatibility.as_ref().and_then(|c| c.status.clone()),
            compatibility_message: engine
                .compatibility
                .as_ref()
                .and_then(|c| c.message.clone()),
            gpus: engine.gpus().iter().map(GpuResources::from).collect(),
            ram_bytes: memory.and_then(|m| m.ram_capacity),
            vram_bytes: memory.and_then(|m| m.vram_capacity),
            total_memory_bytes: memory.and_then(|m| m.total_memory),
        }
    }
}

impl LMStudioClient {
    /// What LM Studio can tell about memory, in one call: the hardware's capacity per runtime
    /// engine (`lms runtime survey --json`: GPUs with their total and dedicated memory, RAM,
    /// VRAM, compatibility) and every loaded instance with its on-disk size, context length,
    /// TTL and LM Link device ([`status`](Self::status)).
    ///
    /// **There is no live VRAM or RAM usage**: neither LM Studio's SDK nor its CLI reports
    /// it ([`RESOURCE_LIMITS`]). For "will this model fit?", ask before loading with
    /// [`estimate_load`](Self::estimate_load).
    ///
    /// The survey needs `lms` on the server's machine (a loopback URL, or `[lmstudio]
    /// lms_path`), and runs with `lms`'s usual time limit (60 s). Without it, or when it
    /// fails, [`Resources::engines`] is empty and [`Resources::notes`] says why: only an
    /// unreachable server or a rejected token fail the call (as for `status`). The survey
    /// and the listing run concurrently.
    pub async fn resources(&self) -> Result<Resources, LmStudioError> {
        let (loaded, survey) = tokio::join!(self.status(), self.hardware_survey());
        let loaded = loaded?;
        let mut notes = Vec::new();
        let engines = match survey {
            Ok(survey) => {
                if survey.engines.is_empty() {
                    notes.push(
                        "the hardware survey lists no runtime engine (none installed, or none \
                         runs on this machine)"
                            .to_owned(),
                    );
                }
                survey.engines.iter().map(EngineResources::from).collect()
            }
            Err(note) => {
                notes.push(note);
                Vec::new()
            }
        };
        if !loaded.is_empty()
            && loaded.iter().all(|i| i.ttl.is_none() && i.device.is_none())
            && !self.lms_reachable()
        {
            notes.push(
                "TTLs and LM Link devices of the loaded instances are unknown: only lms reports \
                 them, and it is not available for this server"
                    .to_owned(),
            );
        }
        Ok(Resources {
            engines,
            loaded,
            notes,
        })
    }

    /// The survey, or a note saying why there is none.
    async fn hardware_survey(&self) -> Result<LmsRuntimeSurvey, String> {
        if !self.inner.settings.lms_allowed() {
            return Err(format!(
                "no hardware survey: it comes from lms, and {} is not on this machine (set \
                 [lmstudio] lms_path when it is)",
                self.base_url()
            ));
        }
        let lms = self
            .lms()
            .map_err(|err| format!("no hardware survey: {err}"))?;
        lms.runtime_survey()
            .await
            .map_err(|err| format!("the hardware survey failed: {err}"))
    }

    /// Whether an `lms` for this server can be found (discovered once, then remembered).
    fn lms_reachable(&self) -> bool {
        self.inner.settings.lms_allowed() && self.lms().is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn survey(json: &str) -> LmsRuntimeSurvey {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn engines_and_gpus_take_what_the_survey_says() {
        let survey = survey(
            r#"{"engines":[{"engine":"mlx-llm"},{"engine":"llama.cpp","name":"Metal llama.cpp",
                "compatibility":{"status":"compatible"},
                "hardwareSurvey":{"gpuSurveyResult":{"gpuInfo":[
                    {"name":"Apple M3 Max","totalMemoryCapacityBytes":100,"dedicatedMemoryCapacityBytes":0,
                     "integrationType":"integrated","detectionPlatform":"Metal"},
                    {"name":"eGPU","totalMemoryCapacityBytes":-1,"dedicatedMemoryCapacityBytes":18446744073709551615}]}},
                "memoryInfo":{"ramCapacity":200,"vramCapacity":100,"totalMemory":"x"}}]}"#,
        );
        let resources = Resources {
            engines: survey.engines.iter().map(EngineResources::from).collect(),
            loaded: Vec::new(),
            notes: Vec::new(),
        };
        let engine = resources.primary_engine().unwrap();
        assert_eq!(engine.name.as_deref(), Some("Metal llama.cpp"));
        assert!(engine.is_compatible());
        assert!(!resources.engines[0].is_compatible());
        assert_eq!(engine.gpus[0].memory_bytes, Some(100));
        assert_eq!(engine.gpus[0].dedicated_memory_bytes, Some(0));
        assert_eq!(engine.gpus[1].memory_bytes, Some(u64::MAX));
        assert_eq!(engine.gpus[1].total_memory_bytes, None);
        assert_eq!(engine.gpu_memory_bytes(), Some(u64::MAX), "saturates");
        assert_eq!(resources.engines[0].gpu_memory_bytes(), None);
        assert_eq!(
            (
                engine.ram_bytes,
                engine.vram_bytes,
                engine.total_memory_bytes
            ),
            (Some(200), Some(100), None)
        );
        assert_eq!(resources.loaded_size_bytes(), 0);
        assert!(resources.limits().contains("no live memory usage"));
    }
}
