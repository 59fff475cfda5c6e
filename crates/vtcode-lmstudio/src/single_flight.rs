//! Share one in-flight operation per key: concurrent callers (from any client of the same
//! server) wait for one run of a download or load and get its result instead of starting
//! their own. Every caller sees the operation's progress on its own reporter, from the moment
//! it joined, starting with a snapshot of where the operation is.
//!
//! The work runs in a task of its own, not inside the first caller's future: a caller that is
//! cancelled (a UI closing, a timeout around one `ensure_ready`) leaves the operation running
//! for the others, so it is never started twice. When every caller is gone the task is
//! aborted, which keeps cancellation meaning something (an `lms get` child is killed). If the
//! task ends without a result (its runtime shut down), a waiting caller runs the work itself.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;

use crate::client::lock;
use crate::progress::{ProgressEvent, ProgressReporter};

/// Progress events buffered per participant before new ones are dropped. Participants drain
/// their buffer continuously while they wait, so it fills only behind a reporter that blocks.
const EVENT_BUFFER: usize = 1024;

type Outcome<T, E> = Option<Result<T, E>>;
type FlightMap<T, E> = Arc<Mutex<HashMap<String, Arc<Flight<T, E>>>>>;

/// A map from key to the operation currently running for it.
pub(crate) struct SingleFlight<T, E> {
    in_flight: FlightMap<T, E>,
}

impl<T, E> Default for SingleFlight<T, E> {
    fn default() -> Self {
        Self {
            in_flight: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

/// One running operation: its result (published once, by its task), its progress, and who
/// is waiting for it.
struct Flight<T, E> {
    result: watch::Receiver<Outcome<T, E>>,
    progress: FlightProgress,
    participants: AtomicUsize,
    task: Mutex<Option<AbortHandle>>,
}

/// The progress of one shared operation. The work reports to it; it forwards each event to
/// every participant and remembers where the operation is for late joiners.
#[derive(Clone, Default)]
pub(crate) struct FlightProgress {
    hub: Arc<Mutex<Hub>>,
}

#[derive(Default)]
struct Hub {
    /// The last `*Started` event: a late joiner learns what is running and how.
    started: Option<ProgressEvent>,
    /// The last event of any kind.
    latest: Option<ProgressEvent>,
    participants: Vec<mpsc::Sender<ProgressEvent>>,
}

impl FlightProgress {
    /// A new participant: it first gets the snapshot (the start event, then the latest one),
    /// then every later event.
    fn join(&self) -> mpsc::Receiver<ProgressEvent> {
        let (tx, rx) = mpsc::channel(EVENT_BUFFER);
        let mut hub = lock(&self.hub);
        if let Some(started) = &hub.started {
            let _ = tx.try_send(started.clone());
        }
        if let Some(latest) = &hub.latest
            && hub.started.as_ref() != Some(latest)
        {
            let _ = tx.try_send(latest.clone());
        }
        hub.participants.push(tx);
        rx
    }
}

impl ProgressReporter for FlightProgress {
    fn report(&self, event: &ProgressEvent) {
        let mut hub = lock(&self.hub);
        if matches!(
            event,
            ProgressEvent::DownloadStarted { .. }
                | ProgressEvent::LoadStarted { .. }
                | ProgressEvent::StartingServer { .. }
        ) {
            hub.started = Some(event.clone());
        }
        hub.latest = Some(event.clone());
        hub.participants.retain(|tx| !tx.is_closed());
        for tx in &hub.participants {
            // A full buffer drops this event for that participant only (see EVENT_BUFFER).
            let _ = tx.try_send(event.clone());
        }
    }
}

impl<T, E> SingleFlight<T, E>
where
    T: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + FlightError + 'static,
{
    /// Runs `work` for `key` unless it is already running, in which case this waits for the
    /// running one and returns a clone of its result. Either way the operation's progress
    /// events reach `reporter` while this call waits.
    ///
    /// `work` gets the operation's [`FlightProgress`] to report to, and runs in a task of its
    /// own (see the module docs), so it must own what it uses.
    pub(crate) async fn run<F, Fut>(
        &self,
        key: &str,
        reporter: &dyn ProgressReporter,
        work: F,
    ) -> Result<T, E>
    where
        F: FnOnce(FlightProgress) -> Fut,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let mut work = Some(work);
        loop {
            let Some(flight) = self.join_or_start(key, &mut work) else {
                // Our own work ran as a task that ended without a result (it panicked).
                return Err(E::lost(key));
            };
            let participant = Participant(flight.clone());
            let mut events = flight.progress.join();
            let mut result = flight.result.clone();
            let outcome = forward_while(wait_for(&mut result), &mut events, reporter).await;
            drain(&mut events, reporter);
            drop(participant);
            if let Some(outcome) = outcome {
                return outcome;
            }
            // The task ended without a result (its runtime shut down, or it panicked): run
            // our own work, unless it was ours that ran.
        }
    }

    /// Joins the flight for `key`, or starts one with `work` (taken) when there is none.
    /// `None` when there is none and `work` was already taken.
    fn join_or_start<F, Fut>(&self, key: &str, work: &mut Option<F>) -> Option<Arc<Flight<T, E>>>
    where
        F: FnOnce(FlightProgress) -> Fut,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let mut map = lock(&self.in_flight);
        if let Some(flight) = map.get(key) {
            // Counted under the map lock, so the last participant cannot abort it between
            // this lookup and our count.
            flight.participants.fetch_add(1, Ordering::SeqCst);
            return Some(flight.clone());
        }
        let work = work.take()?;
        let (publish, result) = watch::channel(None);
        let flight = Arc::new(Flight {
            result,
            progress: FlightProgress::default(),
            participants: AtomicUsize::new(1),
            task: Mutex::new(None),
        });
        map.insert(key.to_owned(), flight.clone());
        drop(map);
        let running = work(flight.progress.clone());
        let guard = TaskGuard {
            map: self.in_flight.clone(),
            key: key.to_owned(),
            entry: flight.clone(),
        };
        let task = tokio::spawn(async move {
            let guard = guard;
            let result = running.await;
            // Publish first, then remove (in the guard's drop): waiters holding a receiver
            // see the value either way.
            publish.send_replace(Some(result));
            drop(guard);
        });
        *lock(&flight.task) = Some(task.abort_handle());
        Some(flight)
    }
}

/// The error a caller gets when the task running its own work ended without a result.
pub(crate) trait FlightError {
    /// The error for the operation on `key`.
    fn lost(key: &str) -> Self;
}

impl FlightError for crate::error::LmStudioError {
    fn lost(key: &str) -> Self {
        Self::Interrupted {
            operation: key.to_owned(),
        }
    }
}

/// A caller waiting on a flight. The last one to leave before the result aborts the task.
struct Participant<T, E>(Arc<Flight<T, E>>);

impl<T, E> Drop for Participant<T, E> {
    fn drop(&mut self) {
        let flight = &self.0;
        if flight.participants.fetch_sub(1, Ordering::SeqCst) == 1
            && flight.result.borrow().is_none()
            && let Some(task) = lock(&flight.task).take()
        {
            task.abort();
        }
    }
}

/// Waits for the task's result; `None` when the task went away without one.
async fn wait_for<T: Clone, E: Clone>(
    result: &mut watch::Receiver<Outcome<T, E>>,
) -> Option<Result<T, E>> {
    loop {
        if let Some(outcome) = result.borrow_and_update().as_ref() {
            return Some(outcome.clone());
        }
        if result.changed().await.is_err() {
            // A final value may have been sent just before the sender went away.
            return result.borrow().clone();
        }
    }
}

/// Drives `future` to completion, handing progress events to `reporter` as they come.
async fn forward_while<O>(
    future: impl Future<Output = O>,
    events: &mut mpsc::Receiver<ProgressEvent>,
    reporter: &dyn ProgressReporter,
) -> O {
    let mut future = std::pin::pin!(future);
    loop {
        tokio::select! {
            biased;
            Some(event) = events.recv() => reporter.report(&event),
            output = &mut future => return output,
        }
    }
}

/// Hands over the events that arrived before the result.
fn drain(events: &mut mpsc::Receiver<ProgressEvent>, reporter: &dyn ProgressReporter) {
    while let Ok(event) = events.try_recv() {
        reporter.report(&event);
    }
}

/// Owned by the task: removes its key when the task finishes, is aborted, or its runtime
/// shuts down, so a later call starts afresh.
struct TaskGuard<T, E> {
    map: FlightMap<T, E>,
    key: String,
    entry: Arc<Flight<T, E>>,
}

impl<T, E> Drop for TaskGuard<T, E> {
    fn drop(&mut self) {
        let mut map = lock(&self.map);
        // Only our own flight: after a hand-over the key may belong to a newer one.
        if map
            .get(&self.key)
            .is_some_and(|current| Arc::ptr_eq(current, &self.entry))
        {
            map.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    impl FlightError for String {
        fn lost(key: &str) -> Self {
            format!("lost {key}")
        }
    }

    fn progress(n: u64) -> ProgressEvent {
        ProgressEvent::DownloadProgress {
            model: "m".into(),
            downloaded_bytes: n,
            total_bytes: Some(100),
            bytes_per_second: None,
            eta: None,
        }
    }

    fn started() -> ProgressEvent {
        ProgressEvent::DownloadStarted {
            model: "m".into(),
            method: crate::progress::DownloadMethod::Rest,
            total_bytes: Some(100),
        }
    }

    #[derive(Default, Clone)]
    struct Recorder(Arc<Mutex<Vec<ProgressEvent>>>);

    impl ProgressReporter for Recorder {
        fn report(&self, event: &ProgressEvent) {
            lock(&self.0).push(event.clone());
        }
    }

    impl Recorder {
        fn events(&self) -> Vec<ProgressEvent> {
            lock(&self.0).clone()
        }
    }

    async fn settle() {
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
    }

    /// Waits until `release` is true.
    async fn released(mut release: watch::Receiver<bool>) {
        while !*release.borrow_and_update() {
            if release.changed().await.is_err() {
                break;
            }
        }
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_run() {
        let flight: Arc<SingleFlight<u32, String>> = Arc::new(SingleFlight::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let (release_tx, release_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let flight = flight.clone();
            let runs = runs.clone();
            let release = release_rx.clone();
            tasks.push(tokio::spawn(async move {
                flight
                    .run("model", &NoProgress, move |_| async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        released(release).await;
                        Ok(7)
                    })
                    .await
            }));
        }
        settle().await;
        release_tx.send_replace(true);
        for task in tasks {
            assert_eq!(task.await.expect("join"), Ok(7));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn errors_are_shared_and_the_next_call_runs_again() {
        let flight: SingleFlight<u32, String> = SingleFlight::default();
        let first = flight
            .run("k", &NoProgress, |_| async { Err("boom".to_owned()) })
            .await;
        assert_eq!(first, Err("boom".to_owned()));
        let second = flight.run("k", &NoProgress, |_| async { Ok(1) }).await;
        assert_eq!(second, Ok(1));
    }

    #[tokio::test]
    async fn a_cancelled_caller_leaves_the_work_running_for_the_others() {
        let flight: Arc<SingleFlight<u32, String>> = Arc::new(SingleFlight::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let (release_tx, release_rx) = watch::channel(false);
        let leader = {
            let (flight, runs) = (flight.clone(), runs.clone());
            tokio::spawn(async move {
                flight
                    .run("k", &NoProgress, move |_| async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        released(release_rx).await;
                        Ok(1)
                    })
                    .await
            })
        };
        settle().await;
        let waiter = {
            let (flight, runs) = (flight.clone(), runs.clone());
            tokio::spawn(async move {
                flight
                    .run("k", &NoProgress, move |_| async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        Ok(2)
                    })
                    .await
            })
        };
        settle().await;
        leader.abort();
        settle().await;
        release_tx.send_replace(true);
        // The waiter gets the first run's result: the operation was not started twice.
        assert_eq!(waiter.await.expect("join"), Ok(1));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn when_every_caller_is_gone_the_work_is_cancelled() {
        struct SetOnDrop(Arc<AtomicBool>);
        impl Drop for SetOnDrop {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let flight: Arc<SingleFlight<u32, String>> = Arc::new(SingleFlight::default());
        let dropped = Arc::new(AtomicBool::new(false));
        let caller = {
            let (flight, dropped) = (flight.clone(), dropped.clone());
            tokio::spawn(async move {
                flight
                    .run("k", &NoProgress, move |_| async move {
                        let _guard = SetOnDrop(dropped);
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        Ok(1)
                    })
                    .await
            })
        };
        settle().await;
        assert!(!dropped.load(Ordering::SeqCst), "the work is running");
        caller.abort();
        settle().await;
        assert!(
            dropped.load(Ordering::SeqCst),
            "the work was aborted with its last caller"
        );
        // And the key is free again.
        assert_eq!(
            flight.run("k", &NoProgress, |_| async { Ok(3) }).await,
            Ok(3)
        );
    }

    #[tokio::test]
    async fn a_task_that_dies_hands_over_to_a_waiter() {
        let flight: Arc<SingleFlight<u32, String>> = Arc::new(SingleFlight::default());
        let (release_tx, release_rx) = watch::channel(false);
        let leader = {
            let flight = flight.clone();
            tokio::spawn(async move {
                flight
                    .run("k", &NoProgress, move |_| async move {
                        released(release_rx).await;
                        panic!("the work panics (this message is expected in test output)");
                    })
                    .await
            })
        };
        settle().await;
        let waiter = {
            let flight = flight.clone();
            tokio::spawn(async move { flight.run("k", &NoProgress, |_| async { Ok(2) }).await })
        };
        settle().await;
        release_tx.send_replace(true);
        assert_eq!(
            waiter.await.expect("join"),
            Ok(2),
            "the waiter ran its own work"
        );
        // The first caller either joined the waiter's run or, finding none, got the error;
        // it never hangs and never runs its (spent) work again.
        let first = leader.await.expect("join");
        assert!(
            first == Ok(2) || first == Err("lost k".to_owned()),
            "{first:?}"
        );
    }

    #[tokio::test]
    async fn different_keys_run_independently() {
        let flight: SingleFlight<u32, String> = SingleFlight::default();
        let (a, b) = tokio::join!(
            flight.run("a", &NoProgress, |_| async { Ok(1) }),
            flight.run("b", &NoProgress, |_| async { Ok(2) })
        );
        assert_eq!((a, b), (Ok(1), Ok(2)));
    }

    #[tokio::test]
    async fn every_participant_gets_progress_from_a_snapshot_on() {
        let flight: Arc<SingleFlight<u32, String>> = Arc::new(SingleFlight::default());
        let (step_tx, step_rx) = watch::channel(0u64);
        let leader_events = Recorder::default();
        let leader = {
            let flight = flight.clone();
            let events = leader_events.clone();
            let mut step = step_rx.clone();
            tokio::spawn(async move {
                flight
                    .run("k", &events, move |hub| async move {
                        hub.report(&started());
                        hub.report(&progress(*step.borrow()));
                        // Each step the test takes becomes one progress event.
                        while *step.borrow_and_update() < 3 {
                            if step.changed().await.is_err() {
                                break;
                            }
                            hub.report(&progress(*step.borrow()));
                        }
                        Ok(9)
                    })
                    .await
            })
        };
        settle().await;
        step_tx.send_replace(1);
        settle().await;
        // A waiter joins after two progress events: it gets the start and the latest (1).
        let waiter_events = Recorder::default();
        let waiter = {
            let flight = flight.clone();
            let events = waiter_events.clone();
            tokio::spawn(async move { flight.run("k", &events, |_| async { Ok(0) }).await })
        };
        settle().await;
        step_tx.send_replace(2);
        settle().await;
        step_tx.send_replace(3);
        assert_eq!(leader.await.expect("join"), Ok(9));
        assert_eq!(waiter.await.expect("join"), Ok(9));
        assert_eq!(
            leader_events.events(),
            vec![
                started(),
                progress(0),
                progress(1),
                progress(2),
                progress(3)
            ]
        );
        assert_eq!(
            waiter_events.events(),
            vec![started(), progress(1), progress(2), progress(3)]
        );
    }

    #[test]
    fn arc_is_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Arc<SingleFlight<u32, String>>>();
        assert_send_sync::<FlightProgress>();
    }
}
