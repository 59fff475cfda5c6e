//! Server-sent events: a channel-fed body and a writer that paces chunks and injects faults.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Response, header};
use http_body_util::BodyExt;
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::builder::StreamFault;
use super::reply::Resp;

/// A response body fed from a channel: each message becomes one frame, written as it comes.
struct ChannelBody {
    rx: mpsc::Receiver<Result<Bytes, io::Error>>,
}

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.rx
            .poll_recv(cx)
            .map(|item| item.map(|result| result.map(Frame::data)))
    }
}

/// Writes SSE events into a streaming response, one frame per event.
pub(crate) struct SseWriter {
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    delay: Duration,
    fault: Option<StreamFault>,
    sent: usize,
    stopped: bool,
    /// Which protocol the stream speaks, for the shape of an injected error.
    dialect: Dialect,
}

/// The protocol of a stream.
#[derive(Clone, Debug)]
enum Dialect {
    /// `data:` chunks until `data: [DONE]` (`/v1/chat/completions`, `/v1/completions`).
    Chunks,
    /// The named events of `/api/v1/chat`, with the instance id an injected `chat.end` names.
    Native(String),
    /// The named events of `/v1/responses`.
    Responses,
    /// Anthropic's named events of `/v1/messages`.
    Messages,
}

/// A response that streams `chunks` as `data:` events, then `data: [DONE]` (unless a fault
/// cuts it first).
pub(crate) fn stream_chunks(
    chunks: Vec<serde_json::Value>,
    delay: Duration,
    fault: Option<StreamFault>,
) -> Resp {
    let (response, mut writer) = sse_response(delay, fault);
    tokio::spawn(async move {
        for chunk in &chunks {
            if !writer.data(chunk).await {
                return;
            }
        }
        writer.done().await;
    });
    response
}

/// A `text/event-stream` response and the writer that feeds it.
pub(crate) fn sse_response(delay: Duration, fault: Option<StreamFault>) -> (Resp, SseWriter) {
    let (tx, rx) = mpsc::channel(16);
    let mut response = Response::new(ChannelBody { rx }.boxed());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    let writer = SseWriter {
        tx,
        delay,
        fault,
        sent: 0,
        stopped: false,
        dialect: Dialect::Chunks,
    };
    (response, writer)
}

/// Like [`sse_response`], for the named events of `/api/v1/chat`: an injected error is an
/// `error` event followed by `chat.end`, as LM Studio sends them.
pub(crate) fn native_sse_response(
    delay: Duration,
    fault: Option<StreamFault>,
    model_instance_id: &str,
) -> (Resp, SseWriter) {
    let (response, mut writer) = sse_response(delay, fault);
    writer.dialect = Dialect::Native(model_instance_id.to_owned());
    (response, writer)
}

/// Like [`sse_response`], for the named events of `/v1/responses`: an injected error is an
/// `error` event as OpenAI documents it (`type`, `code`, `message`, `param`,
/// `sequence_number`), and the body ends without a terminal event.
pub(crate) fn responses_sse_response(
    delay: Duration,
    fault: Option<StreamFault>,
) -> (Resp, SseWriter) {
    let (response, mut writer) = sse_response(delay, fault);
    writer.dialect = Dialect::Responses;
    (response, writer)
}

/// Like [`sse_response`], for Anthropic's named events of `/v1/messages`: an injected error
/// is an `error` event in Anthropic's shape (`{"type":"error","error":{"type":"api_error",
/// "message":...}}`), and the body ends without `message_stop`.
pub(crate) fn messages_sse_response(
    delay: Duration,
    fault: Option<StreamFault>,
) -> (Resp, SseWriter) {
    let (response, mut writer) = sse_response(delay, fault);
    writer.dialect = Dialect::Messages;
    (response, writer)
}

impl SseWriter {
    /// Sends `data: <json>\n\n`. Returns false once the stream is over (client gone or an
    /// injected fault fired): the caller stops generating.
    pub(crate) async fn data(&mut self, value: &Value) -> bool {
        self.send_event(None, value).await
    }

    /// Sends `event: <name>\ndata: <json>\n\n` (the named events of `/v1/responses`).
    pub(crate) async fn event(&mut self, name: &str, value: &Value) -> bool {
        self.send_event(Some(name), value).await
    }

    /// Sends `data: [DONE]\n\n` unless the stream is already over.
    pub(crate) async fn done(&mut self) {
        if !self.stopped {
            self.pause().await;
            let _ = self
                .tx
                .send(Ok(Bytes::from_static(b"data: [DONE]\n\n")))
                .await;
            self.stopped = true;
        }
    }

    async fn send_event(&mut self, name: Option<&str>, value: &Value) -> bool {
        if self.stopped {
            return false;
        }
        if let Some(fault) = self.fault
            && self.fire(fault).await
        {
            self.stopped = true;
            return false;
        }
        self.pause().await;
        let text = match name {
            Some(name) => format!("event: {name}\ndata: {value}\n\n"),
            None => format!("data: {value}\n\n"),
        };
        if self.tx.send(Ok(Bytes::from(text))).await.is_err() {
            self.stopped = true;
            return false;
        }
        self.sent += 1;
        true
    }

    /// Applies the fault if its chunk count is reached; returns whether it fired.
    async fn fire(&mut self, fault: StreamFault) -> bool {
        match fault {
            StreamFault::ErrorAfter(n) if self.sent >= n => {
                self.pause().await;
                let object = json!({
                    "message": "The model has crashed without additional information. (injected by the LM Studio emulator)",
                    "type": "internal_error",
                    "param": null,
                    "code": null,
                });
                let text = match &self.dialect {
                    Dialect::Chunks => format!("data: {}\n\n", json!({ "error": object })),
                    Dialect::Native(instance) => {
                        let error = json!({ "type": "error", "error": object });
                        let end = json!({ "type": "chat.end", "result": {
                            "model_instance_id": instance, "output": [],
                        }});
                        format!("event: error\ndata: {error}\n\nevent: chat.end\ndata: {end}\n\n")
                    }
                    Dialect::Responses => {
                        let error = json!({
                            "type": "error",
                            "code": "internal_error",
                            "message": object["message"],
                            "param": null,
                            "sequence_number": self.sent,
                        });
                        format!("event: error\ndata: {error}\n\n")
                    }
                    Dialect::Messages => {
                        let error = json!({ "type": "error", "error": {
                            "type": "api_error",
                            "message": object["message"],
                        }});
                        format!("event: error\ndata: {error}\n\n")
                    }
                };
                let _ = self.tx.send(Ok(Bytes::from(text))).await;
                true
            }
            StreamFault::BareErrorAfter(n) if self.sent >= n => {
                self.pause().await;
                let error = json!({
                    "code": 500,
                    "message": "The model produced output that does not match the expected peg-native format",
                    "type": "server_error",
                });
                let _ = self
                    .tx
                    .send(Ok(Bytes::from(format!("data: {error}\n\n"))))
                    .await;
                true
            }
            StreamFault::DropAfter(n) if self.sent >= n => true,
            StreamFault::AbortAfter(n) if self.sent >= n => {
                // Let the chunks already sent reach the wire before the connection dies:
                // wait (bounded) until the connection took them, then a little more.
                self.pause().await;
                for _ in 0..200 {
                    if self.tx.capacity() == self.tx.max_capacity() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                let error = io::Error::new(io::ErrorKind::ConnectionAborted, "injected abort");
                let _ = self.tx.send(Err(error)).await;
                true
            }
            _ => false,
        }
    }

    async fn pause(&self) {
        if self.sent > 0 && !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
    }
}
