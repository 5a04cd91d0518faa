//! Typing indicators: not stored. `setTyping(true)` tells the room at most once a second per
//! user (rapid calls renew the indicator without telling anyone again); an indicator not renewed
//! for 6 seconds expires, and the room is told it stopped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;
use uuid::Uuid;

use super::service::{publish_typing, readable};
use crate::app::AppState;
use crate::auth::limiter::Rule;
use crate::auth::Viewer;
use crate::error::AppResult;
use crate::events::Events;

/// How long an indicator lives unless renewed.
pub const TYPING_TTL: Duration = Duration::from_secs(6);
/// The shortest interval between two "typing" events of one user in one room.
pub const TYPING_THROTTLE: Duration = Duration::from_secs(1);

struct Indicator {
    id: u64,
    expires: Instant,
}

type Key = (Uuid, Uuid);

#[derive(Default, Clone)]
pub struct Typing {
    indicators: Arc<Mutex<(u64, HashMap<Key, Indicator>)>>,
}

impl Typing {
    fn lock(&self) -> MutexGuard<'_, (u64, HashMap<Key, Indicator>)> {
        self.indicators.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ends the indicator `id` once it has gone `TYPING_TTL` without renewal.
    async fn expire(self, events: Events, key: Key, id: u64) {
        loop {
            let expires = match self.lock().1.get(&key) {
                Some(indicator) if indicator.id == id => indicator.expires,
                _ => return,
            };
            tokio::time::sleep_until(expires).await;
            let mut guard = self.lock();
            let map = &mut guard.1;
            if let Some(indicator) = map.get(&key).filter(|i| i.id == id) {
                if indicator.expires <= Instant::now() {
                    map.remove(&key);
                    publish_typing(&events, key.0, key.1, false, chrono::Utc::now());
                    return;
                }
            }
        }
    }
}

/// Returns whether the room was told (false: throttled, or nothing to tell).
pub async fn set_typing(
    state: &AppState,
    viewer: &Viewer,
    room_id: Uuid,
    is_typing: bool,
) -> AppResult<bool> {
    let access = readable(&state.db, viewer, room_id).await?;
    let key = (room_id, access.identity.user_id);
    let typing = &state.chat.typing;
    if !is_typing {
        let told = typing.lock().1.remove(&key).is_some();
        if told {
            publish_typing(&state.events, room_id, key.1, false, chrono::Utc::now());
        }
        return Ok(told);
    }
    // A new indicator is always told; a renewal when the shared throttle allows it (with
    // Redis, across instances). Either way the throttle records it.
    let fresh = !typing.lock().1.contains_key(&key);
    let rule = Rule::new(format!("typing:{room_id}:{}", key.1), 1, TYPING_THROTTLE);
    let tell = state.limiter.hit(&[rule]).await.is_ok() || fresh;
    let now = Instant::now();
    let expires_at = chrono::Utc::now() + TYPING_TTL;
    let mut guard = typing.lock();
    if let Some(indicator) = guard.1.get_mut(&key) {
        indicator.expires = now + TYPING_TTL;
        if tell {
            publish_typing(&state.events, room_id, key.1, true, expires_at);
        }
        return Ok(tell);
    }
    guard.0 += 1;
    let id = guard.0;
    guard.1.insert(
        key,
        Indicator {
            id,
            expires: now + TYPING_TTL,
        },
    );
    if tell {
        publish_typing(&state.events, room_id, key.1, true, expires_at);
    }
    drop(guard);
    tokio::spawn(typing.clone().expire(state.events.clone(), key, id));
    Ok(tell)
}
