//! The shared, pooled HTTP/1.1 client and its builder.

use std::fmt;
use std::sync::Arc;

use http::{HeaderValue, Method};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::limits::Limits;
use crate::pool::Pool;
use crate::request::RequestBuilder;

/// A pooled HTTP/1.1 client bound to one [`Endpoint`]. Cloning is cheap (an `Arc`), and
/// clones share the connection pool. Clients built with one [`Pool`] share connections too,
/// each sending its own token under its own limits.
///
/// `Debug` never shows the bearer token.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) pool: Pool,
    pub(crate) endpoint: Endpoint,
    pub(crate) limits: Limits,
    /// `Bearer <token>`, marked sensitive.
    pub(crate) authorization: Option<HeaderValue>,
}

/// Configures a [`Client`]: token, limits and the connection pool.
#[must_use]
pub struct ClientBuilder {
    endpoint: Endpoint,
    token: Option<String>,
    limits: Limits,
    pool: Option<Pool>,
}

impl Client {
    /// Starts configuring a client for `endpoint`.
    pub fn builder(endpoint: Endpoint) -> ClientBuilder {
        ClientBuilder {
            endpoint,
            token: None,
            limits: Limits::default(),
            pool: None,
        }
    }

    /// The server this client talks to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// The client's default limits.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The connection pool this client uses.
    pub fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// True when requests carry an `Authorization: Bearer` header.
    pub fn has_token(&self) -> bool {
        self.inner.authorization.is_some()
    }

    /// A request with any method to `path` (relative to the endpoint root).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, path)
    }

    /// A GET request to `path` (relative to the endpoint root, e.g. `/v1/models`).
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    /// A POST request to `path` (relative to the endpoint root).
    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    /// GET `path` and decode the JSON body (status and `error` envelope checked).
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        self.get(path).send_json().await
    }

    /// POST `body` as JSON to `path` and decode the JSON answer (status and `error` envelope
    /// checked). Never re-sent.
    pub async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, Error> {
        self.post(path).json(body).send_json().await
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.endpoint.root())
            .field("limits", &self.inner.limits)
            .field("token", &redacted(self.has_token()))
            .finish()
    }
}

impl ClientBuilder {
    /// Sets the bearer token sent as `Authorization: Bearer <token>`. `None` or a blank
    /// token sends no header.
    pub fn bearer_token(mut self, token: Option<String>) -> Self {
        self.token = token.filter(|t| !t.trim().is_empty());
        self
    }

    /// Sets the default limits for every request of this client.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Uses `pool` for connections, shared with every other client built with it (default: a
    /// new pool of this client's own).
    pub fn pool(mut self, pool: Pool) -> Self {
        self.pool = Some(pool);
        self
    }

    /// Builds the client. Fails only when the token cannot be sent in an HTTP header.
    pub fn build(self) -> Result<Client, Error> {
        let authorization =
            match &self.token {
                None => None,
                Some(token) => {
                    let mut value = HeaderValue::try_from(format!("Bearer {}", token.trim()))
                        .map_err(|_| Error::Request {
                            message: "the bearer token contains characters that are not allowed \
                                  in an HTTP header"
                                .to_owned(),
                        })?;
                    value.set_sensitive(true);
                    Some(value)
                }
            };
        Ok(Client {
            inner: Arc::new(Inner {
                pool: self.pool.unwrap_or_default(),
                endpoint: self.endpoint,
                limits: self.limits,
                authorization,
            }),
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("endpoint", &self.endpoint.root())
            .field("limits", &self.limits)
            .field("token", &redacted(self.token.is_some()))
            .finish()
    }
}

/// What `Debug` shows for a token.
pub(crate) fn redacted(present: bool) -> Option<&'static str> {
    present.then_some("<redacted>")
}
