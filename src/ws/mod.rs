//! `/graphql/ws`: GraphQL subscriptions over WebSocket, in the `graphql-transport-ws` protocol
//! and the older `graphql-ws` (subscriptions-transport-ws) one.
//!
//! The access token comes in `connection_init` (`{"Authorization": "Bearer …"}` or
//! `{"token": "…"}`). A missing token closes the socket with 4401, a refused one with 4403. An
//! accepted socket lives as long as its session: every `WS_SESSION_CHECK_SECONDS` it reads its
//! session again if any session ended or any role changed since its last read (here, or on an
//! instance that announced it through Redis), and at least once a minute regardless; logout,
//! revocation, suspension, password reset and role changes close it with 4403. It closes when its
//! token expires. Keep-alives go out every `WS_KEEPALIVE_SECONDS`.

use std::sync::{Arc, Mutex};

use async_graphql::futures_util::stream::BoxStream;
use async_graphql::http::{ClientMessage, WebSocketProtocols, WsMessage};
use async_graphql::Data;
use futures_util::{SinkExt, StreamExt};
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use crate::accounts::service as accounts;
use crate::app::AppState;
use crate::auth::viewer::{bearer_token, ClientInfo, Identity};
use crate::auth::{sessions, Viewer};
use crate::error::AppError;
use crate::graphql::fanout::{Address, Fanout, Outgoing};
use crate::graphql::guarded::Guarded;

pub mod socket;
use socket::{Out, Socket};

/// A socket reads its session again at least this often, even when nothing was announced.
const FULL_RECHECK: std::time::Duration = std::time::Duration::from_secs(60);

/// Close codes of graphql-transport-ws.
const UNAUTHORIZED: u16 = 4401;
const FORBIDDEN: u16 = 4403;

/// What `connection_init` decided, for the loop that drives the socket.
#[derive(Default)]
enum Init {
    #[default]
    Pending,
    Refused(u16),
    Accepted {
        identity: Identity,
        /// What the socket's operations run with: its viewer, loaders and client.
        session: Arc<Data>,
        /// When the token expires, as a monotonic instant.
        expires: Instant,
        /// Counts the user online while the socket lives.
        _presence: crate::presence::Connection,
    },
}

/// Serves one upgraded socket until either side closes it.
pub async fn serve(
    app: AppState,
    schema: Guarded,
    fanout: Arc<Fanout>,
    protocol: WebSocketProtocols,
    client: ClientInfo,
    mut socket: Socket,
    out: Arc<Out>,
) {
    // async-graphql speaks the protocol's handshake, pings and ends; the operations (`subscribe`
    // and `complete`, `start` and `stop`) of an accepted socket are run here (`Operations`).
    let inbox = Arc::new(Mutex::new(Inbox::default()));
    let input = Inbox::stream(inbox.clone());
    let mut reading = true;
    let init = Arc::new(Mutex::new(Init::Pending));
    let outcome = init.clone();
    let init_app = app.clone();
    let graphql = async_graphql::http::WebSocket::new(schema.clone(), input, protocol)
        .on_connection_init(move |payload| async move {
            let (data, decided) = authenticate(&init_app, client, &payload).await;
            let refused = match &decided {
                Init::Refused(_) => Some(data_refusal(&decided)),
                _ => None,
            };
            *outcome.lock().unwrap_or_else(|p| p.into_inner()) = decided;
            match refused {
                Some(message) => Err(async_graphql::Error::new(message)),
                None => Ok(data),
            }
        });
    futures_util::pin_mut!(graphql);
    let mut operations = Operations::default();

    let config = &app.config;
    let start = Instant::now();
    let far = start + std::time::Duration::from_secs(365 * 24 * 3600);
    // The socket's deadlines (keep-alive, session check, token expiry) share one timer, set
    // again only when the earliest of them changes.
    let mut keepalive_at = start + config.ws_keepalive;
    let mut check_at = start + config.ws_session_check;
    let mut armed = far;
    let timer = sleep_until(far);
    tokio::pin!(timer);
    // What the last read of the session saw: reading again is needed only when sessions changed
    // since (thousands of idle sockets would otherwise read thousands of sessions a second).
    let mut checked_epoch = sessions::epoch();
    let mut checked_at = Instant::now();

    loop {
        let expiring = match &*init.lock().unwrap_or_else(|p| p.into_inner()) {
            Init::Accepted { expires, .. } => *expires,
            _ => far,
        };
        let next = keepalive_at.min(check_at).min(expiring);
        if next != armed {
            armed = next;
            timer.as_mut().reset(next);
        }
        // Results of its operations first (a group's frames do not pass through here: they are
        // written to the socket by the group's task, see `socket`).
        let outgoing = tokio::select! {
            biased;

            (at, outgoing) = operations.next(), if !operations.is_empty() => {
                let id = operations.framed(at);
                match outgoing {
                    Some(Outgoing::Response(result)) => {
                        let payload =
                            serde_json::to_string(&result).unwrap_or_else(|_| "null".into());
                        Message::Text(frame(id, next_type(protocol), Some(&payload)).into())
                    }
                    Some(Outgoing::Refused(result)) => {
                        let text = refusal(protocol, id, result);
                        operations.remove(at);
                        Message::Text(text.into())
                    }
                    Some(Outgoing::End) | None => {
                        let text = frame(id, "complete", None);
                        operations.remove(at);
                        Message::Text(text.into())
                    }
                }
            },
            // Frames a group queued because the socket did not take them at once.
            written = std::future::poll_fn(|cx| out.poll_backlog(cx)) => match written {
                Ok(()) => continue,
                Err(_) => return,
            },
            message = socket.next(), if reading => {
                let bytes = match message {
                    Some(Ok(Message::Text(text))) => axum::body::Bytes::from(text),
                    Some(Ok(Message::Binary(bytes))) => bytes,
                    Some(Ok(_)) => continue,
                    // The client is gone: async-graphql's input ends, and it ends the socket.
                    _ => {
                        reading = false;
                        Inbox::push(&inbox, None);
                        continue;
                    }
                };
                match operation_message(&init, &bytes) {
                    Some(ClientMessage::Start { id, payload }) => {
                        if let Some(session) = accepted(&init) {
                            let address = Address {
                                out: out.clone(),
                                id: json_string(&id),
                                next: next_type(protocol),
                            };
                            let framed = address.id.clone();
                            let results = fanout.operation(&schema, payload, session, address);
                            operations.start(id, framed, results);
                        }
                        continue;
                    }
                    Some(ClientMessage::Stop { id }) => match operations.stop(&id) {
                        true => Message::Text(frame(&json_string(&id), "complete", None).into()),
                        false => continue,
                    },
                    _ => {
                        Inbox::push(&inbox, Some(bytes));
                        continue;
                    }
                }
            }
            message = graphql.next() => match message {
                Some(WsMessage::Text(text)) => Message::Text(text.into()),
                Some(WsMessage::Close(code, reason)) => {
                    close(&mut socket, &out, close_code(&init, code), reason).await;
                    return;
                }
                None => {
                    // The legacy protocol reports a refused init as a message, then ends.
                    let code = match &*init.lock().unwrap_or_else(|p| p.into_inner()) {
                        Init::Refused(code) => *code,
                        _ => 1000,
                    };
                    close(&mut socket, &out, code, String::new()).await;
                    return;
                }
            },
            _ = &mut timer => {
                let now = Instant::now();
                if now >= expiring {
                    close(&mut socket, &out, FORBIDDEN, "The access token expired.".into()).await;
                    return;
                }
                if now >= check_at {
                    check_at = now + config.ws_session_check;
                    let epoch = sessions::epoch();
                    if epoch == checked_epoch && checked_at.elapsed() < FULL_RECHECK {
                        continue;
                    }
                    checked_epoch = epoch;
                    checked_at = Instant::now();
                    if session_ended(&app, &init).await {
                        close(&mut socket, &out, FORBIDDEN, "The session ended.".into()).await;
                        return;
                    }
                    continue;
                }
                if now < keepalive_at {
                    continue;
                }
                keepalive_at = now + config.ws_keepalive;
                match protocol {
                    WebSocketProtocols::SubscriptionsTransportWS => {
                        Message::Text(r#"{"type":"ka"}"#.into())
                    }
                    WebSocketProtocols::GraphQLWS => Message::Ping(Default::default()),
                }
            }
        };
        if socket.send(outgoing).await.is_err() {
            return;
        }
    }
}

/// What the client sent for async-graphql to read (the handshake, pings): a queue that wakes its
/// reader. (A channel would cost each of thousands of idle sockets a block of slots.)
#[derive(Default)]
struct Inbox {
    queue: std::collections::VecDeque<axum::body::Bytes>,
    reader: Option<std::task::Waker>,
    ended: bool,
}

impl Inbox {
    /// Queues a message; `None` ends the input.
    fn push(inbox: &Mutex<Inbox>, message: Option<axum::body::Bytes>) {
        let mut inbox = inbox.lock().unwrap_or_else(|p| p.into_inner());
        match message {
            Some(message) => inbox.queue.push_back(message),
            None => inbox.ended = true,
        }
        if let Some(reader) = inbox.reader.take() {
            reader.wake();
        }
    }

    fn stream(
        inbox: Arc<Mutex<Inbox>>,
    ) -> impl futures_util::Stream<Item = axum::body::Bytes> + Send + Unpin {
        futures_util::stream::poll_fn(move |cx| {
            let mut inbox = inbox.lock().unwrap_or_else(|p| p.into_inner());
            match inbox.queue.pop_front() {
                Some(message) => std::task::Poll::Ready(Some(message)),
                None if inbox.ended => std::task::Poll::Ready(None),
                None => {
                    inbox.reader = Some(cx.waker().clone());
                    std::task::Poll::Pending
                }
            }
        })
    }
}

/// A message that starts or stops an operation, on a socket whose `connection_init` was accepted
/// (before that, async-graphql answers them: it closes the socket).
fn operation_message(init: &Mutex<Init>, bytes: &[u8]) -> Option<ClientMessage> {
    accepted(init)?;
    match ClientMessage::from_bytes(bytes) {
        Ok(message @ (ClientMessage::Start { .. } | ClientMessage::Stop { .. })) => Some(message),
        _ => None,
    }
}

/// The session data of an accepted socket.
fn accepted(init: &Mutex<Init>) -> Option<Arc<Data>> {
    match &*init.lock().unwrap_or_else(|p| p.into_inner()) {
        Init::Accepted { session, .. } => Some(session.clone()),
        _ => None,
    }
}

/// The operations a socket runs, by the id the client gave them (as a JSON string, ready to frame).
#[derive(Default)]
struct Operations(Vec<(String, String, BoxStream<'static, Outgoing>)>);

impl Operations {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A second operation under a running one's id replaces it (as async-graphql does); `framed`
    /// is the id as a JSON string.
    fn start(&mut self, id: String, framed: String, results: BoxStream<'static, Outgoing>) {
        self.stop(&id);
        self.0.push((id, framed, results));
    }

    /// Ends an operation the client stopped; false when there was none under `id`.
    fn stop(&mut self, id: &str) -> bool {
        let found = self.0.iter().position(|(own, ..)| own == id);
        if let Some(at) = found {
            self.remove(at);
        }
        found.is_some()
    }

    /// The framed id of the operation at `at` (as `next` gave it).
    fn framed(&self, at: usize) -> &str {
        self.0.get(at).map_or("null", |(_, framed, _)| framed)
    }

    /// Ends the operation at `at` (as `next` gave it).
    fn remove(&mut self, at: usize) {
        if at < self.0.len() {
            drop(self.0.swap_remove(at));
        }
    }

    /// The next result of any operation, with where the operation is.
    fn next(&mut self) -> impl std::future::Future<Output = (usize, Option<Outgoing>)> + '_ {
        std::future::poll_fn(move |cx| {
            for (at, (_, _, results)) in self.0.iter_mut().enumerate() {
                if let std::task::Poll::Ready(out) = results.poll_next_unpin(cx) {
                    return std::task::Poll::Ready((at, out));
                }
            }
            std::task::Poll::Pending
        })
    }
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// `next` in graphql-transport-ws, `data` in the older protocol.
fn next_type(protocol: WebSocketProtocols) -> &'static str {
    match protocol {
        WebSocketProtocols::GraphQLWS => "next",
        WebSocketProtocols::SubscriptionsTransportWS => "data",
    }
}

/// `{"type":…,"id":…,"payload":…}`, the payload already JSON; `id` is framed (a JSON string).
fn frame(id: &str, kind: &str, payload: Option<&str>) -> String {
    envelope(kind, id, payload).concat()
}

/// The pieces of a message's text, in order (see `frame`): a group writes them into a
/// WebSocket frame of its own without joining them first.
pub(crate) fn envelope<'a>(kind: &'a str, id: &'a str, payload: Option<&'a str>) -> [&'a str; 7] {
    let (label, payload) = match payload {
        Some(payload) => (r#","payload":"#, payload),
        None => ("", ""),
    };
    [r#"{"type":""#, kind, r#"","id":"#, id, label, payload, "}"]
}

/// The protocol's `error` for an operation that never ran: its errors (graphql-transport-ws), or
/// the first of them (subscriptions-transport-ws). No `complete` follows.
fn refusal(protocol: WebSocketProtocols, id: &str, result: async_graphql::Response) -> String {
    let errors = serde_json::to_value(&result.errors).unwrap_or_default();
    let payload = match protocol {
        WebSocketProtocols::GraphQLWS => errors,
        WebSocketProtocols::SubscriptionsTransportWS => errors[0].clone(),
    };
    frame(id, "error", Some(&payload.to_string()))
}

/// Reads the token of `connection_init` and checks it like an HTTP request's. The data returned
/// is async-graphql's (it runs no operation: `Operations` do, with the session in `Init`).
async fn authenticate(
    app: &AppState,
    client: ClientInfo,
    payload: &serde_json::Value,
) -> (Data, Init) {
    let Some(token) = token_in(payload) else {
        return (Data::default(), Init::Refused(UNAUTHORIZED));
    };
    let Ok(claims) = app.jwt.verify(token) else {
        return (Data::default(), Init::Refused(FORBIDDEN));
    };
    let viewer = Viewer::from_claims(app, &claims).await;
    let Viewer::User(identity) = &viewer else {
        return (Data::default(), Init::Refused(FORBIDDEN));
    };
    let left = claims.exp.saturating_sub(chrono::Utc::now().timestamp());
    let expires = Instant::now() + std::time::Duration::from_secs(u64::try_from(left).unwrap_or(0));
    let mut session = Data::default();
    // DataLoaders here live as long as the socket: they batch, never cache, and are made on first
    // use.
    session.insert(crate::graphql::loaders::Loaders::new(
        app.clone(),
        viewer.clone(),
    ));
    session.insert(viewer.clone());
    session.insert(client);
    let decided = Init::Accepted {
        identity: identity.clone(),
        session: Arc::new(session),
        expires,
        _presence: crate::presence::Connection::open(app, identity.user_id).await,
    };
    (Data::default(), decided)
}

fn data_refusal(init: &Init) -> String {
    match init {
        Init::Refused(UNAUTHORIZED) => "Unauthorized: connection_init must carry a token.".into(),
        _ => "Forbidden: the token was refused.".into(),
    }
}

/// `{"Authorization": "Bearer …"}` (any case) or `{"token": "…"}`.
fn token_in(payload: &serde_json::Value) -> Option<&str> {
    let object = payload.as_object()?;
    let field = |name: &str| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, value)| value.as_str())
    };
    let token = match field("authorization") {
        Some(value) => bearer_token(value)?,
        None => field("token")?.trim(),
    };
    (!token.is_empty()).then_some(token)
}

/// async-graphql's codes made the protocol's: a refused init is 4401/4403, a subscription before
/// the acknowledgement 4401.
fn close_code(init: &Mutex<Init>, code: u16) -> u16 {
    match (&*init.lock().unwrap_or_else(|p| p.into_inner()), code) {
        (Init::Refused(refused), 1002) => *refused,
        (Init::Pending | Init::Refused(_), 1011) => UNAUTHORIZED,
        _ => code,
    }
}

/// True when the socket's session is no longer what it was at `connection_init`.
async fn session_ended(app: &AppState, init: &Mutex<Init>) -> bool {
    let identity = match &*init.lock().unwrap_or_else(|p| p.into_inner()) {
        Init::Accepted { identity, .. } => identity.clone(),
        _ => return false,
    };
    match accounts::live_identity(app, identity.user_id, identity.session_id).await {
        Ok(now) => now != identity,
        // The database did not answer: keep the socket, ask again at the next check.
        Err(AppError::Internal(_)) => false,
        Err(_) => true,
    }
}

/// Closes the socket: no group writes to it after the close frame.
async fn close(socket: &mut Socket, out: &Out, code: u16, reason: String) {
    out.seal();
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_json_whatever_the_id() {
        for id in ["1", "a\"b\\c", "ü\n"] {
            let framed = json_string(id);
            let next: serde_json::Value =
                serde_json::from_str(&frame(&framed, "next", Some(r#"{"data":{"x":1}}"#)))
                    .expect("a JSON frame");
            assert_eq!(next["id"], id);
            assert_eq!(next["type"], "next");
            assert_eq!(next["payload"]["data"]["x"], 1);
            let complete: serde_json::Value =
                serde_json::from_str(&frame(&framed, "complete", None)).expect("a JSON frame");
            assert_eq!(
                complete,
                serde_json::json!({ "type": "complete", "id": id })
            );
        }
    }
}
