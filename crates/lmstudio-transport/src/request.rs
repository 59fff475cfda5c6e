//! One request: building it, sending it under the limits, and reading the answer.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderName, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument;

use crate::body::read_limited;
use crate::client::Client;
use crate::connect::with_connect_limit;
use crate::error::{
    Error, chain_message, error_from_response, from_client_error, is_stale_connection,
};
use crate::event_stream::{EventDecoder, EventStream, JsonStream, JsonUntilDone};
use crate::limits::Limits;
use crate::stream::SseStream;
use crate::text::excerpt;

const APPLICATION_JSON: &str = "application/json";
const TEXT_EVENT_STREAM: &str = "text/event-stream";
const AGENT: &str = concat!("lmstudio-transport/", env!("CARGO_PKG_VERSION"));

/// A response read whole: status, headers and the (bounded) body, unchecked.
#[derive(Clone, Debug)]
pub struct RawResponse {
    /// The HTTP status code.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body, at most `max_body_bytes` long.
    pub body: Bytes,
}

/// A request being configured. Limits default to the client's; each override is optional.
pub struct RequestBuilder {
    client: Client,
    method: Method,
    path: String,
    url: String,
    headers: HeaderMap,
    body: Bytes,
    error: Option<String>,
    deadline: Option<Duration>,
    response_headers: Option<Duration>,
    idle: Option<Duration>,
    connect: Option<Duration>,
}

impl RequestBuilder {
    pub(crate) fn new(client: Client, method: Method, path: &str) -> Self {
        let url = client.endpoint().url(path);
        Self {
            client,
            method,
            path: path.to_owned(),
            url,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            error: None,
            deadline: None,
            response_headers: None,
            idle: None,
            connect: None,
        }
    }

    /// Sends `body` serialized as JSON, with `Content-Type: application/json`.
    pub fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => {
                self.body = Bytes::from(bytes);
                self.headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static(APPLICATION_JSON));
            }
            Err(e) => self.error = Some(format!("could not serialize the JSON body: {e}")),
        }
        self
    }

    /// Sends `body` as is, with the given content type.
    pub fn body(mut self, content_type: HeaderValue, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self.headers.insert(CONTENT_TYPE, content_type);
        self
    }

    /// Adds a header (replacing one of the same name). `Authorization` is set by the client.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Overrides the total deadline of a non-streaming call.
    pub fn deadline(mut self, limit: Duration) -> Self {
        self.deadline = Some(limit);
        self
    }

    /// Overrides the time allowed until the response headers.
    pub fn response_headers_timeout(mut self, limit: Duration) -> Self {
        self.response_headers = Some(limit);
        self
    }

    /// Overrides the connect limit (used when this request needs a new connection).
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.connect = Some(limit);
        self
    }

    /// Overrides the idle limit between stream frames.
    pub fn idle_timeout(mut self, limit: Duration) -> Self {
        self.idle = Some(limit);
        self
    }

    /// Sends the request and decodes the JSON answer into `T`, within the deadline.
    ///
    /// 401/403 give [`Error::Auth`]; an `error` envelope in the body (whatever the status) or
    /// a non-2xx status give [`Error::Server`] with the server's message; a body that is not
    /// a `T` gives [`Error::InvalidJson`]. An empty 2xx body decodes as JSON `null`.
    pub async fn send_json<T: DeserializeOwned>(self) -> Result<T, Error> {
        let prepared = self.prepare(APPLICATION_JSON)?;
        let span = prepared.span();
        async move {
            let (status, _, body) = prepared.fetch().await?;
            prepared.decode(status, &body)
        }
        .instrument(span)
        .await
    }

    /// Sends the request and reads the whole body (bounded, within the deadline). Neither the
    /// status nor the body is checked.
    pub async fn send_raw(self) -> Result<RawResponse, Error> {
        let prepared = self.prepare(APPLICATION_JSON)?;
        let span = prepared.span();
        async move {
            let (status, headers, body) = prepared.fetch().await?;
            Ok(RawResponse {
                status,
                headers,
                body,
            })
        }
        .instrument(span)
        .await
    }

    /// Sends the request and returns its server-sent events as they arrive.
    ///
    /// The response headers must come within the response-headers limit; after that only the
    /// idle limit applies. An error status, or a JSON answer instead of an event stream, is
    /// read (bounded) and reported like [`send_json`](Self::send_json) would.
    pub async fn send_events(self) -> Result<SseStream, Error> {
        let prepared = self.prepare(TEXT_EVENT_STREAM)?;
        let span = prepared.span();
        async move { prepared.open_stream().await }
            .instrument(span)
            .await
    }

    /// Like [`send_events`](Self::send_events), decoding each event's `data` as JSON `T`
    /// until `data: [DONE]` (OpenAI's protocol, [`JsonUntilDone`]).
    pub async fn send_json_stream<T: DeserializeOwned>(self) -> Result<JsonStream<T>, Error> {
        self.send_event_stream(JsonUntilDone::new()).await
    }

    /// Like [`send_events`](Self::send_events), decoding each event with `decoder`, which
    /// also decides which event ends the stream.
    pub async fn send_event_stream<D: EventDecoder>(
        self,
        decoder: D,
    ) -> Result<EventStream<D>, Error> {
        self.send_events()
            .await
            .map(|events| EventStream::new(events, decoder))
    }

    fn prepare(self, accept: &'static str) -> Result<Prepared, Error> {
        if let Some(message) = self.error {
            return Err(Error::Request { message });
        }
        let uri = Uri::try_from(self.url.as_str()).map_err(|e| Error::Request {
            message: format!("invalid request URL {}: {e}", self.url),
        })?;
        let inner = &self.client.inner;
        let mut headers = self.headers;
        headers
            .entry(ACCEPT)
            .or_insert(HeaderValue::from_static(accept));
        headers
            .entry(USER_AGENT)
            .or_insert(HeaderValue::from_static(AGENT));
        if let Some(value) = &inner.authorization {
            headers.insert(AUTHORIZATION, value.clone());
        }
        let defaults = inner.limits;
        let limits = Limits {
            deadline: self.deadline.unwrap_or(defaults.deadline),
            response_headers: self.response_headers.unwrap_or(defaults.response_headers),
            idle: self.idle.unwrap_or(defaults.idle),
            connect: self.connect.unwrap_or(defaults.connect),
            ..defaults
        };
        Ok(Prepared {
            client: self.client,
            method: self.method,
            path: self.path,
            url: self.url,
            uri,
            headers,
            body: self.body,
            limits,
        })
    }
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("body_bytes", &self.body.len())
            .field("deadline", &self.deadline)
            .field("response_headers", &self.response_headers)
            .field("idle", &self.idle)
            .field("connect", &self.connect)
            .finish_non_exhaustive()
    }
}

/// A validated request, ready to send (and to re-send once, for a GET on a stale connection).
struct Prepared {
    client: Client,
    method: Method,
    path: String,
    url: String,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    limits: Limits,
}

impl Prepared {
    fn span(&self) -> tracing::Span {
        tracing::debug_span!("http_request", method = %self.method, path = %self.path)
    }

    fn build(&self) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }

    /// Sends the request and waits for the response headers (retrying a GET once when a
    /// pooled connection turns out to be stale).
    async fn send_head(&self) -> Result<Response<Incoming>, Error> {
        let started = Instant::now();
        let http = self.client.inner.pool.http()?;
        let mut retried = false;
        loop {
            let pending = with_connect_limit(self.limits.connect, http.request(self.build()));
            let outcome = tokio::time::timeout(self.limits.response_headers, pending).await;
            let error = match outcome {
                Ok(Ok(response)) => {
                    tracing::debug!(
                        status = response.status().as_u16(),
                        elapsed_ms = elapsed_ms(started),
                        "response headers"
                    );
                    return Ok(response);
                }
                Ok(Err(e)) if !retried && self.method == Method::GET && is_stale_connection(&e) => {
                    tracing::debug!(error = %chain_message(&e), "stale connection; retrying the GET once");
                    retried = true;
                    continue;
                }
                Ok(Err(e)) => from_client_error(e, &self.url, self.limits.connect),
                Err(_) => Error::ResponseHeadersTimeout {
                    method: self.method.to_string(),
                    url: self.url.clone(),
                    limit: self.limits.response_headers,
                },
            };
            tracing::debug!(error = %error, elapsed_ms = elapsed_ms(started), "request failed");
            return Err(error);
        }
    }

    /// Headers and the whole body, within the deadline.
    async fn fetch(&self) -> Result<(StatusCode, HeaderMap, Bytes), Error> {
        let started = Instant::now();
        let work = async {
            let response = self.send_head().await?;
            let (parts, mut body) = response.into_parts();
            let bytes = read_limited(
                &mut body,
                &parts.headers,
                self.limits.max_body_bytes,
                &self.url,
            )
            .await?;
            Ok((parts.status, parts.headers, bytes))
        };
        let result = match tokio::time::timeout(self.limits.deadline, work).await {
            Ok(result) => result,
            Err(_) => Err(Error::DeadlineExceeded {
                method: self.method.to_string(),
                url: self.url.clone(),
                limit: self.limits.deadline,
            }),
        };
        match &result {
            Ok((status, _, body)) => tracing::debug!(
                status = status.as_u16(),
                body_bytes = body.len(),
                elapsed_ms = elapsed_ms(started),
                "response complete"
            ),
            Err(error) => {
                tracing::debug!(error = %error, elapsed_ms = elapsed_ms(started), "call failed")
            }
        }
        result
    }

    /// Checks status and envelope, then decodes `T`.
    fn decode<T: DeserializeOwned>(&self, status: StatusCode, body: &[u8]) -> Result<T, Error> {
        if let Some(error) = error_from_response(status, &self.url, body) {
            return Err(error);
        }
        let json: &[u8] = if body.trim_ascii().is_empty() {
            b"null"
        } else {
            body
        };
        serde_json::from_slice(json).map_err(|e| Error::InvalidJson {
            url: self.url.clone(),
            status,
            message: e.to_string(),
            excerpt: excerpt(body),
            source: Some(Box::new(e)),
        })
    }

    async fn open_stream(self) -> Result<SseStream, Error> {
        let response = self.send_head().await?;
        let (parts, mut body) = response.into_parts();
        let status = parts.status;
        let content_type = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut prefix = Bytes::new();
        if parts.status.is_success() && !content_type.contains("json") {
            let labelled = content_type.contains("event-stream");
            if !labelled {
                // Unlabelled or mislabelled (a proxy, a non-conforming server): look at the
                // first bytes before deciding. An event stream never starts with `{`, `[` or
                // `<`; a JSON error or an HTML page does.
                let first = first_bytes(&mut body, &self.url, self.limits.max_sse_event_bytes);
                prefix = match tokio::time::timeout(self.limits.idle, first).await {
                    Ok(bytes) => bytes?,
                    Err(_) => {
                        return Err(Error::IdleTimeout {
                            url: self.url,
                            limit: self.limits.idle,
                        });
                    }
                };
            }
            if labelled || !looks_like_document(&prefix) {
                let mut stream = SseStream::new(
                    body,
                    parts.headers,
                    status,
                    self.url,
                    self.limits.idle,
                    self.limits.max_sse_event_bytes,
                );
                stream.push_prefix(&prefix);
                return Ok(stream);
            }
        }
        // An error answer (or a document where events were expected): read it and report it.
        let limit = self.limits.max_body_bytes.saturating_sub(prefix.len());
        let read = read_limited(&mut body, &parts.headers, limit, &self.url);
        let rest = match tokio::time::timeout(self.limits.deadline, read).await {
            Ok(bytes) => bytes?,
            Err(_) => {
                return Err(Error::DeadlineExceeded {
                    method: self.method.to_string(),
                    url: self.url,
                    limit: self.limits.deadline,
                });
            }
        };
        let bytes = if prefix.is_empty() {
            rest
        } else {
            Bytes::from([prefix.as_ref(), rest.as_ref()].concat())
        };
        Err(
            error_from_response(status, &self.url, &bytes).unwrap_or_else(|| Error::Transport {
                source: None,
                message: format!(
                    "expected an event stream but the server sent `{content_type}`: {}",
                    excerpt(&bytes)
                ),
                url: self.url,
            }),
        )
    }
}

/// Reads body frames until one byte that is neither whitespace nor part of a BOM has arrived,
/// the body ends, or `limit` bytes are held.
async fn first_bytes(body: &mut Incoming, url: &str, limit: usize) -> Result<Bytes, Error> {
    let mut held: Vec<u8> = Vec::new();
    while held.len() < limit && significant(&held).is_none() {
        let Some(frame) = body.frame().await else {
            break;
        };
        let frame = frame.map_err(|e| Error::broken(url, e))?;
        if let Ok(data) = frame.into_data() {
            if held.is_empty() && significant(&data).is_some() {
                return Ok(data);
            }
            held.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(held))
}

/// The first byte after a UTF-8 BOM and ASCII whitespace.
fn significant(bytes: &[u8]) -> Option<u8> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes.iter().copied().find(|b| !b.is_ascii_whitespace())
}

/// True when the body starts like a JSON or HTML/XML document rather than an event stream.
fn looks_like_document(bytes: &[u8]) -> bool {
    matches!(significant(bytes), Some(b'{' | b'[' | b'<'))
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}
