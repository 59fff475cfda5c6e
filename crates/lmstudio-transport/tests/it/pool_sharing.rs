//! Clients sharing one `Pool`: warm connections are shared, while each request carries its
//! own client's token and connect limit; connections never cross to a runtime that is gone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use lmstudio_testkit::Emulator;
use lmstudio_testkit::fault::{Fault, FaultServer, http_response};
use lmstudio_transport::{Client, Endpoint, Error, Limits, Pool};

fn client_with(url: &str, pool: &Pool, token: Option<&str>, limits: Limits) -> Client {
    Client::builder(Endpoint::parse(url).unwrap())
        .bearer_token(token.map(str::to_owned))
        .limits(limits)
        .pool(pool.clone())
        .build()
        .unwrap()
}

/// Lets a finished connection go back to the pool (hyper-util returns it from a task).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(50)).await;
}

fn keep_alive() -> Fault {
    Fault::KeepAliveThenClose {
        response: http_response(200, "application/json", br#"{"ok":true}"#),
        responses: 100,
    }
}

#[tokio::test]
async fn clients_built_with_one_pool_share_its_connections() {
    let server = FaultServer::start(keep_alive()).await.unwrap();
    let pool = Pool::new();
    let a = client_with(&server.url(), &pool, Some("sk-a"), Limits::default());
    let b = client_with(
        &server.url(),
        &pool,
        Some("sk-b"),
        Limits::default().with_connect(Duration::from_secs(1)),
    );
    assert!(a.pool().ptr_eq(b.pool()));
    for client in [&a, &b, &a, &b] {
        let value: serde_json::Value = client.get_json("/v1/models").await.unwrap();
        assert_eq!(value["ok"], true);
        settle().await;
    }
    assert_eq!(server.requests(), 4);
    assert_eq!(server.accepted_connections(), 1);
}

#[tokio::test]
async fn clients_without_a_common_pool_do_not_share() {
    let server = FaultServer::start(keep_alive()).await.unwrap();
    let a = client_with(&server.url(), &Pool::new(), None, Limits::default());
    let b = client_with(&server.url(), &Pool::new(), None, Limits::default());
    for client in [&a, &b] {
        let _: serde_json::Value = client.get_json("/v1/models").await.unwrap();
        settle().await;
    }
    assert_eq!(server.accepted_connections(), 2);
}

#[tokio::test]
async fn each_request_carries_its_own_clients_token_over_shared_connections() {
    let emulator = Emulator::builder()
        .auth_token(Some("sk-good".to_owned()))
        .start()
        .await
        .unwrap();
    let pool = Pool::new();
    let good = client_with(&emulator.url(), &pool, Some("sk-good"), Limits::default());
    let bad = client_with(&emulator.url(), &pool, Some("sk-bad"), Limits::default());
    let anonymous = client_with(&emulator.url(), &pool, None, Limits::default());
    let _: serde_json::Value = good.get_json("/api/v1/models").await.unwrap();
    settle().await;
    let err = bad
        .get_json::<serde_json::Value>("/api/v1/models")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    settle().await;
    let err = anonymous
        .get_json::<serde_json::Value>("/api/v1/models")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    settle().await;
    let _: serde_json::Value = good.get_json("/api/v1/models").await.unwrap();
    let seen: Vec<(bool, bool)> = emulator
        .requests()
        .iter()
        .map(|r| (r.had_auth_header, r.authorized))
        .collect();
    assert_eq!(
        seen,
        vec![(true, true), (true, false), (false, false), (true, true)]
    );
}

/// Linux drops SYNs to a listener whose accept queue is full, so a connect to it hangs.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_connect_limit_is_the_requesting_clients_own() {
    let (listener, addr, _fillers) = crate::support::hanging_listener().await;
    let pool = Pool::new();
    let url = format!("http://{addr}");
    let patient = client_with(
        &url,
        &pool,
        None,
        Limits::default().with_connect(Duration::from_millis(300)),
    );
    let hasty = client_with(
        &url,
        &pool,
        None,
        Limits::default().with_connect(Duration::from_millis(100)),
    );
    for (client, limit) in [(&hasty, 100), (&patient, 300), (&hasty, 100)] {
        let err = client
            .get_json::<serde_json::Value>("/v1/models")
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::ConnectTimeout { limit: l, .. } if l == Duration::from_millis(limit)),
            "{err:?}"
        );
    }
    // A per-request override wins over the client's limit.
    let err = patient
        .get("/v1/models")
        .connect_timeout(Duration::from_millis(50))
        .send_json::<serde_json::Value>()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::ConnectTimeout { limit, .. } if limit == Duration::from_millis(50)),
        "{err:?}"
    );
    drop(listener);
}

/// A keep-alive server on a runtime of its own, which lives as long as the returned handle.
fn keep_alive_server_on_its_own_runtime() -> (tokio::runtime::Runtime, FaultServer) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(FaultServer::start(keep_alive())).unwrap();
    (runtime, server)
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_runtime_that_shut_down_takes_its_connections_along_and_no_post_is_resent() {
    let (_server_runtime, server) = keep_alive_server_on_its_own_runtime();
    let pool = Pool::new();
    let client = client_with(&server.url(), &pool, None, Limits::default());

    let first = current_thread();
    first.block_on(async {
        let _: serde_json::Value = client.get_json("/v1/models").await.unwrap();
        settle().await;
    });
    assert_eq!(pool.runtime_count(), 1);
    drop(first);
    assert_eq!(
        pool.runtime_count(),
        0,
        "the runtime's connections went with it"
    );

    let second = current_thread();
    second.block_on(async {
        let call = async {
            let _: serde_json::Value = client
                .post_json("/api/v1/models/load", &serde_json::json!({"model": "m"}))
                .await
                .unwrap();
            let _: serde_json::Value = client.get_json("/v1/models").await.unwrap();
        };
        tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .expect("no hang on a connection of a dead runtime");
    });
    assert_eq!(server.requests(), 3, "nothing re-sent");
    assert_eq!(server.accepted_connections(), 2);
}

#[test]
fn two_live_runtimes_use_one_pool_at_once() {
    let (_server_runtime, server) = keep_alive_server_on_its_own_runtime();
    let pool = Pool::new();
    let client = client_with(&server.url(), &pool, None, Limits::default());
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || {
                current_thread().block_on(async {
                    for _ in 0..10 {
                        let call = client.get_json::<serde_json::Value>("/v1/models");
                        tokio::time::timeout(Duration::from_secs(10), call)
                            .await
                            .expect("no hang")
                            .unwrap();
                    }
                });
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(server.requests(), 20);
}

#[test]
fn a_runtime_that_lives_on_but_is_not_driven_does_not_stall_another_runtime() {
    let (_server_runtime, server) = keep_alive_server_on_its_own_runtime();
    let pool = Pool::new();
    let client = client_with(&server.url(), &pool, None, Limits::default());
    // Runtime A opens a connection into the pool, then stays alive without being driven:
    // its connection task never runs again.
    let idle = current_thread();
    idle.block_on(async {
        let _: serde_json::Value = client.get_json("/v1/models").await.unwrap();
        settle().await;
    });
    // Runtime B must not be handed A's connection (it would wait forever for A's task).
    current_thread().block_on(async {
        let body = serde_json::json!({"model": "m"});
        let call = client.post_json::<_, serde_json::Value>("/api/v1/models/load", &body);
        tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .expect("no stall on a connection of an undriven runtime")
            .unwrap();
    });
    assert_eq!(
        pool.runtime_count(),
        1,
        "B's pool went with B; A's is still there"
    );
    drop(idle);
    assert_eq!(server.requests(), 2);
}
