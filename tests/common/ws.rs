//! A WebSocket client for subscriptions, in either protocol, as a frontend speaks them.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::TestApp;

/// The new protocol (graphql-transport-ws) and the older one (subscriptions-transport-ws).
pub const NEW: &str = "graphql-transport-ws";
pub const OLD: &str = "graphql-ws";

pub struct Socket {
    inner: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
    pub protocol: &'static str,
}

impl TestApp {
    /// Opens `/graphql/ws` in the given protocol (nothing sent yet).
    pub async fn socket(&self, protocol: &'static str) -> Socket {
        self.socket_at(&self.base, protocol).await
    }

    /// The same on another server (a second instance).
    pub async fn socket_at(&self, base: &str, protocol: &'static str) -> Socket {
        let url = format!("{}/graphql/ws", base.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
        let (inner, response) = tokio_tungstenite::connect_async(request).await.unwrap();
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            protocol,
            "the server speaks the protocol asked for"
        );
        Socket { inner, protocol }
    }

    /// A socket that sent `connection_init` with this access token and got its acknowledgement.
    pub async fn live(&self, protocol: &'static str, token: &str) -> Socket {
        let mut socket = self.socket(protocol).await;
        let reply = socket
            .init(json!({ "Authorization": format!("Bearer {token}") }))
            .await;
        assert_eq!(reply["type"], "connection_ack", "{reply}");
        socket
    }
}

impl Socket {
    pub async fn send(&mut self, message: Value) {
        self.inner
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    /// Sends `connection_init`; returns the server's answer (`connection_ack`, or for the old
    /// protocol `connection_error`; a close frame comes back as `{"close": code}`).
    pub async fn init(&mut self, payload: Value) -> Value {
        self.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        self.next().await
    }

    /// Starts a subscription under `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let kind = if self.protocol == NEW {
            "subscribe"
        } else {
            "start"
        };
        self.send(json!({ "id": id, "type": kind, "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// The next protocol message, keep-alives skipped; a close frame as `{"close": code}`.
    /// Fails after 10 s of silence.
    pub async fn next(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), self.inner.next())
                .await
                .expect("a message within 10 s");
            match message {
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text).unwrap();
                    if value["type"] == "ka" || value["type"] == "ping" {
                        continue;
                    }
                    return value;
                }
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame
                        .map(|f| (u16::from(f.code), f.reason.to_string()))
                        .unwrap_or((u16::from(CloseCode::Status), String::new()));
                    return json!({ "close": code, "reason": reason });
                }
                Some(Ok(_)) => continue,
                Some(Err(err)) => return json!({ "close": 1006, "reason": err.to_string() }),
                None => return json!({ "close": 1006, "reason": "stream ended" }),
            }
        }
    }

    /// The payload of the next data message of subscription `id` (`next`/`data`).
    pub async fn data(&mut self, id: &str) -> Value {
        let message = self.next().await;
        assert_eq!(message["id"], id, "{message}");
        assert!(
            message["type"] == "next" || message["type"] == "data",
            "{message}"
        );
        message["payload"].clone()
    }

    /// Closes the socket from the client's side.
    pub async fn close(mut self) {
        let _ = self.inner.close(None).await;
        // Read until the server's answer, so the close is complete on both sides.
        while let Ok(Some(Ok(_))) =
            tokio::time::timeout(Duration::from_secs(2), self.inner.next()).await
        {}
    }

    /// Waits for the close frame; returns its code.
    pub async fn closed(&mut self) -> u16 {
        loop {
            let message = self.next().await;
            if let Some(code) = message["close"].as_u64() {
                return u16::try_from(code).unwrap();
            }
        }
    }

    /// The next message is a keep-alive (`{"type":"ka"}` in the older protocol, a WebSocket ping
    /// in the newer one), within `wait`.
    pub async fn keep_alive(&mut self, wait: Duration) -> bool {
        match tokio::time::timeout(wait, self.inner.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                self.protocol == OLD && value["type"] == "ka"
            }
            Ok(Some(Ok(Message::Ping(_)))) => self.protocol == NEW,
            _ => false,
        }
    }

    /// No message (keep-alives aside) arrives within `wait`.
    pub async fn quiet_for(&mut self, wait: Duration) -> bool {
        loop {
            match tokio::time::timeout(wait, self.inner.next()).await {
                Err(_) => return true,
                Ok(Some(Ok(Message::Text(text)))) => {
                    let value: Value = serde_json::from_str(&text).unwrap();
                    if value["type"] == "ka" || value["type"] == "ping" {
                        continue;
                    }
                    return false;
                }
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                Ok(_) => return false,
            }
        }
    }
}
