#![allow(missing_docs, clippy::unwrap_used)]
use std::time::Instant;
use lmstudio_testkit::{CatalogModel, Emulator};
use vtcode_config::{PreloadMode, VTCodeConfig};
fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let em = Emulator::builder().model(CatalogModel::llm("openai/gpt-oss-20b").downloaded(true).loaded(true)).start_threaded().unwrap();
    let url = em.url();
    let mut config = VTCodeConfig::default();
    config.lmstudio.base_url = Some(url.clone());
    config.agent.default_model = Some("openai/gpt-oss-20b".into());
    config.lmstudio.preload = PreloadMode::Wait;
    let n = 300;
    rt.block_on(async {
        let arg = std::env::args().nth(1).unwrap_or_default();
        for _ in 0..3 {
        let t = Instant::now();
        for _ in 0..n {
            match arg.as_str() {
                "ours" => { vtcode_lmstudio::ensure_oss_ready_with_report(&config).await.unwrap(); }
                "new" => { let _c = vtcode_lmstudio::LMStudioClient::new(&config).unwrap(); }
                "transport_v1" => { let c = lmstudio_transport::Client::builder(lmstudio_transport::Endpoint::parse(&url).unwrap()).build().unwrap(); let _: lmstudio_proto::native::v1::ModelsResponse = c.get_json("/api/v1/models").await.unwrap(); }
                "transport_v1_value" => { let c = lmstudio_transport::Client::builder(lmstudio_transport::Endpoint::parse(&url).unwrap()).build().unwrap(); let _: serde_json::Value = c.get_json("/api/v1/models").await.unwrap(); }
                "transport_greet" => { let c = lmstudio_transport::Client::builder(lmstudio_transport::Endpoint::parse(&url).unwrap()).build().unwrap(); let _: serde_json::Value = c.get_json("/lmstudio-greeting").await.unwrap(); }
                "reqwest_v1" => { let c = reqwest::Client::new(); let _: serde_json::Value = c.get(format!("{url}/api/v1/models")).send().await.unwrap().json().await.unwrap(); }
                "reqwest_greet" => { let c = reqwest::Client::new(); let _: serde_json::Value = c.get(format!("{url}/lmstudio-greeting")).send().await.unwrap().json().await.unwrap(); }
                "reqwest_greet3" => { let c = reqwest::Client::new(); for _ in 0..3 { let _: serde_json::Value = c.get(format!("{url}/lmstudio-greeting")).send().await.unwrap().json().await.unwrap(); } }
                "transport_greet3" => { let c = lmstudio_transport::Client::builder(lmstudio_transport::Endpoint::parse(&url).unwrap()).build().unwrap(); for _ in 0..3 { let _: serde_json::Value = c.get_json("/lmstudio-greeting").await.unwrap(); } }
                "raw_v1" => { raw(&em, "/api/v1/models").await; }
                "raw_greet" => { raw(&em, "/lmstudio-greeting").await; }
                "connect_only" => { let s = tokio::net::TcpStream::connect(em.addr()).await.unwrap(); drop(s); }
                _ => panic!("mode"),
            }
            em.clear_requests();
        }
        println!("{arg}: {:.1} us", t.elapsed().as_secs_f64() * 1e6 / n as f64);
        }
    });
}

async fn raw(em: &Emulator, path: &str) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(em.addr()).await.unwrap();
    s.set_nodelay(true).unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        let n = s.read(&mut chunk).await.unwrap();
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).unwrap().to_ascii_lowercase();
            let cl: usize = head.lines().find_map(|l| l.strip_prefix("content-length:")).map(|v| v.trim().parse().unwrap()).unwrap();
            if buf.len() >= end + 4 + cl { let _: serde_json::Value = serde_json::from_slice(&buf[end+4..end+4+cl]).unwrap(); break; }
        }
    }
}
