//! The emulator's mutable state: catalog, loaded instances, download jobs and request log.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

use lmstudio_proto::numbers::duration_from_secs_f64;

use super::builder::{EmulatorBuilder, Profile, ReasoningField, StreamFault};
use super::catalog::CatalogModel;
use super::clock;

/// One request the emulator received, as tests see it in [`super::Emulator::requests`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path without the query, e.g. `/v1/chat/completions`.
    pub path: String,
    /// The query string without `?`, if any.
    pub query: Option<String>,
    /// The request body (lossy UTF-8).
    pub body: String,
    /// Whether an `Authorization` header was sent.
    pub had_auth_header: bool,
    /// Whether the request passed the auth check (always true when no token is required).
    pub authorized: bool,
    /// All request headers, names lower-case; the `authorization` value is `<redacted>`.
    pub headers: Vec<(String, String)>,
}

impl RecordedRequest {
    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// The first header with this (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// A loaded instance of a model.
#[derive(Clone, Debug)]
pub(crate) struct Instance {
    pub(crate) id: String,
    pub(crate) context_length: u32,
    pub(crate) ttl: Option<Duration>,
    pub(crate) jit: bool,
    pub(crate) last_used: Instant,
    pub(crate) last_used_wall: SystemTime,
    pub(crate) parallel: u32,
    pub(crate) flash_attention: bool,
    pub(crate) eval_batch_size: u32,
}

/// A catalog model plus its runtime state.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) model: CatalogModel,
    pub(crate) downloaded: bool,
    pub(crate) instances: Vec<Instance>,
}

/// Where a download job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JobState {
    Downloading,
    Completed,
    Failed,
}

/// A download job; its progress is computed from the time elapsed.
#[derive(Clone, Debug)]
pub(crate) struct Job {
    pub(crate) id: String,
    pub(crate) key: String,
    pub(crate) total: u64,
    pub(crate) speed: u64,
    pub(crate) started: Instant,
    pub(crate) started_wall: SystemTime,
    pub(crate) fail: bool,
    pub(crate) state: JobState,
    pub(crate) downloaded: u64,
    pub(crate) finished_wall: Option<SystemTime>,
    /// When the download finished (monotonic), for the index delay.
    pub(crate) finished: Option<Instant>,
    /// Whether the finished model was added to the listings yet.
    pub(crate) indexed: bool,
}

/// What asking for a download gave.
pub(crate) enum DownloadStart {
    /// The model is already on disk.
    AlreadyDownloaded { key: String, total: u64 },
    /// A job (new, or the one already running for this model).
    Job(Job),
    /// No such model in the catalog.
    Unknown,
}

/// Options for a new instance.
#[derive(Clone, Debug, Default)]
pub(crate) struct LoadSpec {
    pub(crate) context_length: Option<u32>,
    pub(crate) ttl: Option<Duration>,
    pub(crate) identifier: Option<String>,
    pub(crate) flash_attention: Option<bool>,
    pub(crate) eval_batch_size: Option<u32>,
    pub(crate) parallel: Option<u32>,
    pub(crate) jit: bool,
}

/// Everything the emulator knows, behind one mutex (never held across an `.await`).
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) profile: Profile,
    pub(crate) jit: bool,
    pub(crate) auth_token: Option<String>,
    pub(crate) entries: Vec<Entry>,
    pub(crate) jobs: Vec<Job>,
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) failing_downloads: HashSet<String>,
    pub(crate) download_speed: u64,
    pub(crate) load_delay: Duration,
    pub(crate) reasoning: ReasoningField,
    pub(crate) chunk_delay: Duration,
    pub(crate) stream_fault: Option<StreamFault>,
    pub(crate) default_context_length: u32,
    pub(crate) index_delay: Duration,
    pub(crate) record_requests: bool,
    pub(crate) counter: u64,
    /// `true` while [`crate::Emulator::hold_loads`] holds every load at its start.
    pub(crate) loads_held: tokio::sync::watch::Sender<bool>,
    /// How many loads wait at the gate right now.
    pub(crate) held_loads: usize,
}

impl State {
    pub(crate) fn new(builder: EmulatorBuilder, models: Vec<CatalogModel>) -> Self {
        let mut state = Self {
            profile: builder.profile,
            jit: builder.jit,
            auth_token: builder.auth_token,
            entries: Vec::new(),
            jobs: Vec::new(),
            requests: Vec::new(),
            failing_downloads: builder.failing_downloads,
            download_speed: builder.download_speed,
            load_delay: builder.load_delay,
            reasoning: builder.reasoning,
            chunk_delay: builder.chunk_delay,
            stream_fault: builder.stream_fault,
            default_context_length: builder.default_context_length,
            index_delay: builder.index_delay,
            record_requests: builder.record_requests,
            counter: 0,
            loads_held: tokio::sync::watch::channel(false).0,
            held_loads: 0,
        };
        for model in models {
            state.add_model(model);
        }
        state
    }

    /// Adds (or replaces) a catalog entry, loading one instance if the model says so.
    pub(crate) fn add_model(&mut self, model: CatalogModel) {
        self.entries.retain(|entry| entry.model.key != model.key);
        let loaded = model.loaded;
        let key = model.key.clone();
        self.entries.push(Entry {
            downloaded: model.downloaded,
            model,
            instances: Vec::new(),
        });
        if loaded {
            let _ = self.create_instance(&key, &LoadSpec::default());
        }
    }

    /// Whether requests must carry the bearer token (0.4 profile with a token set).
    pub(crate) fn requires_auth(&self) -> bool {
        self.profile == Profile::V0_4 && self.auth_token.is_some()
    }

    /// A fresh number for ids; deterministic per emulator.
    pub(crate) fn next_counter(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// Brings time-based state up to date: download progress and idle-TTL expiry.
    pub(crate) fn refresh(&mut self, now: Instant) {
        for job in self
            .jobs
            .iter_mut()
            .filter(|job| job.state == JobState::Downloading)
        {
            let elapsed = now.saturating_duration_since(job.started).as_secs_f64();
            let bytes = (job.speed as f64 * elapsed).min(job.total as f64) as u64;
            let fail_at = job.total / 2;
            if job.fail && bytes >= fail_at {
                job.downloaded = fail_at;
                job.state = JobState::Failed;
                job.finished_wall = Some(wall_after(job.started_wall, fail_at, job.speed));
            } else if bytes >= job.total {
                job.downloaded = job.total;
                job.state = JobState::Completed;
                job.finished_wall = Some(wall_after(job.started_wall, job.total, job.speed));
                job.finished = Some(instant_after(job.started, job.total, job.speed));
            } else {
                job.downloaded = bytes;
            }
        }
        // A finished model shows up in the listings only after the index delay (LM Studio's
        // model index lags behind downloads).
        let delay = self.index_delay;
        let mut indexed = Vec::new();
        for job in self.jobs.iter_mut().filter(|job| !job.indexed) {
            if let Some(finished) = job.finished
                && now.saturating_duration_since(finished) >= delay
            {
                job.indexed = true;
                indexed.push(job.key.clone());
            }
        }
        for key in indexed {
            if let Some(entry) = self.entry_mut(&key) {
                entry.downloaded = true;
            }
        }
        for entry in &mut self.entries {
            entry.instances.retain(|instance| {
                instance
                    .ttl
                    .is_none_or(|ttl| now.saturating_duration_since(instance.last_used) < ttl)
            });
        }
    }

    /// The entry a name designates (key, variant, case-insensitive key), downloaded or not.
    pub(crate) fn find_entry(&self, name: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|entry| entry.model.key == name)
            .or_else(|| self.entries.iter().position(|e| e.model.matches(name)))
    }

    pub(crate) fn entry_mut(&mut self, key: &str) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|entry| entry.model.key == key)
    }

    /// The (entry, instance) whose instance id is exactly `id`.
    pub(crate) fn find_instance(&self, id: &str) -> Option<(usize, usize)> {
        self.entries.iter().enumerate().find_map(|(e, entry)| {
            entry
                .instances
                .iter()
                .position(|instance| instance.id == id)
                .map(|i| (e, i))
        })
    }

    /// Every loaded instance as (entry index, instance index).
    pub(crate) fn all_instances(&self) -> Vec<(usize, usize)> {
        self.entries
            .iter()
            .enumerate()
            .flat_map(|(e, entry)| (0..entry.instances.len()).map(move |i| (e, i)))
            .collect()
    }

    fn id_taken(&self, id: &str) -> bool {
        self.find_instance(id).is_some()
    }

    /// Loads a new instance of a downloaded model: id `key`, then `key:2`, `key:3`, ... or the
    /// identifier asked for. Returns the instance id.
    pub(crate) fn create_instance(&mut self, key: &str, spec: &LoadSpec) -> Result<String, String> {
        let Some(index) = self.find_entry(key) else {
            return Err(format!("Model {key} not found in downloaded models"));
        };
        if !self.entries[index].downloaded {
            return Err(format!("Model {key} not found in downloaded models"));
        }
        let base = self.entries[index].model.key.clone();
        let id = match &spec.identifier {
            Some(identifier) if self.id_taken(identifier) => {
                return Err(format!(
                    "A model instance with the identifier \"{identifier}\" already exists"
                ));
            }
            Some(identifier) => identifier.clone(),
            None if !self.id_taken(&base) => base,
            None => (2..)
                .map(|n| format!("{base}:{n}"))
                .find(|candidate| !self.id_taken(candidate))
                .unwrap_or_default(),
        };
        let max = self.entries[index].model.max_context_length;
        let context_length = spec
            .context_length
            .unwrap_or(self.default_context_length)
            .min(max)
            .max(1);
        let instance = Instance {
            id: id.clone(),
            context_length,
            ttl: spec.ttl,
            jit: spec.jit,
            last_used: Instant::now(),
            last_used_wall: SystemTime::now(),
            parallel: spec.parallel.unwrap_or(4),
            flash_attention: spec.flash_attention.unwrap_or(true),
            eval_batch_size: spec.eval_batch_size.unwrap_or(512),
        };
        if spec.jit {
            // Auto-evict: at most one JIT-loaded model (of each kind) stays in memory.
            let kind = self.entries[index].model.kind;
            for entry in self.entries.iter_mut().filter(|e| e.model.kind == kind) {
                entry.instances.retain(|other| !other.jit);
            }
        }
        self.entries[index].instances.push(instance);
        Ok(id)
    }

    /// Unloads one instance; returns whether it existed.
    pub(crate) fn remove_instance(&mut self, id: &str) -> bool {
        match self.find_instance(id) {
            Some((e, i)) => {
                self.entries[e].instances.remove(i);
                true
            }
            None => false,
        }
    }

    /// Marks an instance as just used (resets its idle TTL).
    pub(crate) fn touch(&mut self, id: &str) {
        if let Some((e, i)) = self.find_instance(id) {
            let instance = &mut self.entries[e].instances[i];
            instance.last_used = Instant::now();
            instance.last_used_wall = SystemTime::now();
        }
    }

    /// Starts (or joins) a download of a catalog model.
    pub(crate) fn start_download(&mut self, name: &str) -> DownloadStart {
        let Some(index) = self.find_entry(name) else {
            return DownloadStart::Unknown;
        };
        let key = self.entries[index].model.key.clone();
        let total = self.entries[index].model.size_bytes;
        if self.entries[index].downloaded {
            return DownloadStart::AlreadyDownloaded { key, total };
        }
        if let Some(job) = self.jobs.iter().find(|job| {
            job.key == key
                && (job.state == JobState::Downloading
                    || !job.indexed && job.state == JobState::Completed)
        }) {
            return DownloadStart::Job(job.clone());
        }
        let n = self.next_counter();
        let job = Job {
            id: format!("job_{}", &clock::hex_id(n)[..10]),
            fail: self.failing_downloads.contains(&key),
            key,
            total,
            speed: self.download_speed,
            started: Instant::now(),
            started_wall: SystemTime::now(),
            state: JobState::Downloading,
            downloaded: 0,
            finished_wall: None,
            finished: None,
            indexed: false,
        };
        self.jobs.push(job.clone());
        DownloadStart::Job(job)
    }

    pub(crate) fn job(&self, id: &str) -> Option<&Job> {
        self.jobs.iter().find(|job| job.id == id)
    }
}

/// How far ahead a time that cannot be represented is put instead (about a century).
const FAR_AHEAD: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// How long `bytes` take at `speed` bytes per second (zero at speed 0); never panics, even for
/// `u64::MAX` bytes at 1 B/s (the seconds are clamped to what a `Duration` holds).
fn transfer_time(bytes: u64, speed: u64) -> Duration {
    if speed == 0 {
        return Duration::ZERO;
    }
    duration_from_secs_f64(bytes as f64 / speed as f64).unwrap_or(Duration::MAX)
}

/// `start` plus the transfer time, clamped to [`FAR_AHEAD`] when it would overflow.
fn instant_after(start: Instant, bytes: u64, speed: u64) -> Instant {
    let wait = transfer_time(bytes, speed);
    start
        .checked_add(wait)
        .or_else(|| start.checked_add(FAR_AHEAD))
        .unwrap_or(start)
}

/// `start` plus the transfer time, clamped to [`FAR_AHEAD`] when it would overflow.
pub(crate) fn wall_after(start: SystemTime, bytes: u64, speed: u64) -> SystemTime {
    let wait = transfer_time(bytes, speed);
    start
        .checked_add(wait)
        .or_else(|| start.checked_add(FAR_AHEAD))
        .unwrap_or(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        EmulatorBuilder::default()
            .model(CatalogModel::llm("a/b").downloaded(true))
            .model(CatalogModel::llm("c/d"))
            .into_state_for_tests()
    }

    #[test]
    fn instances_get_numbered_ids() {
        let mut state = state();
        assert_eq!(
            state.create_instance("a/b", &LoadSpec::default()).unwrap(),
            "a/b"
        );
        assert_eq!(
            state.create_instance("a/b", &LoadSpec::default()).unwrap(),
            "a/b:2"
        );
        assert!(state.remove_instance("a/b"));
        assert_eq!(
            state.create_instance("a/b", &LoadSpec::default()).unwrap(),
            "a/b"
        );
        assert_eq!(
            state.create_instance("a/b", &LoadSpec::default()).unwrap(),
            "a/b:3"
        );
        assert!(state.create_instance("c/d", &LoadSpec::default()).is_err());
        let custom = LoadSpec {
            identifier: Some("mine".into()),
            ..LoadSpec::default()
        };
        assert_eq!(state.create_instance("a/b", &custom).unwrap(), "mine");
        assert!(state.create_instance("a/b", &custom).is_err());
    }

    #[test]
    fn downloads_progress_with_time_and_complete() {
        let mut state = state();
        let DownloadStart::Job(job) = state.start_download("c/d") else {
            panic!("expected a job");
        };
        let total = job.total;
        let half = transfer_time(total / 2, state.download_speed);
        state.refresh(job.started + half);
        let now = state.job(&job.id).unwrap();
        assert_eq!(now.state, JobState::Downloading);
        assert!(now.downloaded > 0 && now.downloaded < total);
        state.refresh(job.started + half * 3);
        assert_eq!(state.job(&job.id).unwrap().state, JobState::Completed);
        assert!(state.entries[1].downloaded);
        assert!(matches!(
            state.start_download("c/d"),
            DownloadStart::AlreadyDownloaded { .. }
        ));
        assert!(matches!(
            state.start_download("x/y"),
            DownloadStart::Unknown
        ));
    }

    #[test]
    fn finished_downloads_appear_after_the_index_delay() {
        let mut state = EmulatorBuilder::default()
            .model(CatalogModel::llm("c/d").size_bytes(100))
            .download_speed(100)
            .index_delay(Duration::from_secs(5))
            .into_state_for_tests();
        let DownloadStart::Job(job) = state.start_download("c/d") else {
            panic!("expected a job");
        };
        state.refresh(job.started + Duration::from_secs(2));
        assert_eq!(state.job(&job.id).unwrap().state, JobState::Completed);
        assert!(!state.entries[0].downloaded);
        assert!(matches!(state.start_download("c/d"), DownloadStart::Job(j) if j.id == job.id));
        state.refresh(job.started + Duration::from_secs(7));
        assert!(state.entries[0].downloaded);
    }

    #[test]
    fn injected_failures_stop_halfway() {
        let mut state = EmulatorBuilder::default()
            .model(CatalogModel::llm("c/d"))
            .fail_download("c/d")
            .into_state_for_tests();
        let DownloadStart::Job(job) = state.start_download("c/d") else {
            panic!("expected a job");
        };
        state.refresh(job.started + Duration::from_secs(3600));
        let job = state.job(&job.id).unwrap();
        assert_eq!(job.state, JobState::Failed);
        assert_eq!(job.downloaded, job.total / 2);
        assert!(!state.entries[0].downloaded);
    }

    #[test]
    fn a_huge_download_at_one_byte_per_second_never_panics() {
        // u64::MAX bytes at 1 B/s is 2^64 s: more than a Duration holds.
        assert_eq!(transfer_time(u64::MAX, 1), Duration::MAX);
        assert_eq!(transfer_time(u64::MAX, 0), Duration::ZERO);
        let now = Instant::now();
        assert!(instant_after(now, u64::MAX, 1) > now);
        let wall = SystemTime::now();
        assert!(wall_after(wall, u64::MAX, 1) > wall);
        assert_eq!(wall_after(wall, 10, 0), wall);
    }
}
