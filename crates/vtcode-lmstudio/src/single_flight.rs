//! Share one in-flight operation per key: concurrent callers for the same model wait for the
//! first caller's download or load and get its result instead of starting their own.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use tokio::sync::watch;

type Slot<T, E> = watch::Receiver<Option<Result<T, E>>>;

/// A map from key to the operation currently running for it.
pub(crate) struct SingleFlight<T, E> {
    in_flight: Mutex<HashMap<String, Slot<T, E>>>,
}

impl<T, E> Default for SingleFlight<T, E> {
    fn default() -> Self {
        Self {
            in_flight: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone, E: Clone> SingleFlight<T, E> {
    /// Runs `work` for `key` unless it is already running, in which case this waits for the
    /// running one and returns a clone of its result. The second element is true when this
    /// call did the work.
    ///
    /// If the caller doing the work is cancelled, one of the waiters takes over.
    pub(crate) async fn run<F, Fut>(&self, key: &str, work: F) -> (Result<T, E>, bool)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        loop {
            let role = {
                let mut map = self.lock();
                match map.get(key) {
                    Some(rx) => Role::Wait(rx.clone()),
                    None => {
                        let (tx, rx) = watch::channel(None);
                        map.insert(key.to_owned(), rx);
                        Role::Lead(tx)
                    }
                }
            };
            match role {
                Role::Lead(tx) => {
                    let guard = LeaderGuard {
                        flight: self,
                        key,
                        tx,
                    };
                    let result = work().await;
                    guard.finish(result.clone());
                    return (result, true);
                }
                Role::Wait(mut rx) => {
                    loop {
                        if let Some(result) = rx.borrow_and_update().as_ref() {
                            return (result.clone(), false);
                        }
                        if rx.changed().await.is_err() {
                            // The leader was dropped without a result: a final value may have
                            // been sent just before; otherwise take over.
                            if let Some(result) = rx.borrow().as_ref() {
                                return (result.clone(), false);
                            }
                            break;
                        }
                    }
                }
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot<T, E>>> {
        self.in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

enum Role<T, E> {
    Lead(watch::Sender<Option<Result<T, E>>>),
    Wait(Slot<T, E>),
}

/// Removes the key when the leader finishes or is dropped, so a later call starts afresh.
struct LeaderGuard<'a, T, E> {
    flight: &'a SingleFlight<T, E>,
    key: &'a str,
    tx: watch::Sender<Option<Result<T, E>>>,
}

impl<T, E> LeaderGuard<'_, T, E> {
    fn finish(self, result: Result<T, E>) {
        // Publish first, then remove: waiters holding a receiver see the value either way.
        self.tx.send_replace(Some(result));
    }
}

impl<T, E> Drop for LeaderGuard<'_, T, E> {
    fn drop(&mut self) {
        let mut map = self
            .flight
            .in_flight
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.remove(self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn concurrent_callers_share_one_run() {
        let flight: Arc<SingleFlight<u32, String>> = Arc::new(SingleFlight::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let (release_tx, release_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let flight = flight.clone();
            let runs = runs.clone();
            let mut release = release_rx.clone();
            tasks.push(tokio::spawn(async move {
                flight
                    .run("model", || async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        while !*release.borrow_and_update() {
                            if release.changed().await.is_err() {
                                break;
                            }
                        }
                        Ok(7)
                    })
                    .await
            }));
        }
        // Let every task reach the flight before releasing the leader.
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        release_tx.send_replace(true);
        let mut leaders = 0;
        for task in tasks {
            let (result, led) = task.await.expect("join");
            assert_eq!(result, Ok(7));
            leaders += usize::from(led);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(leaders, 1);
    }

    #[tokio::test]
    async fn errors_are_shared_and_the_next_call_runs_again() {
        let flight: SingleFlight<u32, String> = SingleFlight::default();
        let (first, led) = flight.run("k", || async { Err("boom".to_owned()) }).await;
        assert_eq!(first, Err("boom".to_owned()));
        assert!(led);
        let (second, led) = flight.run("k", || async { Ok(1) }).await;
        assert_eq!(second, Ok(1));
        assert!(led);
    }

    #[tokio::test]
    async fn a_cancelled_leader_hands_over_to_a_waiter() {
        let flight: Arc<SingleFlight<u32, String>> = Arc::new(SingleFlight::default());
        let leader = {
            let flight = flight.clone();
            tokio::spawn(async move {
                flight
                    .run("k", || async {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        Ok(1)
                    })
                    .await
            })
        };
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        let waiter = {
            let flight = flight.clone();
            tokio::spawn(async move { flight.run("k", || async { Ok(2) }).await })
        };
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        leader.abort();
        let (result, led) = waiter.await.expect("join");
        assert_eq!(result, Ok(2));
        assert!(led);
    }

    #[tokio::test]
    async fn different_keys_run_independently() {
        let flight: SingleFlight<u32, String> = SingleFlight::default();
        let (a, b) = tokio::join!(
            flight.run("a", || async { Ok(1) }),
            flight.run("b", || async { Ok(2) })
        );
        assert_eq!((a.0, b.0), (Ok(1), Ok(2)));
        assert!(a.1 && b.1);
    }

    #[test]
    fn arc_is_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Arc<SingleFlight<u32, String>>>();
    }
}
