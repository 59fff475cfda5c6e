//! `lms runtime survey --json`: the hardware each runtime engine sees (GPUs with their memory,
//! the CPU, RAM and VRAM totals) and whether the engine can run on it.
//!
//! The shape is lmstudio-js's `RuntimeHardwareSurveyResult`, which `lms` pretty-prints as is:
//! `{"status", "engines": [{"name", "version", "engine", "platform", "compatibility",
//! "supportedModelFormatNames", "hardwareSurvey": {"gpuSurveyResult": {"result", "gpuInfo"},
//! "cpuSurveyResult": {"result", "cpuInfo"}}, "memoryInfo": {"ramCapacity", "vramCapacity",
//! "totalMemory"}, "visibleDevicesConfig"?}]}`. Capacities only: no part of LM Studio's CLI or
//! SDK reports how much memory is in use.
//!
//! Every number is read leniently (see the `lenient` module): a negative, huge, fractional or
//! non-numeric value reads as `None`, never as a failed parse. Unknown fields are kept in
//! each type's `extra` (`visibleDevicesConfig` among them), `null` reads as absent, and every
//! enum keeps values it does not know in `Other`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::lenient::{i64_or_none, u64_or_none};
use crate::nullable::null_as_default;

open_enum! {
    /// The survey's overall status (`status`).
    pub enum LmsSurveyStatus {
        /// At least one engine can run here (`"ok"`).
        Ok = "ok",
        /// No installed engine can run on this hardware (`"noCompatibleBackends"`).
        NoCompatibleBackends = "noCompatibleBackends",
    }
}

open_enum! {
    /// Whether an engine can run on this machine (`compatibility.status`).
    pub enum LmsCompatibilityStatus {
        /// It can (`"compatible"`).
        Compatible = "compatible",
        /// The app is too old or too new for it (`"incompatibleAppVersion"`).
        IncompatibleAppVersion = "incompatibleAppVersion",
        /// The engine's own version does not fit (`"incompatibleBackendVersion"`).
        IncompatibleBackendVersion = "incompatibleBackendVersion",
        /// Built for another CPU architecture (`"invalidCpuArchitecture"`).
        InvalidCpuArchitecture = "invalidCpuArchitecture",
        /// The CPU lacks instructions it needs, e.g. AVX2 (`"invalidCpuInstructionSetExtensions"`).
        InvalidCpuInstructionSetExtensions = "invalidCpuInstructionSetExtensions",
        /// The CPU could not be surveyed (`"cpuSurveyUnsuccessful"`).
        CpuSurveyUnsuccessful = "cpuSurveyUnsuccessful",
        /// The GPUs could not be surveyed (`"gpuSurveyUnsuccessful"`).
        GpuSurveyUnsuccessful = "gpuSurveyUnsuccessful",
        /// It needs a GPU and there is none (`"gpuRequiredButNoneFound"`).
        GpuRequiredButNoneFound = "gpuRequiredButNoneFound",
        /// It needs GPU targets and none are set (`"gpuTargetsRequiredButNoneSpecified"`).
        GpuTargetsRequiredButNoneSpecified = "gpuTargetsRequiredButNoneSpecified",
        /// The GPU driver is not supported (`"gpuDriverUnsupported"`).
        GpuDriverUnsupported = "gpuDriverUnsupported",
        /// None of the GPUs is supported (`"noSupportedGpus"`).
        NoSupportedGpus = "noSupportedGpus",
        /// Built for another operating system (`"incompatiblePlatform"`).
        IncompatiblePlatform = "incompatiblePlatform",
        /// A library it needs is too old (`"libraryOutdated"`).
        LibraryOutdated = "libraryOutdated",
        /// A library version could not be read (`"invalidLibraryVersionFormat"`).
        InvalidLibraryVersionFormat = "invalidLibraryVersionFormat",
        /// Libraries it needs are missing (`"missingLibraries"`).
        MissingLibraries = "missingLibraries",
        /// Surveying the hardware failed (`"errorSurveyingHardware"`).
        ErrorSurveyingHardware = "errorSurveyingHardware",
        /// Checking compatibility failed (`"errorCheckingCompatibility"`).
        ErrorCheckingCompatibility = "errorCheckingCompatibility",
        /// Not known (`"unknown"`).
        Unknown = "unknown",
    }
}

open_enum! {
    /// How one survey step went (`result.code`).
    pub enum LmsSurveyResultCode {
        /// Not run (`"unset"`).
        Unset = "unset",
        /// It worked (`"success"`).
        Success = "success",
        /// It failed (`"error"`).
        Error = "error",
        /// No devices were found (`"noDevicesFound"`).
        NoDevicesFound = "noDevicesFound",
        /// A device could not be used (`"invalidDevice"`).
        InvalidDevice = "invalidDevice",
    }
}

open_enum! {
    /// The CPU architecture (`cpuInfo.architecture`).
    pub enum LmsCpuArchitecture {
        /// `"x86_64"`.
        X86_64 = "x86_64",
        /// `"ARM64"`.
        Arm64 = "ARM64",
        /// `"unknown"`.
        Unknown = "unknown",
    }
}

open_enum! {
    /// A CPU instruction set extension the engine checks for.
    pub enum LmsCpuInstructionSetExtension {
        /// `"AVX"`.
        Avx = "AVX",
        /// `"AVX2"`.
        Avx2 = "AVX2",
        /// ARM's Advanced SIMD (`"AdvSIMD"`).
        AdvSimd = "AdvSIMD",
    }
}

open_enum! {
    /// How a GPU was found (`gpuInfo[].detectionPlatform`).
    pub enum LmsGpuDetectionPlatform {
        /// `"unknown"`.
        Unknown = "unknown",
        /// A shell command (`"shell"`).
        Shell = "shell",
        /// AMD ROCm (`"ROCm"`).
        Rocm = "ROCm",
        /// NVIDIA CUDA (`"CUDA"`).
        Cuda = "CUDA",
        /// OpenCL (`"OpenCl"`).
        OpenCl = "OpenCl",
        /// Apple Metal (`"Metal"`).
        Metal = "Metal",
        /// Vulkan (`"Vulkan"`).
        Vulkan = "Vulkan",
    }
}

open_enum! {
    /// Whether a GPU has memory of its own (`gpuInfo[].integrationType`).
    pub enum LmsGpuIntegrationType {
        /// `"unknown"`.
        Unknown = "unknown",
        /// Shares the system's memory (`"integrated"`).
        Integrated = "integrated",
        /// Has its own memory (`"discrete"`).
        Discrete = "discrete",
    }
}

/// The whole output of `lms runtime survey --json`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LmsRuntimeSurvey {
    /// `ok`, or `noCompatibleBackends`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<LmsSurveyStatus>,
    /// One entry per runtime engine surveyed (llama.cpp, MLX, ...).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub engines: Vec<LmsSurveyEngine>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What one runtime engine sees.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LmsSurveyEngine {
    /// The engine's display name, e.g. `CUDA 12 llama.cpp (Linux)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The engine's version, e.g. `1.52.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The engine family, e.g. `llama.cpp` or `mlx-llm` (`lms` shows `llama.cpp`'s survey
    /// first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// The platform the engine is built for, e.g. `linux`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Whether the engine can run here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compatibility: Option<LmsSurveyCompatibility>,
    /// The model formats the engine loads, e.g. `gguf`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub supported_model_format_names: Vec<String>,
    /// The GPU and CPU survey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware_survey: Option<LmsHardwareSurvey>,
    /// RAM and VRAM capacity, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_info: Option<LmsSurveyMemoryInfo>,
    /// Fields this crate does not model (`visibleDevicesConfig`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An engine's compatibility with this machine.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LmsSurveyCompatibility {
    /// `compatible`, or why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<LmsCompatibilityStatus>,
    /// More detail, when the engine gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The GPU and CPU parts of an engine's survey.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LmsHardwareSurvey {
    /// The GPUs found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_survey_result: Option<LmsGpuSurveyResult>,
    /// The CPU found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_survey_result: Option<LmsCpuSurveyResult>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// How one survey step went.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LmsSurveyResultInfo {
    /// `success`, `noDevicesFound`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<LmsSurveyResultCode>,
    /// What the engine said about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The GPU survey: how it went, and the GPUs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LmsGpuSurveyResult {
    /// How the survey went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<LmsSurveyResultInfo>,
    /// One entry per GPU.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub gpu_info: Vec<LmsGpuInfo>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One GPU.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LmsGpuInfo {
    /// The GPU's name, e.g. `NVIDIA GeForce RTX 4090`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The device index the engine uses.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "i64_or_none"
    )]
    pub device_id: Option<i64>,
    /// All the memory the GPU can use, in bytes (for an integrated GPU, shared system memory).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "u64_or_none"
    )]
    pub total_memory_capacity_bytes: Option<u64>,
    /// The GPU's own memory, in bytes (0 for an integrated GPU).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "u64_or_none"
    )]
    pub dedicated_memory_capacity_bytes: Option<u64>,
    /// Integrated or discrete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_type: Option<LmsGpuIntegrationType>,
    /// How the GPU was found (CUDA, Metal, Vulkan, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection_platform: Option<LmsGpuDetectionPlatform>,
    /// The detection platform's version, e.g. a CUDA driver version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection_platform_version: Option<String>,
    /// Other key/value details the engine reports.
    #[serde(
        default,
        skip_serializing_if = "Map::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub other_info: Map<String, Value>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl LmsGpuInfo {
    /// The memory `lms` shows for this GPU: the dedicated memory when it is above 0, else the
    /// total (an integrated GPU has no memory of its own). `None` when neither is known.
    pub fn memory_bytes(&self) -> Option<u64> {
        self.dedicated_memory_capacity_bytes
            .filter(|bytes| *bytes > 0)
            .or(self.total_memory_capacity_bytes)
    }
}

/// The CPU survey: how it went, and the CPU.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LmsCpuSurveyResult {
    /// How the survey went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<LmsSurveyResultInfo>,
    /// The CPU, when the survey worked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_info: Option<LmsCpuInfo>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The CPU.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LmsCpuInfo {
    /// The CPU's name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `x86_64` or `ARM64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<LmsCpuArchitecture>,
    /// The extensions it has among those the engine checks (AVX, AVX2, AdvSIMD).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub supported_instruction_set_extensions: Vec<LmsCpuInstructionSetExtension>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Memory capacity as the engine sees it, in bytes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LmsSurveyMemoryInfo {
    /// System RAM.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "u64_or_none"
    )]
    pub ram_capacity: Option<u64>,
    /// GPU memory.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "u64_or_none"
    )]
    pub vram_capacity: Option<u64>,
    /// What the engine counts as its total (on unified-memory machines, not RAM + VRAM).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "u64_or_none"
    )]
    pub total_memory: Option<u64>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl LmsRuntimeSurvey {
    /// The engine `lms runtime survey` shows: `llama.cpp`'s, else the first.
    pub fn primary_engine(&self) -> Option<&LmsSurveyEngine> {
        self.engines
            .iter()
            .find(|engine| engine.engine.as_deref() == Some("llama.cpp"))
            .or_else(|| self.engines.first())
    }
}

impl LmsSurveyEngine {
    /// The GPUs this engine found (empty when none, or when the survey says nothing).
    pub fn gpus(&self) -> &[LmsGpuInfo] {
        self.hardware_survey
            .as_ref()
            .and_then(|survey| survey.gpu_survey_result.as_ref())
            .map_or(&[], |result| result.gpu_info.as_slice())
    }

    /// The CPU this engine found, when the survey says.
    pub fn cpu(&self) -> Option<&LmsCpuInfo> {
        self.hardware_survey
            .as_ref()
            .and_then(|survey| survey.cpu_survey_result.as_ref())
            .and_then(|result| result.cpu_info.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_memory_is_dedicated_when_above_zero_else_total() {
        let gpu: LmsGpuInfo = serde_json::from_str(
            r#"{"totalMemoryCapacityBytes":100,"dedicatedMemoryCapacityBytes":80}"#,
        )
        .unwrap();
        assert_eq!(gpu.memory_bytes(), Some(80));
        let integrated: LmsGpuInfo = serde_json::from_str(
            r#"{"totalMemoryCapacityBytes":100,"dedicatedMemoryCapacityBytes":0}"#,
        )
        .unwrap();
        assert_eq!(integrated.memory_bytes(), Some(100));
        let hostile: LmsGpuInfo = serde_json::from_str(
            r#"{"totalMemoryCapacityBytes":"lots","dedicatedMemoryCapacityBytes":-5,"deviceId":1e99}"#,
        )
        .unwrap();
        assert_eq!(hostile.memory_bytes(), None);
        assert_eq!(hostile.device_id, None);
    }

    #[test]
    fn the_primary_engine_is_llama_cpp_else_the_first() {
        let survey: LmsRuntimeSurvey = serde_json::from_str(
            r#"{"status":"ok","engines":[{"engine":"mlx-llm"},{"engine":"llama.cpp"}]}"#,
        )
        .unwrap();
        assert_eq!(
            survey.primary_engine().and_then(|e| e.engine.as_deref()),
            Some("llama.cpp")
        );
        let survey: LmsRuntimeSurvey =
            serde_json::from_str(r#"{"engines":[{"engine":"mlx-llm"}]}"#).unwrap();
        assert_eq!(
            survey.primary_engine().and_then(|e| e.engine.as_deref()),
            Some("mlx-llm")
        );
        assert!(LmsRuntimeSurvey::default().primary_engine().is_none());
        assert!(LmsSurveyEngine::default().gpus().is_empty());
    }
}
