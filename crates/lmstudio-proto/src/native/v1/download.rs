//! `POST /api/v1/models/download` and `GET /api/v1/models/download/status/{job_id}`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

open_enum! {
    /// Where a download job is (`status`).
    pub enum DownloadState {
        /// Bytes are arriving (`"downloading"`).
        Downloading = "downloading",
        /// Paused by the user (`"paused"`).
        Paused = "paused",
        /// Finished (`"completed"`).
        Completed = "completed",
        /// Failed (`"failed"`).
        Failed = "failed",
        /// Nothing to do: the model was already there (`"already_downloaded"`; no job id).
        AlreadyDownloaded = "already_downloaded",
    }
}

impl DownloadState {
    /// Whether the job will not change any more (completed, failed or already downloaded).
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Failed | Self::AlreadyDownloaded
        )
    }
}

/// `POST /api/v1/models/download`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DownloadRequest {
    /// A catalog id (`openai/gpt-oss-20b`) or a Hugging Face URL.
    pub model: String,
    /// The quantization to fetch, e.g. `Q4_K_M` (Hugging Face URLs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<String>,
    /// Other fields to send.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DownloadRequest {
    /// A request to download `model`.
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            ..Self::default()
        }
    }
}

/// A download job: the answer to the POST and to each status poll.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DownloadStatus {
    /// The job to poll; absent when the model was already downloaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// Where the job is.
    pub status: DownloadState,
    /// The total download size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_size_bytes: Option<u64>,
    /// Bytes downloaded so far (status polls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downloaded_bytes: Option<u64>,
    /// Current speed (while downloading).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_per_second: Option<f64>,
    /// The expected completion time (while downloading). Kept as raw JSON: the docs do not
    /// pin its type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_completion: Option<Value>,
    /// When the job started (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When the job finished (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DownloadStatus {
    /// A status with only `status` set.
    pub fn new(status: DownloadState) -> Self {
        Self {
            job_id: None,
            status,
            total_size_bytes: None,
            downloaded_bytes: None,
            bytes_per_second: None,
            estimated_completion: None,
            started_at: None,
            completed_at: None,
            extra: Map::new(),
        }
    }

    /// The fraction done, `0.0..=1.0`, when both byte counts are known and the total is not 0.
    pub fn fraction(&self) -> Option<f64> {
        match (self.downloaded_bytes, self.total_size_bytes) {
            (Some(done), Some(total)) if total > 0 => Some((done as f64 / total as f64).min(1.0)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn already_downloaded_has_no_job() {
        let status: DownloadStatus =
            serde_json::from_str(r#"{"status":"already_downloaded"}"#).unwrap();
        assert_eq!(status.status, DownloadState::AlreadyDownloaded);
        assert!(status.status.is_finished());
        assert_eq!(status.job_id, None);
        assert_eq!(status.fraction(), None);
    }

    #[test]
    fn fraction_is_clamped() {
        let mut status = DownloadStatus::new(DownloadState::Downloading);
        status.total_size_bytes = Some(200);
        status.downloaded_bytes = Some(50);
        assert_eq!(status.fraction(), Some(0.25));
        status.downloaded_bytes = Some(400);
        assert_eq!(status.fraction(), Some(1.0));
        status.total_size_bytes = Some(0);
        assert_eq!(status.fraction(), None);
    }
}
