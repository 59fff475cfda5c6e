//! Will the model fit? `lms load <key> --estimate-only` before a load: LM Studio's estimate of
//! the GPU and total memory the load takes, and whether its resource guardrails let it
//! happen. The readiness flow warns (a report warning and a [`ProgressEvent::MemoryEstimate`])
//! when the answer is no, and never fails for it.

use std::time::Duration;

use lmstudio_lms::{EstimateOptions, LoadEstimate};

use crate::client::LMStudioClient;
use crate::error::LmStudioError;
use crate::model_id;
use crate::progress::{ProgressEvent, ProgressReporter};

/// The default limit of the `lms` commands the readiness flow runs only to inform (see
/// [`LMStudioClientBuilder::lms_info_timeout`](crate::LMStudioClientBuilder::lms_info_timeout)):
/// `lms` starts in well under a second when LM Studio runs, and an estimate is a quick
/// computation in LM Studio; a slower answer is not worth delaying the load for.
pub const DEFAULT_LMS_INFO_TIMEOUT: Duration = Duration::from_secs(5);

impl LMStudioClient {
    /// LM Studio's estimate of loading `model` with the config's context length:
    /// `lms load <key> --yes --estimate-only [-c N]` on this machine. Nothing is loaded.
    ///
    /// [`LoadEstimate::will_fail`] says whether LM Studio's resource guardrails would refuse
    /// the load; the sizes are estimates (see [`LoadEstimate`]). No live memory usage exists in
    /// LM Studio's SDK or CLI: this and [`resources`](Self::resources) are what there is.
    ///
    /// Errors: [`LmStudioError::LmsNotFound`] without `lms`, [`LmStudioError::Unsupported`]
    /// for a server that is not on this machine (its `lms` would estimate for another
    /// machine), and `lms`'s own failures (an unknown model is [`LmStudioError::Lms`]).
    pub async fn estimate_load(&self, model: &str) -> Result<LoadEstimate, LmStudioError> {
        model_id::validate(model)?;
        if !self.inner.settings.lms_allowed() {
            return Err(LmStudioError::Unsupported {
                operation: "estimate_load".to_owned(),
                url: self.base_url().to_owned(),
                reason: "the estimate comes from lms, and this server is not on this machine \
                         (set [lmstudio] lms_path when it is)"
                    .to_owned(),
            });
        }
        self.lms()?
            .estimate_load(model, &self.estimate_options())
            .await
            .map_err(LmStudioError::from_lms)
    }

    fn estimate_options(&self) -> EstimateOptions {
        EstimateOptions::default().with_context_length(self.inner.settings.context_length)
    }

    /// The readiness flow's estimate before it loads `key`: `None` when there is nothing to
    /// say (no `lms`, a remote server, the limit set to zero) or the estimate failed (a
    /// debug line). Every estimate obtained is reported as [`ProgressEvent::MemoryEstimate`].
    pub(crate) async fn estimate_before_load(
        &self,
        key: &str,
        reporter: &dyn ProgressReporter,
    ) -> Option<LoadEstimate> {
        let limit = self.inner.settings.lms_info_timeout;
        if limit.is_zero() || !self.inner.settings.lms_allowed() {
            return None;
        }
        let lms = match self.lms() {
            Ok(lms) => lms.with_timeout(limit),
            Err(err) => {
                tracing::debug!(error = %err, "no lms for a memory estimate; loading without one");
                return None;
            }
        };
        match lms.estimate_load(key, &self.estimate_options()).await {
            Ok(estimate) => {
                tracing::debug!(model = key, ?estimate, "lms memory estimate");
                reporter.report(&ProgressEvent::MemoryEstimate {
                    model: key.to_owned(),
                    estimate: estimate.clone(),
                });
                Some(estimate)
            }
            Err(err) => {
                tracing::debug!(error = %err, model = key, "lms memory estimate failed; loading anyway");
                None
            }
        }
    }
}

/// The report's warning when the estimate says the load will fail.
pub(crate) fn warning(model: &str, estimate: &LoadEstimate) -> Option<String> {
    estimate.will_fail().then(|| {
        format!(
            "{model} may not fit in memory: LM Studio estimates {} of GPU memory and {} in all \
             for it{}, and says the load will fail under its resource guardrails settings \
             (a smaller context length, [lmstudio] context_length, lowers it)",
            format_bytes_1024(estimate.gpu_memory_bytes),
            format_bytes_1024(estimate.total_memory_bytes),
            if estimate.low_confidence {
                " (low confidence)"
            } else {
                ""
            }
        )
    })
}

/// Memory as LM Studio shows it: base 1024, two decimals (`12.34 GiB`, `512 Bytes`).
pub(crate) fn format_bytes_1024(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["Bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut index = 0;
    let mut size = bytes as f64;
    while size >= 1024.0 && index < UNITS.len() - 1 {
        size /= 1024.0;
        index += 1;
    }
    if index == 0 {
        format!("{bytes} Bytes")
    } else {
        format!("{size:.2} {}", UNITS[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_shown_base_1024() {
        assert_eq!(format_bytes_1024(0), "0 Bytes");
        assert_eq!(format_bytes_1024(1023), "1023 Bytes");
        assert_eq!(format_bytes_1024(1536), "1.50 KiB");
        assert_eq!(format_bytes_1024(24 << 30), "24.00 GiB");
        assert_eq!(format_bytes_1024(u64::MAX), "16777216.00 TiB");
    }
}
