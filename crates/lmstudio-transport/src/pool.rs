//! [`Pool`]: keep-alive connections shared by many clients, one hyper pool per Tokio runtime.
//!
//! A pooled connection is driven by a task on the runtime that opened it. Handing it to a
//! request on another runtime works only while the first runtime lives; once that runtime
//! shuts down, the connection's task is gone and a request on it fails or waits. So a
//! [`Pool`] keeps one hyper-util pool per runtime ([`tokio::runtime::Id`]) and hands each
//! request the pool of the runtime it runs on. When a runtime shuts down, a sentinel task
//! spawned on it is dropped, and its pool is removed; when the [`Pool`] is dropped, its
//! sentinels end.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::runtime::{Handle, Id};
use tokio::sync::oneshot;

use crate::connect::Connector;
use crate::error::Error;

/// How long an idle keep-alive connection stays in the pool. Below the 5 s keep-alive
/// timeout common servers use (llama.cpp sends `Keep-Alive: timeout=5`), so we drop a
/// connection before the server does.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(4);
/// Most idle connections kept per host and runtime.
const POOL_MAX_IDLE_PER_HOST: usize = 16;

pub(crate) type HttpClient = hyper_util::client::legacy::Client<Connector, Full<Bytes>>;

/// Keep-alive connections that several [`Client`](crate::Client)s share.
///
/// Cloning is cheap and clones share the connections. Clients built with the same pool
/// (see [`ClientBuilder::pool`](crate::ClientBuilder::pool)) reuse each other's idle
/// connections, whatever their tokens and limits: both are applied per request. Connections
/// are kept per Tokio runtime, so a pool may be used from several runtimes at once (every
/// `#[tokio::test]` has its own) without a request ever landing on a connection whose
/// runtime has shut down.
#[derive(Clone, Default)]
pub struct Pool {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    runtimes: Mutex<HashMap<Id, RuntimePool>>,
}

struct RuntimePool {
    http: HttpClient,
    /// Dropped with this entry: ends the sentinel task on the runtime.
    _alive: oneshot::Sender<()>,
}

impl Pool {
    /// A new, empty pool.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many runtimes this pool currently holds connections for.
    pub fn runtime_count(&self) -> usize {
        self.lock().len()
    }

    /// True when both handles share the same connections.
    pub fn ptr_eq(&self, other: &Pool) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// The hyper client of the runtime this is called on, created on first use.
    pub(crate) fn http(&self) -> Result<HttpClient, Error> {
        let handle = Handle::try_current().map_err(|_| Error::Request {
            message: "requests must run inside a Tokio runtime".to_owned(),
        })?;
        let id = handle.id();
        if let Some(pool) = self.lock().get(&id) {
            return Ok(pool.http.clone());
        }
        let http = new_http_client();
        let (alive, ended) = oneshot::channel::<()>();
        {
            let mut runtimes = self.lock();
            // Another request of this runtime may have created it meanwhile.
            if let Some(pool) = runtimes.get(&id) {
                return Ok(pool.http.clone());
            }
            runtimes.insert(
                id,
                RuntimePool {
                    http: http.clone(),
                    _alive: alive,
                },
            );
        }
        let sentinel = Sentinel {
            shared: Arc::downgrade(&self.shared),
            id,
        };
        // Spawned without the lock held: on a runtime that is shutting down the task is
        // dropped at once, and the sentinel's drop takes the lock to remove the entry.
        handle.spawn(async move {
            // Ends when the pool drops this runtime's entry; dropped (running `Sentinel`'s
            // `Drop`) when the runtime shuts down first.
            let _sentinel = sentinel;
            let _ = ended.await;
        });
        Ok(http)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Id, RuntimePool>> {
        lock(&self.shared.runtimes)
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("runtimes", &self.runtime_count())
            .finish()
    }
}

/// Removes a runtime's connections when that runtime drops the sentinel task.
struct Sentinel {
    shared: Weak<Shared>,
    id: Id,
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            // Dropping the entry outside the lock: its connections' drops may take locks too.
            let removed = lock(&shared.runtimes).remove(&self.id);
            drop(removed);
        }
    }
}

fn new_http_client() -> HttpClient {
    let mut builder = hyper_util::client::legacy::Client::builder(TokioExecutor::new());
    builder
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST);
    builder.build(Connector::new())
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn one_pool_per_runtime_and_removed_when_the_runtime_ends() {
        let pool = Pool::new();
        let first = runtime();
        first.block_on(async { pool.http().expect("inside a runtime") });
        first.block_on(async { pool.http().expect("same runtime again") });
        assert_eq!(pool.runtime_count(), 1);
        let second = runtime();
        second.block_on(async { pool.http().expect("second runtime") });
        assert_eq!(pool.runtime_count(), 2);
        drop(first);
        assert_eq!(pool.runtime_count(), 1);
        drop(second);
        assert_eq!(pool.runtime_count(), 0);
    }

    #[test]
    fn outside_a_runtime_is_an_error_not_a_panic() {
        let err = Pool::new().http().expect_err("no runtime");
        assert!(err.to_string().contains("Tokio runtime"), "{err}");
    }

    #[test]
    fn dropping_the_pool_ends_its_sentinels() {
        let rt = runtime();
        let pool = Pool::new();
        rt.block_on(async {
            pool.http().expect("runtime");
            let metrics = Handle::current().metrics();
            assert_eq!(metrics.num_alive_tasks(), 1);
            drop(pool);
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
            assert_eq!(metrics.num_alive_tasks(), 0);
        });
    }
}
