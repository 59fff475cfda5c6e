//! Checks against a live LM Studio at `LMSTUDIO_URL`: read-only, nothing downloaded or loaded.

use std::time::Duration;

use vtcode_config::{PreloadMode, VTCodeConfig};
use vtcode_lmstudio::LMStudioClient;
use vtcode_lmstudio::proto::openai::{ChatCompletionRequest, ChatMessage};

use crate::checks::{Suite, ensure};

const LIMIT: Duration = Duration::from_secs(120);

/// Detection, listing, and a short chat with a model that is already loaded (if any).
pub(super) async fn run(url: &str) -> Result<(), String> {
    let mut suite = Suite::new(format!("live server at {url}"));
    let mut config = VTCodeConfig::default()
        .with_base_url(url)
        .with_preload(PreloadMode::Off);
    // The token, if any, comes from LM_API_TOKEN (the default variable).
    config.lmstudio.request_timeout_ms = 120_000;
    let client = LMStudioClient::new(&config).map_err(|e| format!("client: {e}"))?;
    suite
        .check("the server is LM Studio", LIMIT, async {
            let info = client.server_info().await.map_err(|e| e.to_string())?;
            println!("        {}", info.describe());
            ensure(info.is_lmstudio(), || format!("detected {:?}", info.kind))
        })
        .await;
    suite
        .check(
            "models() lists downloaded models with their state",
            LIMIT,
            async {
                let catalog = client.models().await.map_err(|e| e.to_string())?;
                println!(
                    "        {} models from {}, {} loaded",
                    catalog.models.len(),
                    catalog.source,
                    catalog.models.iter().filter(|m| m.is_loaded()).count()
                );
                ensure(!catalog.models.is_empty(), || "no models listed".into())
            },
        )
        .await;
    suite
        .check("a loaded LLM streams a short answer", LIMIT, async {
            let catalog = client.models().await.map_err(|e| e.to_string())?;
            let Some(model) = catalog
                .models
                .iter()
                .find(|m| m.is_loaded() && !m.is_embedding())
            else {
                println!("        no LLM is loaded: load one to run this check");
                return Ok(());
            };
            let mut request = ChatCompletionRequest::new(
                model.request_id(),
                vec![ChatMessage::user("Reply with one word: ready")],
            );
            request.max_tokens = Some(16);
            let summary = client
                .chat_stream(request)
                .await
                .map_err(|e| e.to_string())?
                .into_summary()
                .await
                .map_err(|e| e.to_string())?;
            ensure(summary.chunks > 0, || "no chunks".into())
        })
        .await;
    suite.finish()
}
