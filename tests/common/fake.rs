//! A fake outside service on loopback (the payment provider, the push gateway): it records every
//! POST and answers from a script, per `token` in the body (for the gateway) or in order.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

/// One request the fake received, and what it answered.
#[derive(Clone, Debug)]
pub struct Seen {
    pub headers: HeaderMap,
    pub body: Value,
    pub status: u16,
}

#[derive(Default)]
struct Inner {
    seen: Vec<Seen>,
    /// Statuses to answer, per `token` of the body ("" for bodies without one); 200 when empty.
    script: HashMap<String, VecDeque<u16>>,
    delay: Duration,
}

#[derive(Clone, Default)]
pub struct Fake {
    inner: Arc<Mutex<Inner>>,
}

async fn answer(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> impl IntoResponse {
    let key = body["token"].as_str().unwrap_or_default().to_string();
    let (status, delay, n) = {
        let mut inner = fake.inner.lock().unwrap();
        let status = inner
            .script
            .get_mut(&key)
            .and_then(|s| s.pop_front())
            .unwrap_or(200);
        (status, inner.delay, inner.seen.len())
    };
    tokio::time::sleep(delay).await;
    fake.inner.lock().unwrap().seen.push(Seen {
        headers,
        body,
        status,
    });
    let order = format!("ord-{n}");
    (
        StatusCode::from_u16(status).unwrap(),
        Json(
            json!({ "id": order, "checkoutUrl": format!("https://pay.example/checkout/{order}") }),
        ),
    )
}

impl Fake {
    /// Serves on a free loopback port; returns the fake and its URL.
    pub async fn start() -> (Self, String) {
        let fake = Fake::default();
        let app = Router::new()
            .route("/{*path}", post(answer))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (fake, url)
    }

    /// Answers the next requests for `token` with these statuses, in order.
    pub fn script(&self, token: &str, statuses: &[u16]) {
        self.inner
            .lock()
            .unwrap()
            .script
            .insert(token.into(), statuses.iter().copied().collect());
    }

    /// Waits this long before answering.
    pub fn delay(&self, delay: Duration) {
        self.inner.lock().unwrap().delay = delay;
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.inner.lock().unwrap().seen.clone()
    }

    /// Waits until `n` requests were seen (panics after 10 s), then returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Seen> {
        let started = std::time::Instant::now();
        loop {
            let seen = self.seen();
            if seen.len() >= n {
                return seen;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "expected {n} requests, saw {}: {seen:?}",
                seen.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}
