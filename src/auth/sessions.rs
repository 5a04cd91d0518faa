//! A short-lived, in-process cache of live sessions, so that a signed-in request does not read
//! its session from the database every time.
//!
//! An entry is trusted for `SESSION_CACHE_MS` (1 s by default; 0 turns the cache off) and only
//! while no session has ended and no role or status has changed in this process since it was
//! read: every such write bumps one global epoch after it commits, and an entry read under an
//! older epoch is ignored. So on this instance an ended session is refused at once. Instances
//! sharing Redis announce their changes to each other (`announce_session_changes`), so another
//! instance accepts an ended session for a fraction of a second at most.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::viewer::Identity;
use crate::cache::Bounded;

/// Changes made by this process, and changes other instances announced (see `ws.rs`).
static LOCAL: AtomicU64 = AtomicU64::new(0);
static REMOTE: AtomicU64 = AtomicU64::new(0);

/// Call after committing a write that ends sessions or changes a user's role or status.
pub fn invalidate() {
    LOCAL.fetch_add(1, Ordering::SeqCst);
}

/// Another instance announced such a write.
pub fn invalidated_elsewhere() {
    REMOTE.fetch_add(1, Ordering::SeqCst);
}

/// How many such writes this process made (what it announces to the others).
pub fn local_epoch() -> u64 {
    LOCAL.load(Ordering::SeqCst)
}

/// The epoch to record before reading a session from the database: it moves with every change
/// made here or announced by another instance.
pub fn epoch() -> u64 {
    LOCAL.load(Ordering::SeqCst) + REMOTE.load(Ordering::SeqCst)
}

struct Entry {
    identity: Identity,
    session_expires: DateTime<Utc>,
    read_at: Instant,
    epoch: u64,
}

pub struct SessionCache {
    ttl: Duration,
    entries: Bounded<Uuid, Entry>,
}

/// At most this many sessions are remembered (each is one live session).
const MAX_ENTRIES: usize = 100_000;

impl SessionCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Bounded::new(MAX_ENTRIES),
        }
    }

    /// The cached identity for this token's session and user, if still trustworthy.
    pub fn get(&self, session_id: Uuid, user_id: Uuid, now: DateTime<Utc>) -> Option<Identity> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock();
        let entry = entries.get(&session_id)?;
        let fresh = entry.read_at.elapsed() < self.ttl
            && entry.epoch == epoch()
            && entry.session_expires > now
            && entry.identity.user_id == user_id;
        fresh.then(|| entry.identity.clone())
    }

    /// Remembers a session found live by a read that started under `read_epoch`.
    pub fn put(&self, identity: &Identity, session_expires: DateTime<Utc>, read_epoch: u64) {
        if self.ttl.is_zero() {
            return;
        }
        self.entries.lock().insert(
            identity.session_id,
            Entry {
                identity: identity.clone(),
                session_expires,
                read_at: Instant::now(),
                epoch: read_epoch,
            },
        );
    }
}

/// An instance ended a session or changed a role or status: other instances drop what they
/// cached. On the wire as `sessions` version 1.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct SessionsChanged;

impl crate::events::DomainEvent for SessionsChanged {
    const KIND: &'static str = "sessions";
    const VERSION: u32 = 1;
}

/// With Redis: tells the other instances when this one ended a session or changed a role, and
/// counts what they announce, so that their session caches and open sockets look again.
pub fn announce_session_changes(events: &crate::events::Events) {
    use crate::events::{Outbox, Topic};
    use futures_util::StreamExt;
    let announcer = events.clone();
    tokio::spawn(async move {
        let mut told = local_epoch();
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tick.tick().await;
            let now = local_epoch();
            if now != told {
                told = now;
                Outbox::of(Topic::Sessions, SessionsChanged).publish(&announcer);
            }
        }
    });
    let mut heard = Box::pin(events.subscribe(Topic::Sessions));
    tokio::spawn(async move {
        while heard.next().await.is_some() {
            invalidated_elsewhere();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::Role;

    fn identity() -> Identity {
        Identity {
            user_id: Uuid::now_v7(),
            role: Role::Customer,
            session_id: Uuid::now_v7(),
        }
    }

    #[test]
    fn an_entry_is_dropped_by_any_invalidation_and_by_a_read_that_raced_one() {
        let cache = SessionCache::new(Duration::from_secs(60));
        let later = Utc::now() + chrono::TimeDelta::hours(1);
        let who = identity();
        cache.put(&who, later, epoch());
        assert_eq!(
            cache.get(who.session_id, who.user_id, Utc::now()),
            Some(who.clone())
        );
        assert_eq!(cache.get(who.session_id, Uuid::now_v7(), Utc::now()), None);
        invalidate();
        assert_eq!(cache.get(who.session_id, who.user_id, Utc::now()), None);
        // A read that began before an invalidation is not trusted.
        let before = epoch();
        invalidate();
        cache.put(&who, later, before);
        assert_eq!(cache.get(who.session_id, who.user_id, Utc::now()), None);
    }

    #[test]
    fn expired_sessions_and_a_zero_ttl_are_never_served() {
        let cache = SessionCache::new(Duration::from_secs(60));
        let who = identity();
        cache.put(&who, Utc::now() - chrono::TimeDelta::seconds(1), epoch());
        assert_eq!(cache.get(who.session_id, who.user_id, Utc::now()), None);
        let off = SessionCache::new(Duration::ZERO);
        off.put(&who, Utc::now() + chrono::TimeDelta::hours(1), epoch());
        assert_eq!(off.get(who.session_id, who.user_id, Utc::now()), None);
    }
}
