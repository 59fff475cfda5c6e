//! Catalog entries: the models the emulator knows about (downloadable, downloaded, loaded).

/// What kind of model a catalog entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// A text-generation model (`"llm"` everywhere).
    Llm,
    /// An embedding model (`"embedding"` in `/api/v1`, `"embeddings"` in `/api/v0`).
    Embedding,
}

/// One model of the emulator's catalog, built with chained setters.
///
/// Defaults are derived from the key: the publisher is the part before `/`, the display name
/// is the rest with `-` read as spaces, an LLM is a 4.68 GB `Q4_K_M` GGUF with a 131072-token
/// context and one variant `key@q4_k_m`; an embedding model is an 84 MB `Q4_0` GGUF with a
/// 2048-token context. Entries are not downloaded and not loaded unless told.
///
/// ```
/// use lmstudio_testkit::CatalogModel;
/// let model = CatalogModel::llm("qwen/qwen3-4b").size_bytes(2_500_000_000).downloaded(true);
/// assert_eq!(model.key(), "qwen/qwen3-4b");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CatalogModel {
    pub(crate) key: String,
    pub(crate) kind: ModelKind,
    pub(crate) publisher: String,
    pub(crate) display_name: String,
    pub(crate) architecture: Option<String>,
    pub(crate) quantization: Option<(String, u32)>,
    pub(crate) size_bytes: u64,
    pub(crate) params_string: Option<String>,
    pub(crate) max_context_length: u32,
    pub(crate) format: String,
    pub(crate) vision: bool,
    pub(crate) tool_use: bool,
    pub(crate) reasoning: bool,
    pub(crate) variants: Vec<String>,
    pub(crate) downloaded: bool,
    pub(crate) loaded: bool,
}

impl CatalogModel {
    /// A text-generation model with the given key, e.g. `openai/gpt-oss-20b`.
    pub fn llm(key: impl Into<String>) -> Self {
        let key = key.into();
        let variants = vec![format!("{key}@q4_k_m")];
        Self {
            publisher: publisher_of(&key),
            display_name: display_name_of(&key),
            architecture: Some("llama".to_owned()),
            quantization: Some(("Q4_K_M".to_owned(), 4)),
            size_bytes: 4_683_073_952,
            params_string: Some("7B".to_owned()),
            max_context_length: 131_072,
            format: "gguf".to_owned(),
            vision: false,
            tool_use: true,
            reasoning: false,
            variants,
            downloaded: false,
            loaded: false,
            kind: ModelKind::Llm,
            key,
        }
    }

    /// An embedding model with the given key, e.g. `text-embedding-nomic-embed-text-v1.5`.
    pub fn embedding(key: impl Into<String>) -> Self {
        let key = key.into();
        Self {
            publisher: publisher_of(&key),
            display_name: display_name_of(&key),
            architecture: Some("nomic-bert".to_owned()),
            quantization: Some(("Q4_0".to_owned(), 4)),
            size_bytes: 84_106_624,
            params_string: None,
            max_context_length: 2048,
            format: "gguf".to_owned(),
            vision: false,
            tool_use: false,
            reasoning: false,
            variants: Vec::new(),
            downloaded: false,
            loaded: false,
            kind: ModelKind::Embedding,
            key,
        }
    }

    /// `openai/gpt-oss-20b` as LM Studio's catalog describes it (12.1 GB, MXFP4, reasoning,
    /// tool use), not downloaded. The emulator's default catalog starts with it.
    pub fn gpt_oss_20b() -> Self {
        Self::llm("openai/gpt-oss-20b")
            .display_name("OpenAI's gpt-oss 20B")
            .architecture("gpt-oss")
            .quantization("MXFP4", 4)
            .size_bytes(12_109_566_560)
            .params_string("20B")
            .reasoning(true)
            .variants(vec!["openai/gpt-oss-20b@mxfp4".to_owned()])
    }

    /// `text-embedding-nomic-embed-text-v1.5`, downloaded: every fresh LM Studio install ships it.
    pub fn nomic_embed() -> Self {
        Self::embedding("text-embedding-nomic-embed-text-v1.5")
            .publisher("nomic-ai")
            .display_name("Nomic Embed Text v1.5")
            .downloaded(true)
    }

    /// The model key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The model kind.
    pub fn kind(&self) -> ModelKind {
        self.kind
    }

    /// The download size in bytes (`size_bytes`, `sizeBytes`).
    pub fn size_bytes(mut self, bytes: u64) -> Self {
        self.size_bytes = bytes;
        self
    }

    /// Whether the model is already downloaded when the emulator starts.
    pub fn downloaded(mut self, downloaded: bool) -> Self {
        self.downloaded = downloaded;
        if !downloaded {
            self.loaded = false;
        }
        self
    }

    /// Whether one instance (identifier = key) is loaded when the emulator starts.
    /// `true` implies downloaded.
    pub fn loaded(mut self, loaded: bool) -> Self {
        self.loaded = loaded;
        if loaded {
            self.downloaded = true;
        }
        self
    }

    /// The publisher (`publisher`).
    pub fn publisher(mut self, publisher: impl Into<String>) -> Self {
        self.publisher = publisher.into();
        self
    }

    /// The human-readable name (`display_name`, `displayName`).
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = name.into();
        self
    }

    /// The architecture (`architecture`, v0 `arch`).
    pub fn architecture(mut self, arch: impl Into<String>) -> Self {
        self.architecture = Some(arch.into());
        self
    }

    /// The quantization name and bits per weight.
    pub fn quantization(mut self, name: impl Into<String>, bits: u32) -> Self {
        self.quantization = Some((name.into(), bits));
        self
    }

    /// The parameter count label, e.g. `20B`.
    pub fn params_string(mut self, params: impl Into<String>) -> Self {
        self.params_string = Some(params.into());
        self
    }

    /// The maximum context length the model supports.
    pub fn max_context_length(mut self, tokens: u32) -> Self {
        self.max_context_length = tokens;
        self
    }

    /// The file format: `gguf` (default) or `mlx`.
    pub fn format(mut self, format: impl Into<String>) -> Self {
        self.format = format.into();
        self
    }

    /// Whether the model accepts images (`capabilities.vision`; v0 `type: "vlm"`).
    pub fn vision(mut self, vision: bool) -> Self {
        self.vision = vision;
        self
    }

    /// Whether the model was trained for tool use (`capabilities.trained_for_tool_use`).
    pub fn tool_use(mut self, tool_use: bool) -> Self {
        self.tool_use = tool_use;
        self
    }

    /// Whether the model reports reasoning options (`capabilities.reasoning`).
    pub fn reasoning(mut self, reasoning: bool) -> Self {
        self.reasoning = reasoning;
        self
    }

    /// The variant keys (`variants`); the first one is the `selected_variant`.
    pub fn variants(mut self, variants: Vec<String>) -> Self {
        self.variants = variants;
        self
    }

    /// Whether `name` designates this model: its key, one of its variants, `key@anything`, or
    /// the key in another ASCII case.
    pub(crate) fn matches(&self, name: &str) -> bool {
        if name == self.key || self.variants.iter().any(|v| v == name) {
            return true;
        }
        let base = name.split_once('@').map_or(name, |(base, _)| base);
        base.eq_ignore_ascii_case(&self.key)
    }

    /// `"llm"` or `"embedding"`.
    pub(crate) fn type_str(&self) -> &'static str {
        match self.kind {
            ModelKind::Llm => "llm",
            ModelKind::Embedding => "embedding",
        }
    }
}

fn publisher_of(key: &str) -> String {
    match key.split_once('/') {
        Some((publisher, _)) => publisher.to_owned(),
        None => "lmstudio-community".to_owned(),
    }
}

fn display_name_of(key: &str) -> String {
    let name = key.rsplit('/').next().unwrap_or(key);
    name.split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_derive_from_the_key() {
        let model = CatalogModel::llm("qwen/qwen3-4b");
        assert_eq!(model.publisher, "qwen");
        assert_eq!(model.display_name, "Qwen3 4b");
        assert_eq!(model.variants, vec!["qwen/qwen3-4b@q4_k_m".to_owned()]);
        let bare = CatalogModel::embedding("text-embedding-x");
        assert_eq!(bare.publisher, "lmstudio-community");
    }

    #[test]
    fn matching_accepts_variants_and_case_but_not_other_models() {
        let model = CatalogModel::llm("openai/gpt-oss-20b");
        assert!(model.matches("openai/gpt-oss-20b"));
        assert!(model.matches("openai/gpt-oss-20b@q4_k_m"));
        assert!(model.matches("OpenAI/GPT-OSS-20B"));
        assert!(!model.matches("openai/gpt-oss-120b"));
        assert!(!model.matches("gpt-oss-20b"));
    }

    #[test]
    fn loaded_implies_downloaded() {
        let model = CatalogModel::llm("a/b").loaded(true);
        assert!(model.downloaded);
        let model = model.downloaded(false);
        assert!(!model.loaded);
    }
}
