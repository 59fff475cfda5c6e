//! What kind of server is at the base URL, detected once per client as a side effect of the
//! first model listing.

use std::fmt;

use crate::catalog::CatalogSource;
use lmstudio_transport::http::StatusCode;

use crate::error::LmStudioError;
use crate::settings::UrlSource;

/// Which native LM Studio API the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NativeApi {
    /// `/api/v1/*`: list, load, unload, download (LM Studio 0.4+).
    V1,
    /// `/api/v0/*`: list with load state (LM Studio 0.3.6+).
    V0,
    /// Neither: an older LM Studio, managed through `lms` when it is on this machine.
    None,
}

/// The kind of server at the base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServerKind {
    /// LM Studio, with the native API it supports.
    LmStudio(NativeApi),
    /// An OpenAI-compatible server that is not LM Studio (llama.cpp, vLLM, Ollama's `/v1`):
    /// listing, chat, completions and embeddings work; downloads and loads do not.
    OpenAiCompatible,
}

/// What this client detected about its server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerInfo {
    /// LM Studio or another OpenAI-compatible server.
    pub kind: ServerKind,
    /// The best model listing the server offers.
    pub listing: CatalogSource,
    /// The server root.
    pub base_url: String,
    /// Where the client's URL came from (the environment or config, LM Studio's own record
    /// of its port, the default, or code).
    pub url_source: UrlSource,
}

impl ServerInfo {
    /// True for LM Studio, whatever its version.
    pub fn is_lmstudio(&self) -> bool {
        matches!(self.kind, ServerKind::LmStudio(_))
    }

    /// True when the REST API can download, load and unload (LM Studio 0.4+).
    pub fn has_native_v1(&self) -> bool {
        self.kind == ServerKind::LmStudio(NativeApi::V1)
    }

    /// A short description for reports, e.g. `LM Studio 0.4+ (native REST API v1)`.
    pub fn describe(&self) -> &'static str {
        match self.kind {
            ServerKind::LmStudio(NativeApi::V1) => "LM Studio 0.4+ (native REST API v1)",
            ServerKind::LmStudio(NativeApi::V0) => {
                "LM Studio 0.3.6+ (REST API v0; no REST downloads or loads)"
            }
            ServerKind::LmStudio(NativeApi::None) => "LM Studio (no native REST API)",
            ServerKind::OpenAiCompatible => "OpenAI-compatible server, not LM Studio",
        }
    }

    /// The error for an operation only LM Studio can do, on a server that is not LM Studio.
    pub(crate) fn unsupported(&self, operation: &str) -> LmStudioError {
        LmStudioError::Unsupported {
            operation: operation.to_owned(),
            url: self.base_url.clone(),
            reason: format!(
                "it is an {}: it has no /lmstudio-greeting and no LM Studio API, so models must \
                 be downloaded and loaded on that server itself",
                self.describe()
            ),
        }
    }
}

impl fmt::Display for ServerInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.describe(), self.base_url)
    }
}

/// True when an error means "this route does not exist here" (so a fallback is in order):
/// LM Studio's HTTP 200 "Unexpected endpoint or method" body, a 404/405/501, or a body that
/// is not JSON at all.
pub(crate) fn is_missing_route(err: &LmStudioError) -> bool {
    match err {
        LmStudioError::Server {
            status, message, ..
        } => {
            matches!(status.as_u16(), 404 | 405 | 501)
                || (*status == StatusCode::OK && message.starts_with("Unexpected endpoint"))
        }
        LmStudioError::InvalidJson { .. } => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(status: u16, message: &str) -> LmStudioError {
        LmStudioError::Server {
            status: StatusCode::from_u16(status).expect("a valid status"),
            url: "http://h/api/v1/models".into(),
            message: message.into(),
            source: None,
        }
    }

    #[test]
    fn missing_route_detection() {
        assert!(is_missing_route(&server(
            200,
            "Unexpected endpoint or method. (GET /api/v1/models)"
        )));
        assert!(is_missing_route(&server(404, "File Not Found")));
        assert!(!is_missing_route(&server(500, "boom")));
        assert!(!is_missing_route(&server(200, "The model has crashed")));
        assert!(!is_missing_route(&LmStudioError::LmsNotFound));
    }

    #[test]
    fn unsupported_names_the_server_kind() {
        let info = ServerInfo {
            kind: ServerKind::OpenAiCompatible,
            listing: CatalogSource::OpenAiModels,
            base_url: "http://127.0.0.1:8080".into(),
            url_source: UrlSource::Configured,
        };
        let text = info.unsupported("download_model").to_string();
        assert!(text.contains("download_model"), "{text}");
        assert!(text.contains("not LM Studio"), "{text}");
    }
}
