//! Reading the model list from the best source the server supports, detecting the server's
//! kind on the first read, and caching the result briefly.

use std::sync::Arc;

use lmstudio_lms::Lms;
use lmstudio_proto::native::{v0, v1};
use lmstudio_proto::openai::ModelList;

use crate::catalog::{CatalogSource, ModelCatalog};
use crate::client::{LMStudioClient, lock};
use crate::convert;
use crate::error::LmStudioError;
use crate::progress::NoProgress;
use crate::server::{NativeApi, ServerInfo, ServerKind, is_missing_route};

impl LMStudioClient {
    /// Every model the server has, from the best listing it supports, cached for a short
    /// time (see [`LMStudioClientBuilder::catalog_ttl`](crate::LMStudioClientBuilder::catalog_ttl)). The first call also detects
    /// what kind of server this is.
    pub async fn models(&self) -> Result<Arc<ModelCatalog>, LmStudioError> {
        if let Some(catalog) = self.cached_catalog() {
            return Ok(catalog);
        }
        self.refresh_models().await
    }

    /// Reads the model list from the server, bypassing the cache. Concurrent reads for one
    /// server (from any client) share one request, unless the list was invalidated after
    /// the running one started.
    pub async fn refresh_models(&self) -> Result<Arc<ModelCatalog>, LmStudioError> {
        let generation = self.engine().catalog_generation();
        let client = self.clone();
        self.engine()
            .refreshes
            .run(&generation.to_string(), &NoProgress, move |_| async move {
                let catalog = Arc::new(client.read_catalog().await?);
                client.engine().store_catalog(generation, catalog.clone());
                Ok(catalog)
            })
            .await
    }

    /// One read of the model list, detecting the server first when it is not known. A
    /// listing route that has gone away (the server was replaced by another version) makes
    /// the detection run again.
    async fn read_catalog(&self) -> Result<ModelCatalog, LmStudioError> {
        let Some(server) = self.detected_server() else {
            return self.detect_and_list().await;
        };
        match self.list_from(&server).await {
            Err(err) if is_missing_route(&err) => {
                tracing::debug!(error = %err, "the known listing is gone; detecting the server again");
                self.engine().forget_server();
                self.detect_and_list().await
            }
            other => other,
        }
    }

    /// What kind of server this is (detected once per server, then remembered until the
    /// server stops answering or rejects the token).
    pub async fn server_info(&self) -> Result<ServerInfo, LmStudioError> {
        // A read that another client started before the detection was forgotten (the server
        // went away and came back) may finish without detecting: read once more.
        for _ in 0..2 {
            if let Some(server) = self.detected_server() {
                return Ok(server);
            }
            self.refresh_models().await?;
        }
        self.detected_server()
            .ok_or_else(|| LmStudioError::Transport {
                url: self.base_url().to_owned(),
                message: "the server kind could not be detected".to_owned(),
                source: None,
            })
    }

    /// The server kind, if it has been detected already.
    pub fn detected_server(&self) -> Option<ServerInfo> {
        // The engine is shared; where the URL came from is this client's own.
        self.engine().server().map(|mut server| {
            server.url_source = self.inner.settings.url_source.clone();
            server
        })
    }

    fn remember(&self, kind: ServerKind, listing: CatalogSource) {
        self.engine().set_server(ServerInfo {
            kind,
            listing,
            base_url: self.base_url().to_owned(),
            url_source: self.inner.settings.url_source.clone(),
        });
    }

    /// Probes the listings best first. A route that does not exist moves on to the next one;
    /// any other failure (unreachable, token rejected, server error) stops here, and the
    /// detection is tried again on the next call.
    async fn detect_and_list(&self) -> Result<ModelCatalog, LmStudioError> {
        match self.list_v1().await {
            Ok(catalog) => {
                self.remember(ServerKind::LmStudio(NativeApi::V1), CatalogSource::NativeV1);
                return Ok(catalog);
            }
            Err(err) if is_missing_route(&err) => {
                tracing::debug!(error = %err, "no /api/v1/models; trying /api/v0/models");
            }
            Err(err) => return Err(err),
        }
        match self.list_v0().await {
            Ok(catalog) => {
                self.remember(ServerKind::LmStudio(NativeApi::V0), CatalogSource::NativeV0);
                return Ok(catalog);
            }
            Err(err) if is_missing_route(&err) => {
                tracing::debug!(error = %err, "no /api/v0/models; checking /lmstudio-greeting");
            }
            Err(err) => return Err(err),
        }
        let kind = if self.greets_as_lmstudio().await? {
            ServerKind::LmStudio(NativeApi::None)
        } else {
            ServerKind::OpenAiCompatible
        };
        if kind != ServerKind::OpenAiCompatible && self.inner.settings.lms_allowed() {
            match self.list_lms().await {
                Ok(catalog) => {
                    self.remember(kind, CatalogSource::LmsCli);
                    return Ok(catalog);
                }
                Err(err) => {
                    tracing::debug!(error = %err, "lms listing unavailable; using /v1/models")
                }
            }
        }
        let catalog = self.list_openai().await?;
        self.remember(kind, CatalogSource::OpenAiModels);
        Ok(catalog)
    }

    async fn list_from(&self, server: &ServerInfo) -> Result<ModelCatalog, LmStudioError> {
        match server.listing {
            CatalogSource::NativeV1 => self.list_v1().await,
            CatalogSource::NativeV0 => self.list_v0().await,
            CatalogSource::LmsCli => self.list_lms().await,
            _ => self.list_openai().await,
        }
    }

    async fn list_v1(&self) -> Result<ModelCatalog, LmStudioError> {
        let response: v1::ModelsResponse = self
            .http()
            .get_json("/api/v1/models")
            .await
            .map_err(|e| self.map_http(e))?;
        Ok(ModelCatalog {
            source: CatalogSource::NativeV1,
            models: response.models.iter().map(convert::from_v1).collect(),
        })
    }

    async fn list_v0(&self) -> Result<ModelCatalog, LmStudioError> {
        let response: v0::ModelsResponse = self
            .http()
            .get_json("/api/v0/models")
            .await
            .map_err(|e| self.map_http(e))?;
        Ok(ModelCatalog {
            source: CatalogSource::NativeV0,
            models: response.data.iter().map(convert::from_v0).collect(),
        })
    }

    async fn list_openai(&self) -> Result<ModelCatalog, LmStudioError> {
        let response: ModelList = self
            .http()
            .get_json("/v1/models")
            .await
            .map_err(|e| self.map_http(e))?;
        Ok(ModelCatalog {
            source: CatalogSource::OpenAiModels,
            models: response.data.iter().map(convert::from_openai).collect(),
        })
    }

    async fn list_lms(&self) -> Result<ModelCatalog, LmStudioError> {
        let lms = self.lms()?;
        let (downloaded, loaded) = tokio::join!(lms.ls(), lms.ps());
        let downloaded = downloaded.map_err(LmStudioError::from_lms)?;
        let loaded = loaded.map_err(LmStudioError::from_lms)?;
        Ok(ModelCatalog {
            source: CatalogSource::LmsCli,
            models: convert::from_lms(&downloaded, &loaded),
        })
    }

    /// `GET /lmstudio-greeting` answers `{"lmstudio":true}` on every LM Studio version.
    async fn greets_as_lmstudio(&self) -> Result<bool, LmStudioError> {
        let response = self
            .http()
            .get("/lmstudio-greeting")
            .send_raw()
            .await
            .map_err(|e| self.map_http(e))?;
        if response.status == 401 || response.status == 403 {
            // Only LM Studio's auth guards this route; the transport error names the token.
            return Ok(true);
        }
        let greeting: Option<serde_json::Value> = serde_json::from_slice(&response.body).ok();
        Ok(response.status == 200
            && greeting
                .as_ref()
                .and_then(|v| v.get("lmstudio"))
                .and_then(serde_json::Value::as_bool)
                == Some(true))
    }

    /// The `lms` CLI, discovered once (explicit path, `LMSTUDIO_LMS_PATH`, `PATH`, LM Studio's
    /// home). Every command it runs passes `--port` with the port of the URL in use (the
    /// scheme's default when the URL names none, as the HTTP client uses): without it `lms`
    /// would start LM Studio when it is not running, which only `[lmstudio] auto_start` may
    /// do (`lms server start`, see `auto_start`).
    pub(crate) fn lms(&self) -> Result<Lms, LmStudioError> {
        let mut slot = lock(&self.inner.lms);
        if let Some(lms) = slot.as_ref() {
            return Ok(lms.clone());
        }
        let lms = Lms::locate(self.inner.settings.lms_path.clone())
            .map_err(LmStudioError::from_lms)?
            .with_port(self.inner.settings.endpoint.port());
        *slot = Some(lms.clone());
        Ok(lms)
    }
}
