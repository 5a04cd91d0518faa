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

use async_graphql::http::{WebSocketProtocols, WsMessage};
use async_graphql::Data;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use tokio::time::{interval_at, sleep_until, Instant, MissedTickBehavior};

use crate::accounts::service as accounts;
use crate::app::AppState;
use crate::auth::viewer::{bearer_token, ClientInfo, Identity};
use crate::auth::{sessions, Viewer};
use crate::error::AppError;
use crate::graphql::guarded::Guarded;

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
    protocol: WebSocketProtocols,
    client: ClientInfo,
    socket: WebSocket,
) {
    let (mut sink, source) = socket.split();
    let input = source
        .take_while(|message| futures_util::future::ready(message.is_ok()))
        .filter_map(|message| {
            futures_util::future::ready(match message {
                Ok(Message::Text(text)) => Some(axum::body::Bytes::from(text)),
                Ok(Message::Binary(bytes)) => Some(bytes),
                _ => None,
            })
        });
    let init = Arc::new(Mutex::new(Init::Pending));
    let outcome = init.clone();
    let init_app = app.clone();
    let graphql = async_graphql::http::WebSocket::new(schema, input, protocol).on_connection_init(
        move |payload| async move {
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
        },
    );
    futures_util::pin_mut!(graphql);

    let config = &app.config;
    let start = Instant::now();
    let mut keepalive = interval_at(start + config.ws_keepalive, config.ws_keepalive);
    keepalive.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut check = interval_at(start + config.ws_session_check, config.ws_session_check);
    check.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let far = start + std::time::Duration::from_secs(365 * 24 * 3600);
    // What the last read of the session saw: reading again is needed only when sessions changed
    // since (thousands of idle sockets would otherwise read thousands of sessions a second).
    let mut checked_epoch = sessions::epoch();
    let mut checked_at = Instant::now();
    // Operations answered with the protocol's `error`: their `complete` is not sent.
    let mut refused: Vec<String> = Vec::new();

    loop {
        let expires = match &*init.lock().unwrap_or_else(|p| p.into_inner()) {
            Init::Accepted { expires, .. } => *expires,
            _ => far,
        };
        let outgoing = tokio::select! {
            message = graphql.next() => match message {
                Some(WsMessage::Text(text)) => match as_protocol_error(protocol, &text, &mut refused) {
                    Rewrite::Keep => Message::Text(text.into()),
                    Rewrite::Replace(error) => Message::Text(error.into()),
                    Rewrite::Drop => continue,
                },
                Some(WsMessage::Close(code, reason)) => {
                    close(&mut sink, close_code(&init, code), reason).await;
                    return;
                }
                None => {
                    // The legacy protocol reports a refused init as a message, then ends.
                    let code = match &*init.lock().unwrap_or_else(|p| p.into_inner()) {
                        Init::Refused(code) => *code,
                        _ => 1000,
                    };
                    close(&mut sink, code, String::new()).await;
                    return;
                }
            },
            _ = keepalive.tick() => match protocol {
                WebSocketProtocols::SubscriptionsTransportWS => {
                    Message::Text(r#"{"type":"ka"}"#.into())
                }
                WebSocketProtocols::GraphQLWS => Message::Ping(axum::body::Bytes::new()),
            },
            _ = check.tick() => {
                let epoch = sessions::epoch();
                if epoch == checked_epoch && checked_at.elapsed() < FULL_RECHECK {
                    continue;
                }
                checked_epoch = epoch;
                checked_at = Instant::now();
                if session_ended(&app, &init).await {
                    close(&mut sink, FORBIDDEN, "The session ended.".into()).await;
                    return;
                }
                continue;
            }
            _ = sleep_until(expires) => {
                close(&mut sink, FORBIDDEN, "The access token expired.".into()).await;
                return;
            }
        };
        if sink.send(outgoing).await.is_err() {
            return;
        }
    }
}

enum Rewrite {
    Keep,
    Replace(String),
    Drop,
}

/// async-graphql sends every result as `next` (`data` in the older protocol). One that never
/// ran (it did not validate or its variables did not coerce: no data, errors without a path)
/// becomes the protocol's `error` message instead, which ends the operation: its `complete`
/// is then dropped. Everything else passes as it is.
fn as_protocol_error(
    protocol: WebSocketProtocols,
    text: &str,
    refused: &mut Vec<String>,
) -> Rewrite {
    let errors = text.contains("\"errors\"");
    let completes = !refused.is_empty() && text.contains("\"complete\"");
    if !errors && !completes {
        return Rewrite::Keep;
    }
    let Ok(message) = serde_json::from_str::<serde_json::Value>(text) else {
        return Rewrite::Keep;
    };
    let id = message["id"].as_str().unwrap_or_default().to_string();
    match message["type"].as_str() {
        Some("complete") => match refused.iter().position(|r| *r == id) {
            Some(at) => {
                refused.swap_remove(at);
                Rewrite::Drop
            }
            None => Rewrite::Keep,
        },
        Some("next" | "data") => {
            let payload = &message["payload"];
            let Some(errors) = payload["errors"].as_array() else {
                return Rewrite::Keep;
            };
            let never_ran = payload["data"].is_null()
                && !errors.is_empty()
                && errors.iter().all(|e| e.get("path").is_none());
            if !never_ran {
                return Rewrite::Keep;
            }
            refused.push(id.clone());
            let payload = match protocol {
                WebSocketProtocols::GraphQLWS => serde_json::Value::Array(errors.clone()),
                // subscriptions-transport-ws: one error object.
                WebSocketProtocols::SubscriptionsTransportWS => errors[0].clone(),
            };
            let error = serde_json::json!({ "id": id, "type": "error", "payload": payload });
            Rewrite::Replace(error.to_string())
        }
        _ => Rewrite::Keep,
    }
}

/// Reads the token of `connection_init` and checks it like an HTTP request's.
async fn authenticate(
    app: &AppState,
    client: ClientInfo,
    payload: &serde_json::Value,
) -> (Data, Init) {
    let mut data = Data::default();
    let Some(token) = token_in(payload) else {
        return (data, Init::Refused(UNAUTHORIZED));
    };
    let Ok(claims) = app.jwt.verify(token) else {
        return (data, Init::Refused(FORBIDDEN));
    };
    let viewer = Viewer::from_claims(app, &claims).await;
    let Viewer::User(identity) = &viewer else {
        return (data, Init::Refused(FORBIDDEN));
    };
    let left = claims.exp.saturating_sub(chrono::Utc::now().timestamp());
    let expires = Instant::now() + std::time::Duration::from_secs(u64::try_from(left).unwrap_or(0));
    let decided = Init::Accepted {
        identity: identity.clone(),
        expires,
        _presence: crate::presence::Connection::open(app, identity.user_id).await,
    };
    // DataLoaders here live as long as the socket: they batch, never cache, and are made on first
    // use.
    data.insert(crate::graphql::loaders::Loaders::new(
        app.clone(),
        viewer.clone(),
    ));
    data.insert(viewer);
    data.insert(client);
    (data, decided)
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

async fn close<S>(sink: &mut S, code: u16, reason: String)
where
    S: futures_util::Sink<Message> + Unpin,
{
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = sink.send(Message::Close(Some(frame))).await;
}
