//! The readiness flow against scripted servers: warm path, JIT off, fallbacks, list failures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use support::{
    Recorder, builder_for, client_for, config_for, unexpected_endpoint, v0_model, v0_models_body,
    v1_model, v1_models_body,
};
use vtcode_config::PreloadMode;
use vtcode_lmstudio::{
    DownloadStep, LoadMethod, LoadStep, NativeApi, ServerKind, ensure_oss_ready,
};

const MODEL: &str = "openai/gpt-oss-20b";

#[tokio::test]
async fn warm_model_takes_one_request_and_does_nothing() {
    let mut server = support::server().await;
    let list = server
        .mock("GET", "/api/v1/models")
        .with_body(v1_models_body(&[v1_model(MODEL, &[MODEL])]))
        .expect(1)
        .create_async()
        .await;
    let recorder = Recorder::default();
    let client = client_for(&config_for(&server.url()), &recorder);
    let report = client.ensure_ready(MODEL).await.unwrap();
    assert_eq!(report.download, DownloadStep::AlreadyPresent);
    assert_eq!(
        report.load,
        LoadStep::AlreadyLoaded {
            instance_id: MODEL.to_owned()
        }
    );
    assert_eq!(
        report.server.as_ref().map(|s| s.kind),
        Some(ServerKind::LmStudio(NativeApi::V1))
    );
    list.assert_async().await;
}

#[tokio::test]
async fn jit_off_downloaded_but_unloaded_means_no_download_and_one_load() {
    let mut server = support::server().await;
    // With JIT off, /v1/models lists only loaded models; the native list knows better.
    let _openai = server
        .mock("GET", "/v1/models")
        .with_body(r#"{"data":[],"object":"list"}"#)
        .expect(0)
        .create_async()
        .await;
    let loaded = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = loaded.clone();
    let _list = server
        .mock("GET", "/api/v1/models")
        .with_body_from_request(move |_| {
            let instances: &[&str] = if flag.load(std::sync::atomic::Ordering::SeqCst) {
                &[MODEL]
            } else {
                &[]
            };
            v1_models_body(&[v1_model(MODEL, instances)]).into_bytes()
        })
        .create_async()
        .await;
    let download = server
        .mock("POST", "/api/v1/models/download")
        .expect(0)
        .create_async()
        .await;
    let flag = loaded.clone();
    let load = server
        .mock("POST", "/api/v1/models/load")
        .match_body(mockito::Matcher::PartialJsonString(format!(r#"{{"model":"{MODEL}"}}"#)))
        .with_body_from_request(move |_| {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            format!(r#"{{"type":"llm","instance_id":"{MODEL}","load_time_seconds":1.5,"status":"loaded"}}"#)
                .into_bytes()
        })
        .expect(1)
        .create_async()
        .await;
    let recorder = Recorder::default();
    let client = client_for(&config_for(&server.url()), &recorder);
    let report = client.ensure_ready(MODEL).await.unwrap();
    assert_eq!(report.download, DownloadStep::AlreadyPresent);
    match &report.load {
        LoadStep::Loaded {
            instance_id,
            method,
            load_seconds,
            ..
        } => {
            assert_eq!(instance_id, MODEL);
            assert_eq!(*method, LoadMethod::Rest);
            assert_eq!(*load_seconds, Some(1.5));
        }
        other => panic!("expected Loaded, got {other:?}"),
    }
    // A second readiness run finds the instance and does not load again.
    let again = client.ensure_ready(MODEL).await.unwrap();
    assert!(
        matches!(again.load, LoadStep::AlreadyLoaded { .. }),
        "{again:?}"
    );
    download.assert_async().await;
    load.assert_async().await;
}

#[tokio::test]
async fn a_200_error_on_api_v1_falls_back_to_api_v0() {
    let mut server = support::server().await;
    let v1 = server
        .mock("GET", "/api/v1/models")
        .with_body(unexpected_endpoint("GET", "/api/v1/models"))
        .expect(1)
        .create_async()
        .await;
    let v0 = server
        .mock("GET", "/api/v0/models")
        .with_body(v0_models_body(&[v0_model(MODEL, true)]))
        .create_async()
        .await;
    let recorder = Recorder::default();
    let client = client_for(&config_for(&server.url()), &recorder);
    let report = client.ensure_ready(MODEL).await.unwrap();
    assert_eq!(
        report.server.as_ref().map(|s| s.kind),
        Some(ServerKind::LmStudio(NativeApi::V0))
    );
    assert!(
        matches!(report.load, LoadStep::AlreadyLoaded { .. }),
        "{report:?}"
    );
    // Detection is remembered: a refresh goes straight to /api/v0.
    client.refresh_models().await.unwrap();
    v1.assert_async().await;
    v0.expect_at_least(2).assert_async().await;
}

#[tokio::test]
async fn a_model_list_failure_is_a_warning_and_the_flow_succeeds() {
    let mut server = support::server().await;
    let _list = server
        .mock("GET", "/api/v1/models")
        .with_status(500)
        .with_body(r#"{"error":"internal error while listing"}"#)
        .create_async()
        .await;
    let mut config = config_for(&server.url());
    config.lmstudio.preload = PreloadMode::Off;
    ensure_oss_ready(&config).await.unwrap();

    let recorder = Recorder::default();
    let client = client_for(&config, &recorder);
    let report = client.ensure_ready(MODEL).await.unwrap();
    assert!(
        matches!(report.download, DownloadStep::Skipped { .. }),
        "{report:?}"
    );
    assert_eq!(report.warnings.len(), 1, "{report:?}");
    assert!(report.warnings[0].contains("internal error while listing"));
}

#[tokio::test]
async fn an_openai_compatible_server_is_recognised_and_never_asked_to_download() {
    let mut server = support::server().await;
    for path in ["/api/v1/models", "/api/v0/models", "/lmstudio-greeting"] {
        server
            .mock("GET", path)
            .with_status(404)
            .with_body(
                r#"{"error":{"code":404,"message":"File Not Found","type":"not_found_error"}}"#,
            )
            .create_async()
            .await;
    }
    let _models = server
        .mock("GET", "/v1/models")
        .with_body(r#"{"models":[{"name":"gemma","model":"gemma"}],"object":"list","data":[{"id":"gemma","object":"model","created":1,"owned_by":"llamacpp"}]}"#)
        .create_async()
        .await;
    let recorder = Recorder::default();
    let client = client_for(&config_for(&server.url()), &recorder);
    assert_eq!(
        client.fetch_models().await.unwrap(),
        vec!["gemma".to_owned()]
    );
    let info = client.server_info().await.unwrap();
    assert_eq!(info.kind, ServerKind::OpenAiCompatible);

    let report = client.ensure_ready("gemma").await.unwrap();
    assert!(
        matches!(report.load, LoadStep::Skipped { .. }),
        "{report:?}"
    );

    let err = client.ensure_ready(MODEL).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("gemma") && text.contains("not LM Studio"),
        "{text}"
    );
    assert_eq!(
        std::io::Error::from(err).kind(),
        std::io::ErrorKind::Unsupported
    );
    let download_err = client.download_model(MODEL).await.unwrap_err();
    assert_eq!(download_err.kind(), std::io::ErrorKind::Unsupported);
}

#[tokio::test]
async fn the_model_list_is_cached_and_invalidated_by_loads() {
    let mut server = support::server().await;
    let list = server
        .mock("GET", "/api/v1/models")
        .with_body(v1_models_body(&[
            v1_model(MODEL, &[]),
            v1_model("qwen/qwen3-4b", &[]),
        ]))
        .expect(3)
        .create_async()
        .await;
    let _load = server
        .mock("POST", "/api/v1/models/load")
        .with_body(r#"{"type":"llm","instance_id":"qwen/qwen3-4b","status":"loaded"}"#)
        .create_async()
        .await;
    let recorder = Recorder::default();
    let client = builder_for(&config_for(&server.url()), &recorder)
        .catalog_ttl(std::time::Duration::from_secs(3600))
        .build()
        .unwrap();
    // Two reads, one request.
    assert_eq!(client.fetch_models().await.unwrap().len(), 2);
    assert_eq!(client.fetch_models().await.unwrap().len(), 2);
    // A load re-reads (before loading, to avoid a duplicate) and invalidates afterwards.
    client.load_model("qwen/qwen3-4b").await.unwrap();
    client.fetch_models().await.unwrap();
    list.assert_async().await;
}
