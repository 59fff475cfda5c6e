//! Downloading a model: the REST job API with status polling on LM Studio 0.4+, else
//! `lms get`; then wait until the key shows up in the model list.

use std::time::{Duration, Instant};

use lmstudio_proto::native::v1::{DownloadRequest, DownloadState, DownloadStatus};

use crate::client::LMStudioClient;
use crate::error::LmStudioError;
use crate::model_id;
use crate::progress::{DownloadMethod, ProgressEvent, ProgressReporter};
use crate::server::{NativeApi, ServerKind};
use crate::single_flight::FlightProgress;

/// Consecutive failed status polls tolerated before a REST download is reported as failed.
const MAX_POLL_FAILURES: u32 = 3;

/// The result of a download call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DownloadOutcome {
    /// The server already had the model; nothing was downloaded.
    AlreadyPresent {
        /// The server's key for it.
        key: String,
    },
    /// The model was downloaded by this call (or by a concurrent call it waited for).
    Downloaded {
        /// The server's key for it, once it appeared in the list.
        key: String,
        /// How it was downloaded.
        method: DownloadMethod,
        /// Total bytes, when known.
        bytes: Option<u64>,
    },
}

impl LMStudioClient {
    /// Downloads `model` unless the server has it, reporting progress to `reporter`, then
    /// waits until it appears in the model list. Concurrent calls for the same model, from
    /// any client of this server in the process, share one download; each caller's
    /// reporter gets its progress from the moment it joined, starting with where the
    /// download is. Different models download concurrently.
    pub async fn download(
        &self,
        model: &str,
        reporter: &dyn ProgressReporter,
    ) -> Result<DownloadOutcome, LmStudioError> {
        model_id::validate(model)?;
        let server = self.server_info().await?;
        if server.kind == ServerKind::OpenAiCompatible {
            return Err(server.unsupported("download_model"));
        }
        if let Some(info) = self.model_info(model).await? {
            reporter.report(&ProgressEvent::DownloadFinished {
                model: model.to_owned(),
                already_present: true,
            });
            return Ok(DownloadOutcome::AlreadyPresent { key: info.key });
        }
        let flight_key = model.to_ascii_lowercase();
        let (client, model) = (self.clone(), model.to_owned());
        self.engine()
            .downloads
            .run(&flight_key, reporter, move |progress| async move {
                client.download_uncached(&model, &progress).await
            })
            .await
    }

    async fn download_uncached(
        &self,
        model: &str,
        reporter: &FlightProgress,
    ) -> Result<DownloadOutcome, LmStudioError> {
        // A download that finished just before we got our turn.
        self.invalidate_models();
        if let Some(info) = self.model_info(model).await? {
            return Ok(DownloadOutcome::AlreadyPresent { key: info.key });
        }
        let server = self.server_info().await?;
        let work = async {
            match server.kind {
                ServerKind::LmStudio(NativeApi::V1) => self.download_rest(model, reporter).await,
                _ => self.download_lms(model, reporter).await,
            }
        };
        let (method, bytes, already) =
            match self.inner.settings.download_timeout {
                Some(limit) => tokio::time::timeout(limit, work).await.map_err(|_| {
                    LmStudioError::Timeout {
                        operation: format!("downloading {model}"),
                        limit,
                        source: None,
                    }
                })??,
                None => work.await?,
            };
        self.invalidate_models();
        let key = self.wait_until_listed(model, reporter).await?;
        reporter.report(&ProgressEvent::DownloadFinished {
            model: model.to_owned(),
            already_present: already,
        });
        Ok(if already {
            DownloadOutcome::AlreadyPresent { key }
        } else {
            DownloadOutcome::Downloaded { key, method, bytes }
        })
    }

    /// `POST /api/v1/models/download`, then poll the job until it completes or fails.
    async fn download_rest(
        &self,
        model: &str,
        reporter: &dyn ProgressReporter,
    ) -> Result<(DownloadMethod, Option<u64>, bool), LmStudioError> {
        let method = DownloadMethod::Rest;
        let started: DownloadStatus = self
            .http()
            .post_json("/api/v1/models/download", &DownloadRequest::new(model))
            .await
            .map_err(|e| self.map_download_error(model, e))?;
        let mut total = started.total_size_bytes;
        match &started.status {
            DownloadState::AlreadyDownloaded => return Ok((method, total, true)),
            DownloadState::Completed => return Ok((method, total, false)),
            DownloadState::Failed => return Err(job_failed(model, &started)),
            _ => {}
        }
        reporter.report(&ProgressEvent::DownloadStarted {
            model: model.to_owned(),
            method,
            total_bytes: total,
        });
        let Some(job_id) = started.job_id.clone().filter(|id| !id.is_empty()) else {
            return Err(LmStudioError::InvalidJson {
                url: self.http().endpoint().url("/api/v1/models/download"),
                detail: format!(
                    "the download of {model} is {:?} but the response has no job_id to poll",
                    started.status
                ),
                source: None,
            });
        };
        let path = format!("/api/v1/models/download/status/{job_id}");
        let mut failures = 0;
        let mut paused_reported = false;
        loop {
            tokio::time::sleep(self.inner.settings.poll_interval).await;
            let status: DownloadStatus = match self.http().get_json(&path).await {
                Ok(status) => {
                    failures = 0;
                    status
                }
                Err(err) => {
                    let err = self.map_http(err);
                    failures += 1;
                    let transient = matches!(
                        err,
                        LmStudioError::Timeout { .. } | LmStudioError::Transport { .. }
                    );
                    if !transient || failures >= MAX_POLL_FAILURES {
                        return Err(LmStudioError::DownloadFailed {
                            model: model.to_owned(),
                            detail: format!("polling job {job_id} failed: {err}"),
                            source: Some(std::sync::Arc::new(err)),
                        });
                    }
                    continue;
                }
            };
            total = status.total_size_bytes.or(total);
            match &status.status {
                DownloadState::Completed | DownloadState::AlreadyDownloaded => {
                    reporter.report(&progress_event(model, &status, total));
                    return Ok((method, total, false));
                }
                DownloadState::Failed => return Err(job_failed(model, &status)),
                DownloadState::Paused => {
                    if !paused_reported {
                        paused_reported = true;
                        reporter.report(&ProgressEvent::DownloadPaused {
                            model: model.to_owned(),
                        });
                    }
                }
                _ => {
                    paused_reported = false;
                    reporter.report(&progress_event(model, &status, total));
                }
            }
        }
    }

    /// `lms get --yes <model>` with its progress bar parsed into events.
    async fn download_lms(
        &self,
        model: &str,
        reporter: &dyn ProgressReporter,
    ) -> Result<(DownloadMethod, Option<u64>, bool), LmStudioError> {
        let method = DownloadMethod::LmsCli;
        if !self.inner.settings.lms_allowed() {
            return Err(LmStudioError::Unsupported {
                operation: format!("downloading {model}"),
                url: self.base_url().to_owned(),
                reason: "this LM Studio has no REST download API (it is older than 0.4) and is \
                         not on this machine, so lms cannot download for it; download the \
                         model in LM Studio, or set [lmstudio].lms_path"
                    .to_owned(),
            });
        }
        let lms = self.lms()?;
        reporter.report(&ProgressEvent::DownloadStarted {
            model: model.to_owned(),
            method,
            total_bytes: None,
        });
        let mut total = None;
        let mut on_progress = |p: lmstudio_lms::DownloadProgress| {
            total = Some(p.total_bytes);
            reporter.report(&ProgressEvent::DownloadProgress {
                model: model.to_owned(),
                downloaded_bytes: p.downloaded_bytes,
                total_bytes: Some(p.total_bytes),
                bytes_per_second: p.bytes_per_second,
                eta: p.eta,
            });
        };
        let options = lmstudio_lms::GetOptions::default();
        let outcome =
            lms.get(model, &options, &mut on_progress)
                .await
                .map_err(|err| match err {
                    lmstudio_lms::LmsError::Failed {
                        ref command,
                        ref status,
                        ref stderr_tail,
                    } => LmStudioError::DownloadFailed {
                        model: model.to_owned(),
                        detail: format!("`{command}` exited with {status}; stderr:\n{stderr_tail}"),
                        source: Some(std::sync::Arc::new(err)),
                    },
                    other => LmStudioError::from_lms(other),
                })?;
        let already = matches!(outcome, lmstudio_lms::GetOutcome::AlreadyDownloaded);
        Ok((method, total, already))
    }

    /// Polls the model list until `model` appears (LM Studio's index can lag a download).
    async fn wait_until_listed(
        &self,
        model: &str,
        reporter: &dyn ProgressReporter,
    ) -> Result<String, LmStudioError> {
        let started = Instant::now();
        let mut announced = false;
        loop {
            self.invalidate_models();
            let catalog = self.models().await?;
            if let Some(info) = model_id::find(&catalog.models, model)? {
                return Ok(info.key.clone());
            }
            if !catalog.source.lists_unloaded_models() {
                // `/v1/models` with JIT off never lists an unloaded model: trust the download.
                return Ok(model.to_owned());
            }
            // Elapsed time, not `now + wait`: a caller's `Duration::MAX` cannot overflow.
            if started.elapsed() >= self.inner.settings.index_wait {
                return Err(LmStudioError::DownloadFailed {
                    model: model.to_owned(),
                    detail: format!(
                        "the download finished but {model} did not appear in {} within {}s",
                        catalog.source,
                        self.inner.settings.index_wait.as_secs()
                    ),
                    source: None,
                });
            }
            if !announced {
                announced = true;
                reporter.report(&ProgressEvent::WaitingForIndex {
                    model: model.to_owned(),
                });
            }
            tokio::time::sleep(
                self.inner
                    .settings
                    .poll_interval
                    .min(Duration::from_millis(250)),
            )
            .await;
        }
    }

    fn map_download_error(&self, model: &str, err: lmstudio_transport::Error) -> LmStudioError {
        match self.map_http(err) {
            LmStudioError::Server {
                status,
                message,
                source,
                ..
            } => LmStudioError::DownloadFailed {
                model: model.to_owned(),
                detail: format!("the server refused (HTTP {}): {message}", status.as_u16()),
                source,
            },
            other => other,
        }
    }
}

fn progress_event(model: &str, status: &DownloadStatus, total: Option<u64>) -> ProgressEvent {
    // Server numbers are data: no speed, a hostile one or an ETA past a year is `None`.
    crate::numbers::download_progress(model, status, total)
}

fn job_failed(model: &str, status: &DownloadStatus) -> LmStudioError {
    let job = status.job_id.as_deref().unwrap_or("(no job id)");
    let detail = status
        .extra
        .get("error")
        .map(|e| match e {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_else(|| "LM Studio reported the download job as failed".to_owned());
    LmStudioError::DownloadFailed {
        model: model.to_owned(),
        detail: format!("job {job}: {detail}"),
        source: None,
    }
}
