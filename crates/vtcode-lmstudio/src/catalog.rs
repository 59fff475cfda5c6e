//! One merged view of the server's models, whatever listing the server supports.
//!
//! LM Studio 0.4+ lists models with `key` and `loaded_instances` on `/api/v1/models`; 0.3.6+
//! has `state` on `/api/v0/models`; `lms ls/ps --json` covers older servers on this machine;
//! `/v1/models` is the last resort (with JIT loading off it lists only loaded models).

use std::time::Duration;

/// Which listing a [`ModelCatalog`] came from, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CatalogSource {
    /// `GET /api/v1/models` (LM Studio 0.4+): downloaded models with their loaded instances.
    NativeV1,
    /// `GET /api/v0/models` (LM Studio 0.3.6+): downloaded models with a `state`.
    NativeV0,
    /// `lms ls --json` and `lms ps --json` on this machine.
    LmsCli,
    /// `GET /v1/models`: with JIT loading on, every downloaded model; with it off, only the
    /// loaded ones. Load state is unknown.
    OpenAiModels,
}

impl CatalogSource {
    /// True when the listing includes models that are downloaded but not loaded.
    pub fn lists_unloaded_models(self) -> bool {
        !matches!(self, Self::OpenAiModels)
    }

    /// True when the listing says which models are loaded.
    pub fn knows_load_state(self) -> bool {
        !matches!(self, Self::OpenAiModels)
    }
}

impl std::fmt::Display for CatalogSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NativeV1 => "GET /api/v1/models",
            Self::NativeV0 => "GET /api/v0/models",
            Self::LmsCli => "lms ls --json / lms ps --json",
            Self::OpenAiModels => "GET /v1/models",
        })
    }
}

/// What kind of model this is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelKind {
    /// A text model.
    Llm,
    /// A vision-language model.
    Vlm,
    /// An embedding model.
    Embedding,
    /// A kind this crate does not know, as the server spelled it.
    Other(String),
    /// The listing does not say.
    Unknown,
}

impl ModelKind {
    pub(crate) fn from_wire(kind: &str) -> Self {
        match kind {
            "llm" => Self::Llm,
            "vlm" => Self::Vlm,
            "embedding" | "embeddings" => Self::Embedding,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// Whether the model is in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelState {
    /// At least one instance is loaded.
    Loaded,
    /// Downloaded, not loaded.
    NotLoaded,
    /// Being loaded right now.
    Loading,
    /// The listing does not say (`/v1/models`).
    Unknown,
}

/// A loaded instance of a model.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LoadedInstanceInfo {
    /// The identifier to send as `model` (`key`, `key:2`, or a custom one).
    pub id: String,
    /// The context length it was loaded with.
    pub context_length: Option<u64>,
    /// Idle time-to-live, when known (from `lms ps --json` `ttlMs`; the REST listings do not
    /// say): LM Studio unloads the instance after this long without requests.
    pub ttl: Option<Duration>,
    /// Maximum concurrent predictions, when known.
    pub parallel: Option<u64>,
    /// The LM Link device running the instance, when it is not this machine (from `lms ps
    /// --json` `deviceIdentifier`). `None` means this machine, or not known: the REST
    /// listings do not say (see [`LMStudioClient::status`](crate::LMStudioClient::status)).
    pub device: Option<String>,
}

impl LoadedInstanceInfo {
    /// An instance with only its id known.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            context_length: None,
            ttl: None,
            parallel: None,
            device: None,
        }
    }
}

/// Everything the server says about one model, merged across listing formats.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ModelInfo {
    /// The model key, e.g. `openai/gpt-oss-20b`.
    pub key: String,
    /// LLM, VLM or embedding model.
    pub kind: ModelKind,
    /// Human-friendly name.
    pub display_name: Option<String>,
    /// Publisher, e.g. `openai`.
    pub publisher: Option<String>,
    /// Loaded or not.
    pub state: ModelState,
    /// Loaded instances (empty when not loaded or unknown).
    pub loaded_instances: Vec<LoadedInstanceInfo>,
    /// The largest context the model supports.
    pub max_context_length: Option<u64>,
    /// The context length of the first loaded instance.
    pub loaded_context_length: Option<u64>,
    /// Size on disk.
    pub size_bytes: Option<u64>,
    /// Quantization name, e.g. `Q4_K_M`.
    pub quantization: Option<String>,
    /// File format, e.g. `gguf` or `mlx`.
    pub format: Option<String>,
    /// Architecture, e.g. `gpt-oss`.
    pub architecture: Option<String>,
    /// What the model can do, as the server lists it.
    pub capabilities: Capabilities,
    /// Variant keys (`key@quant`) the model groups.
    pub variants: Vec<String>,
    /// The variant in use.
    pub selected_variant: Option<String>,
    /// The LM Link device the model is on, when it is not this machine (`lms ls --json`
    /// `deviceIdentifier`; `None`: this machine, or a listing that does not say).
    pub device: Option<String>,
}

/// What a model can do: read from `/api/v1/models` `capabilities`, the `/api/v0/models`
/// `capabilities` array, and `lms ls --json` (`vision`, `trainedForToolUse`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// The model takes images.
    pub vision: bool,
    /// The model was trained for tool use (function calling).
    pub tool_use: bool,
    /// The model reasons, and which reasoning settings it accepts.
    pub reasoning: Option<ReasoningOptions>,
    /// Capabilities this crate does not know, as the server named them.
    pub other: Vec<String>,
}

/// The reasoning settings a model accepts (the chat request's `reasoning`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReasoningOptions {
    /// The accepted values, e.g. `off`, `low`, `medium`, `high` (empty when the server only
    /// says the model reasons).
    pub allowed: Vec<String>,
    /// The value used when a request does not choose.
    pub default: Option<String>,
}

impl Capabilities {
    /// True when the model has a capability of this name: `vision`, `tool_use` (or
    /// `trained_for_tool_use`), `reasoning`, or one of [`other`](Self::other).
    pub fn has(&self, name: &str) -> bool {
        match name {
            "vision" => self.vision,
            "tool_use" | "trained_for_tool_use" => self.tool_use,
            "reasoning" => self.reasoning.is_some(),
            other => self.other.iter().any(|c| c == other),
        }
    }

    /// Adds a capability named as `/api/v0/models` names them; unknown names are kept.
    pub(crate) fn add_named(&mut self, name: &str) {
        match name {
            "vision" => self.vision = true,
            "tool_use" | "trained_for_tool_use" => self.tool_use = true,
            "reasoning" => {
                self.reasoning.get_or_insert_with(ReasoningOptions::default);
            }
            other if !self.other.iter().any(|c| c == other) => self.other.push(other.to_owned()),
            _ => {}
        }
    }
}

impl ModelInfo {
    /// A model with only its key known.
    pub fn new(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            kind: ModelKind::Unknown,
            display_name: None,
            publisher: None,
            state: ModelState::Unknown,
            loaded_instances: Vec::new(),
            max_context_length: None,
            loaded_context_length: None,
            size_bytes: None,
            quantization: None,
            format: None,
            architecture: None,
            capabilities: Capabilities::default(),
            variants: Vec::new(),
            selected_variant: None,
            device: None,
        }
    }

    /// True when an instance is loaded (per the listing).
    pub fn is_loaded(&self) -> bool {
        self.state == ModelState::Loaded || !self.loaded_instances.is_empty()
    }

    /// The id to send as `model` in inference requests: the first instance, else the key.
    pub fn request_id(&self) -> &str {
        self.loaded_instances
            .first()
            .map(|i| i.id.as_str())
            .unwrap_or(&self.key)
    }

    /// True for embedding models (loaded and warmed with an embeddings request).
    pub fn is_embedding(&self) -> bool {
        self.kind == ModelKind::Embedding
    }
}

/// A snapshot of the server's models.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ModelCatalog {
    /// Where the listing came from.
    pub source: CatalogSource,
    /// The models, in the server's order.
    pub models: Vec<ModelInfo>,
}

impl ModelCatalog {
    /// The keys, in order.
    pub fn keys(&self) -> Vec<String> {
        self.models.iter().map(|m| m.key.clone()).collect()
    }
}
