//! Share one in-flight operation per key: concurrent callers (from any client of the same
//! server) wait for the first caller's download or load and get its result instead of
//! starting their own. Every caller sees the operation's progress on its own reporter, from
//! the moment it joined, starting with a snapshot of where the operation is.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};

use crate::client::lock;
use crate::progress::{ProgressEvent, ProgressReporter};

/// Progress events buffered per participant before new ones are dropped. Participants drain
/// their buffer continuously while they wait, so it fills only behind a reporter that blocks.
const EVENT_BUFFER: usize = 1024;

type Outcome<T, E> = Option<Result<T, E>>;

/// A map from key to the operation currently running for it.
pub(crate) struct SingleFlight<T, E> {
    in_flight: Mutex<HashMap<String, Arc<Flight<T, E>>>>,
}

impl<T, E> Default for SingleFlight<T, E> {
    fn default() -> Self {
        Self {
            in_flight: Mutex::new(HashMap::new()),
        }
    }
}

/// One running operation: its result (published once, by the leader) and its progress.
struct Flight<T, E> {
    result: watch::Receiver<Outcome<T, E>>,
    progress: FlightProgress,
}

/// The progress of one shared operation. The leader's work reports to it; it forwards each
/// event to every participant and remembers where the operation is for late joiners.
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
            ProgressEvent::DownloadStarted { .. } | ProgressEvent::LoadStarted { .. }
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

impl<T: Clone, E: Clone> SingleFlight<T, E> {
    /// Runs `work` for `key` unless it is already running, in which case this waits for the
    /// running one and returns a clone of its result. Either way the operation's progress
    /// events reach `reporter` while this call waits.
    ///
    /// `work` gets the operation's [`FlightProgress`] to report to. If the caller doing the
    /// work is cancelled, one of the waiters takes over with its own `work`.
    pub(crate) async fn run<F, Fut>(
        &self,
        key: &str,
        reporter: &dyn ProgressReporter,
        work: F,
    ) -> Result<T, E>
    where
        F: FnOnce(FlightProgress) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let (flight, publish) = loop {
            match self.join_or_lead(key) {
                Role::Lead(flight, publish) => break (flight, publish),
                Role::Wait(flight) => {
                    let mut events = flight.progress.join();
                    let mut result = flight.result.clone();
                    let outcome = forward_while(wait_for(&mut result), &mut events, reporter).await;
                    drain(&mut events, reporter);
                    if let Some(outcome) = outcome {
                        return outcome;
                    }
                    // The leader was cancelled: take over.
                }
            }
        };
        let guard = LeaderGuard {
            flight: self,
            key,
            entry: flight.clone(),
            publish,
        };
        let mut events = flight.progress.join();
        let result = forward_while(work(flight.progress.clone()), &mut events, reporter).await;
        guard.finish(result.clone());
        drain(&mut events, reporter);
        result
    }

    fn join_or_lead(&self, key: &str) -> Role<T, E> {
        let mut map = lock(&self.in_flight);
        match map.get(key) {
            Some(flight) => Role::Wait(flight.clone()),
            None => {
                let (publish, result) = watch::channel(None);
                let flight = Arc::new(Flight {
                    result,
                    progress: FlightProgress::default(),
                });
                map.insert(key.to_owned(), flight.clone());
                Role::Lead(flight, publish)
            }
        }
    }
}

enum Role<T, E> {
    Lead(Arc<Flight<T, E>>, watch::Sender<Outcome<T, E>>),
    Wait(Arc<Flight<T, E>>),
}

/// Waits for the leader's result; `None` when the leader went away without one.
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

/// Removes the key when the leader finishes or is dropped, so a later call starts afresh.
struct LeaderGuard<'a, T, E> {
    flight: &'a SingleFlight<T, E>,
    key: &'a str,
    entry: Arc<Flight<T, E>>,
    publish: watch::Sender<Outcome<T, E>>,
}

impl<T, E> LeaderGuard<'_, T, E> {
    fn finish(self, result: Result<T, E>) {
        // Publish first, then remove (in drop): waiters holding a receiver see it either way.
        self.publish.send_replace(Some(result));
    }
}

impl<T, E> Drop for LeaderGuard<'_, T, E> {
    fn drop(&mut self) {
        let mut map = lock(&self.flight.in_flight);
        // Only our own flight: after a hand-over the key may belong to a newer leader.
        if map
            .get(self.key)
            .is_some_and(|current| Arc::ptr_eq(current, &self.entry))
        {
            map.remove(self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

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
                    .run("model", &NoProgress, |_| async move {
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
    async fn a_cancelled_leader_hands_over_to_a_waiter() {
        let flight: Arc<SingleFlight<u32, String>> = Arc::new(SingleFlight::default());
        let leader = {
            let flight = flight.clone();
            tokio::spawn(async move {
                flight
                    .run("k", &NoProgress, |_| async {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        Ok(1)
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
        leader.abort();
        assert_eq!(waiter.await.expect("join"), Ok(2));
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
                    .run("k", &events, |progress| async move {
                        progress.report(&started());
                        progress.report(&progress_event_of(&step));
                        // Each step the test takes becomes one progress event.
                        while *step.borrow_and_update() < 3 {
                            if step.changed().await.is_err() {
                                break;
                            }
                            progress.report(&progress_event_of(&step));
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

    fn progress_event_of(step: &watch::Receiver<u64>) -> ProgressEvent {
        progress(*step.borrow())
    }

    #[test]
    fn arc_is_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Arc<SingleFlight<u32, String>>>();
        assert_send_sync::<FlightProgress>();
    }
}
