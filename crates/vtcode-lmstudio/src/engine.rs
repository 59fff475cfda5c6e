//! The shared engine: what exists once per LM Studio server (root URL plus credential) in a
//! process, whichever client asks — server-kind detection, the model catalog cache, the
//! single-flight maps for downloads, loads and memory estimates, the loads in progress, warm
//! connections.
//!
//! Clients attach through the process-wide registry. An engine outlives its last client by
//! the client's linger time (default [`DEFAULT_ENGINE_LINGER`], above the pool's idle time),
//! so consecutive seed calls, each dropping its client, still find the detected server kind
//! (and, on the same Tokio runtime within the pool's idle time, warm connections). The
//! registry keeps at most [`MAX_ENGINES`] engines that no client holds: beyond that it drops
//! the least recently used idle ones, so an agent that talks to many servers cannot grow it
//! without limit. Engines in use are never dropped from it (their number is bounded by the
//! clients the program keeps).

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use lmstudio_lms::LoadEstimate;
use lmstudio_transport::{POOL_IDLE_TIMEOUT, Pool};
use tokio::sync::watch;

use crate::catalog::ModelCatalog;
use crate::client::lock;
use crate::download::DownloadOutcome;
use crate::error::LmStudioError;
use crate::load::LoadOutcome;
use crate::server::ServerInfo;
use crate::single_flight::SingleFlight;

/// How long an engine outlives its last client by default: past the connection pool's idle
/// time, so a client built right after another one was dropped reuses its connections.
pub(crate) const DEFAULT_ENGINE_LINGER: Duration =
    Duration::from_secs(POOL_IDLE_TIMEOUT.as_secs() + 6);

/// Most idle engines (held by no client) the registry keeps.
pub(crate) const MAX_ENGINES: usize = 64;

/// What identifies a server: its normalised root and the credential sent to it. Clients with
/// different tokens never share an engine.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct EngineKey {
    root: String,
    token: Option<String>,
}

impl EngineKey {
    pub(crate) fn new(root: &str, token: Option<&str>) -> Self {
        Self {
            root: root.to_owned(),
            token: token.map(str::to_owned),
        }
    }
}

impl fmt::Debug for EngineKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineKey")
            .field("root", &self.root)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The shared state of one server.
pub(crate) struct Engine {
    /// Keep-alive connections, one pool per Tokio runtime.
    pub(crate) pool: Pool,
    server: Mutex<Option<ServerInfo>>,
    catalog: Mutex<CatalogCache>,
    /// One model-list read at a time per catalog generation.
    pub(crate) refreshes: SingleFlight<Arc<ModelCatalog>, LmStudioError>,
    pub(crate) downloads: SingleFlight<DownloadOutcome, LmStudioError>,
    pub(crate) loads: SingleFlight<LoadOutcome, LmStudioError>,
    /// One `lms load --estimate-only` at a time per model and context length.
    pub(crate) estimates: SingleFlight<Option<LoadEstimate>, LmStudioError>,
    loading: Mutex<HashMap<String, Vec<Marked>>>,
    next_marker: AtomicU64,
    /// When the last client let go, and how long it asked the engine to linger.
    released: Mutex<Option<(Instant, Duration)>>,
}

/// One load in progress of a name: the marker's id, and a receiver that ends with it.
type Marked = (u64, watch::Receiver<()>);

#[derive(Default)]
struct CatalogCache {
    /// Bumped by every invalidation, so a read started before it is never stored after it.
    generation: u64,
    entry: Option<(Instant, Arc<ModelCatalog>)>,
}

impl Engine {
    fn new() -> Self {
        Self {
            pool: Pool::new(),
            server: Mutex::new(None),
            catalog: Mutex::new(CatalogCache::default()),
            refreshes: SingleFlight::default(),
            downloads: SingleFlight::default(),
            loads: SingleFlight::default(),
            estimates: SingleFlight::default(),
            loading: Mutex::new(HashMap::new()),
            next_marker: AtomicU64::new(0),
            released: Mutex::new(None),
        }
    }

    /// The detected server, if any.
    pub(crate) fn server(&self) -> Option<ServerInfo> {
        lock(&self.server).clone()
    }

    pub(crate) fn set_server(&self, info: ServerInfo) {
        *lock(&self.server) = Some(info);
    }

    /// Forgets what was detected and listed: the server went away, restarted or changed
    /// its auth, so the next call probes it again.
    pub(crate) fn forget_server(&self) {
        *lock(&self.server) = None;
        self.invalidate_catalog();
    }

    /// The cached catalog when it is younger than `ttl`.
    pub(crate) fn cached_catalog(&self, ttl: Duration) -> Option<Arc<ModelCatalog>> {
        let cache = lock(&self.catalog);
        cache
            .entry
            .as_ref()
            .filter(|(at, _)| at.elapsed() < ttl)
            .map(|(_, catalog)| catalog.clone())
    }

    /// The current catalog generation (see [`store_catalog`](Self::store_catalog)).
    pub(crate) fn catalog_generation(&self) -> u64 {
        lock(&self.catalog).generation
    }

    /// Caches `catalog`, unless the cache was invalidated since `generation` was read.
    pub(crate) fn store_catalog(&self, generation: u64, catalog: Arc<ModelCatalog>) {
        let mut cache = lock(&self.catalog);
        if cache.generation == generation {
            cache.entry = Some((Instant::now(), catalog));
        }
    }

    pub(crate) fn invalidate_catalog(&self) {
        let mut cache = lock(&self.catalog);
        cache.generation = cache.generation.wrapping_add(1);
        cache.entry = None;
    }

    /// Marks `names` (model names or keys, any case) as being loaded until the marker is
    /// dropped. Inference requests for them wait for it.
    pub(crate) fn mark_loading(self: &Arc<Self>, names: &[&str]) -> LoadMarker {
        let id = self.next_marker.fetch_add(1, Ordering::Relaxed);
        let (done, watch) = watch::channel(());
        let mut names: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        names.sort();
        names.dedup();
        let mut loading = lock(&self.loading);
        for name in &names {
            loading
                .entry(name.clone())
                .or_default()
                .push((id, watch.clone()));
        }
        LoadMarker {
            engine: self.clone(),
            names,
            id,
            _done: done,
        }
    }

    /// True when a load of any of `names` is in progress.
    pub(crate) fn is_loading(&self, names: &[&str]) -> bool {
        let loading = lock(&self.loading);
        names
            .iter()
            .any(|name| loading.contains_key(&name.to_ascii_lowercase()))
    }

    /// The loads of `name` in progress, to wait for.
    pub(crate) fn loads_in_progress(&self, name: &str) -> Vec<watch::Receiver<()>> {
        lock(&self.loading)
            .get(&name.to_ascii_lowercase())
            .map(|markers| markers.iter().map(|(_, rx)| rx.clone()).collect())
            .unwrap_or_default()
    }

    fn release(&self, linger: Duration) {
        *lock(&self.released) = Some((Instant::now(), linger));
    }

    /// True when no client has used the engine for its linger time.
    fn expired(&self, now: Instant) -> bool {
        match *lock(&self.released) {
            Some((at, linger)) => now.saturating_duration_since(at) >= linger,
            None => false,
        }
    }
}

/// A load in progress (see [`Engine::mark_loading`]); dropping it ends it.
pub(crate) struct LoadMarker {
    engine: Arc<Engine>,
    names: Vec<String>,
    id: u64,
    /// Dropped with the marker: wakes everyone waiting.
    _done: watch::Sender<()>,
}

impl Drop for LoadMarker {
    fn drop(&mut self) {
        let mut loading = lock(&self.engine.loading);
        for name in &self.names {
            if let Some(markers) = loading.get_mut(name) {
                markers.retain(|(id, _)| *id != self.id);
                if markers.is_empty() {
                    loading.remove(name);
                }
            }
        }
    }
}

/// A client's hold on an engine. Dropping the last one starts the linger time.
pub(crate) struct EngineLease {
    engine: Arc<Engine>,
    pub(crate) linger: Duration,
}

impl EngineLease {
    pub(crate) fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }
}

impl Drop for EngineLease {
    fn drop(&mut self) {
        self.engine.release(self.linger);
    }
}

struct Entry {
    engine: Arc<Engine>,
    last_used: Instant,
}

/// Engines by server, bounded (see the module docs).
#[derive(Default)]
struct Registry {
    engines: HashMap<EngineKey, Entry>,
}

impl Registry {
    fn attach(&mut self, key: EngineKey, linger: Duration) -> EngineLease {
        let now = Instant::now();
        // An engine no client held for its linger time is not reused: the server may have
        // changed meanwhile.
        if self
            .engines
            .get(&key)
            .is_some_and(|entry| Arc::strong_count(&entry.engine) == 1 && entry.engine.expired(now))
        {
            self.engines.remove(&key);
        }
        if !self.engines.contains_key(&key) {
            // Only a new key makes room: the engine being attached is never the one dropped.
            self.prune(now);
        }
        let entry = self.engines.entry(key).or_insert_with(|| Entry {
            engine: Arc::new(Engine::new()),
            last_used: now,
        });
        entry.last_used = now;
        EngineLease {
            engine: entry.engine.clone(),
            linger,
        }
    }

    /// Drops engines no client holds whose linger time is over; then, while the idle ones are
    /// at their bound, drops the least recently used idle engine. Engines in use are kept:
    /// dropping one would give its server a second engine (and a second download).
    fn prune(&mut self, now: Instant) {
        let idle = |entry: &Entry| Arc::strong_count(&entry.engine) == 1;
        self.engines
            .retain(|_, entry| !idle(entry) || !entry.engine.expired(now));
        while self.engines.values().filter(|e| idle(e)).count() >= MAX_ENGINES {
            let victim = self
                .engines
                .iter()
                .filter(|(_, entry)| idle(entry))
                .min_by_key(|(_, entry)| entry.last_used)
                .map(|(key, _)| key.clone());
            match victim {
                Some(key) => {
                    self.engines.remove(&key);
                }
                None => break,
            }
        }
    }
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| Mutex::new(Registry::default()));

/// The engine for `key`, shared with every other client of that server in this process.
pub(crate) fn attach(key: EngineKey, linger: Duration) -> EngineLease {
    lock(&REGISTRY).attach(key, linger)
}

/// Drops every registered engine for the server root `root` (whatever the token). Clients
/// that hold one keep it; new clients get a new one.
pub(crate) fn forget(root: &str) -> usize {
    let mut registry = lock(&REGISTRY);
    let before = registry.engines.len();
    registry.engines.retain(|key, _| key.root != root);
    before - registry.engines.len()
}

/// An engine of its own, in no registry: shared only with this client's clones.
pub(crate) fn private(linger: Duration) -> EngineLease {
    EngineLease {
        engine: Arc::new(Engine::new()),
        linger,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Weak;

    fn key(port: u16) -> EngineKey {
        EngineKey::new(&format!("http://127.0.0.1:{port}"), None)
    }

    #[test]
    fn one_engine_per_root_and_credential() {
        let mut registry = Registry::default();
        let a = registry.attach(key(1), DEFAULT_ENGINE_LINGER);
        let b = registry.attach(key(1), DEFAULT_ENGINE_LINGER);
        assert!(Arc::ptr_eq(a.engine(), b.engine()));
        let other_server = registry.attach(key(2), DEFAULT_ENGINE_LINGER);
        assert!(!Arc::ptr_eq(a.engine(), other_server.engine()));
        let with_token = registry.attach(
            EngineKey::new("http://127.0.0.1:1", Some("sk-1")),
            DEFAULT_ENGINE_LINGER,
        );
        let other_token = registry.attach(
            EngineKey::new("http://127.0.0.1:1", Some("sk-2")),
            DEFAULT_ENGINE_LINGER,
        );
        assert!(!Arc::ptr_eq(a.engine(), with_token.engine()));
        assert!(!Arc::ptr_eq(with_token.engine(), other_token.engine()));
    }

    #[test]
    fn an_engine_outlives_its_last_client_for_the_linger_time_only() {
        let mut registry = Registry::default();
        let first = registry.attach(key(3), Duration::from_secs(3600));
        let engine = Arc::downgrade(first.engine());
        drop(first);
        let again = registry.attach(key(3), Duration::ZERO);
        assert!(
            Weak::ptr_eq(&engine, &Arc::downgrade(again.engine())),
            "within the linger time the engine is reused"
        );
        drop(again);
        // Linger zero: the next attach (to any server) drops it.
        let _other = registry.attach(key(4), DEFAULT_ENGINE_LINGER);
        assert!(engine.upgrade().is_none(), "expired engines are dropped");
    }

    #[test]
    fn a_thousand_servers_leave_at_most_the_bound_alive() {
        let mut registry = Registry::default();
        let mut engines = Vec::new();
        for port in 10_000..11_000u16 {
            let lease = registry.attach(key(port), DEFAULT_ENGINE_LINGER);
            engines.push(Arc::downgrade(lease.engine()));
        }
        let alive = engines.iter().filter(|e| e.upgrade().is_some()).count();
        assert!(alive <= MAX_ENGINES, "{alive} engines alive");
        assert!(registry.engines.len() <= MAX_ENGINES);
        // The most recent ones are the ones kept.
        assert!(engines.last().is_some_and(|e| e.upgrade().is_some()));
    }

    #[test]
    fn engines_in_use_are_never_dropped_from_the_registry() {
        let mut registry = Registry::default();
        let held = registry.attach(key(20_000), DEFAULT_ENGINE_LINGER);
        for port in 20_001..20_001 + MAX_ENGINES as u16 * 2 {
            drop(registry.attach(key(port), DEFAULT_ENGINE_LINGER));
        }
        let again = registry.attach(key(20_000), DEFAULT_ENGINE_LINGER);
        assert!(Arc::ptr_eq(held.engine(), again.engine()));
    }

    #[test]
    fn at_the_bound_a_held_server_still_gets_its_own_engine() {
        let mut registry = Registry::default();
        let held: Vec<EngineLease> = (30_000..30_000 + MAX_ENGINES as u16)
            .map(|port| registry.attach(key(port), DEFAULT_ENGINE_LINGER))
            .collect();
        // The oldest server, attached again while the registry is full of engines in use.
        let again = registry.attach(key(30_000), DEFAULT_ENGINE_LINGER);
        assert!(
            Arc::ptr_eq(held[0].engine(), again.engine()),
            "a second engine for one server"
        );
        // And a new server does not evict any of them.
        let _new = registry.attach(key(31_000), DEFAULT_ENGINE_LINGER);
        let once_more = registry.attach(key(30_001), DEFAULT_ENGINE_LINGER);
        assert!(Arc::ptr_eq(held[1].engine(), once_more.engine()));
    }

    #[test]
    fn idle_engines_at_the_bound_go_oldest_first() {
        let mut registry = Registry::default();
        let first = registry.attach(key(40_000), DEFAULT_ENGINE_LINGER);
        let first_engine = Arc::downgrade(first.engine());
        drop(first);
        for port in 40_001..40_000 + MAX_ENGINES as u16 {
            drop(registry.attach(key(port), DEFAULT_ENGINE_LINGER));
        }
        assert!(first_engine.upgrade().is_some(), "still within the bound");
        drop(registry.attach(key(41_000), DEFAULT_ENGINE_LINGER));
        assert!(
            first_engine.upgrade().is_none(),
            "the oldest idle engine went first"
        );
        assert!(registry.engines.len() <= MAX_ENGINES);
    }

    #[test]
    fn load_markers_end_when_dropped() {
        let mut registry = Registry::default();
        let lease = registry.attach(key(5), DEFAULT_ENGINE_LINGER);
        let engine = lease.engine().clone();
        let marker = engine.mark_loading(&["Org/Model", "org/model"]);
        let second = engine.mark_loading(&["org/model"]);
        assert_eq!(engine.loads_in_progress("ORG/MODEL").len(), 2);
        let waiter = engine.loads_in_progress("org/model").remove(0);
        drop(marker);
        assert_eq!(engine.loads_in_progress("org/model").len(), 1);
        assert!(
            waiter.has_changed().is_err(),
            "the waiter sees the load end"
        );
        drop(second);
        assert!(engine.loads_in_progress("org/model").is_empty());
        assert!(lock(&engine.loading).is_empty());
    }
}
