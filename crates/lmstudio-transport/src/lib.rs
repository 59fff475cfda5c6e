//! A bounded HTTP/1.1 client on hyper for OpenAI-compatible servers: JSON calls and SSE.
