//! `lms runtime survey --json`: the hardware capacity each runtime engine sees.

use lmstudio_proto::lms::LmsRuntimeSurvey;

use crate::Lms;
use crate::error::LmsError;

impl Lms {
    /// `lms runtime survey --json`: per runtime engine, the GPUs with their total and
    /// dedicated memory, the CPU, RAM and VRAM capacity, and whether the engine can run here
    /// (parsed into [`LmsRuntimeSurvey`]; odd numbers read as unknown).
    ///
    /// Capacity only: LM Studio's CLI and SDK have no call for the memory in use.
    pub async fn runtime_survey(&self) -> Result<LmsRuntimeSurvey, LmsError> {
        self.json(&["runtime", "survey", "--json"]).await
    }
}
