//! Presence: a user is online while at least one authenticated WebSocket of theirs is open, on
//! any instance. Changes go to the users who share a chat room with them (`PresenceChanged` on
//! `myEvents`), and the user's `lastSeenAt` moves when they go offline.
//!
//! Each process counts its own sockets per user. With Redis, each user has a sorted set
//! `autohub:presence:{user}` of the instances that hold a socket of theirs, scored by when that
//! claim lapses; every instance renews its claims every third of the lease
//! (`PRESENCE_LEASE_SECONDS`) and removes them when the last socket closes. An instance that dies
//! stops renewing, so its users go offline within the lease instead of staying online forever.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use uuid::Uuid;

use crate::app::AppState;
use crate::clock;
use crate::events::{DomainEvent, Outbox, Topic};

/// To the user topics of those who share a room with the user: they came online or went
/// offline. On the wire as `presence` version 1.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PresenceChanged {
    pub user_id: Uuid,
    pub is_online: bool,
    pub last_seen_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl DomainEvent for PresenceChanged {
    const KIND: &'static str = "presence";
    const VERSION: u32 = 1;
}

#[derive(Clone)]
pub struct Presence {
    local: Arc<Mutex<HashMap<Uuid, usize>>>,
    redis: Option<redis::aio::ConnectionManager>,
    instance: Uuid,
    /// How long this instance's claim that a user is connected lasts without renewal.
    lease: Duration,
    /// Redis commands sent (tests use it to catch a round trip per user).
    commands: Arc<AtomicU64>,
}

/// Which of the users (KEYS) have a live claim (score from ARGV[1] on) of an instance other than
/// ARGV[2]: one command for a whole page of users.
const ONLINE_AMONG: &str = r"
local online = {}
for i, key in ipairs(KEYS) do
  local found = 0
  for _, instance in ipairs(redis.call('ZRANGEBYSCORE', key, ARGV[1], '+inf')) do
    if instance ~= ARGV[2] then found = 1 break end
  end
  online[i] = found
end
return online
";

fn key(user: Uuid) -> String {
    format!("autohub:presence:{user}")
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Presence {
    pub fn in_process() -> Self {
        Self {
            local: Arc::default(),
            redis: None,
            instance: Uuid::now_v7(),
            lease: Duration::from_secs(30),
            commands: Arc::default(),
        }
    }

    /// Presence shared through Redis; starts the renewal of this instance's claims.
    pub async fn with_redis(url: &str, lease: Duration) -> Result<Self, String> {
        let client =
            redis::Client::open(url).map_err(|e| format!("REDIS_URL: cannot use it: {e}"))?;
        let redis = client
            .get_connection_manager()
            .await
            .map_err(|e| format!("Redis is not reachable: {e}"))?;
        let presence = Self {
            redis: Some(redis),
            lease,
            ..Self::in_process()
        };
        tokio::spawn(presence.clone().renew_claims());
        Ok(presence)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, usize>> {
        self.local.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn renew_claims(self) {
        let mut tick = tokio::time::interval(self.lease / 3);
        loop {
            tick.tick().await;
            let users: Vec<Uuid> = self.lock().keys().copied().collect();
            for user in users {
                self.claim(user).await;
            }
        }
    }

    /// Runs a command on Redis, once more if the first try fails: after Redis restarts, the
    /// connection manager reconnects only when a command has failed on the old connection.
    async fn query<T: redis::FromRedisValue>(
        &self,
        command: &redis::Pipeline,
        what: &str,
    ) -> Option<T> {
        let mut redis = self.redis.clone()?;
        let mut last = None;
        for _ in 0..2 {
            self.commands
                .fetch_add(command.cmd_iter().count() as u64, Ordering::Relaxed);
            match command.query_async(&mut redis).await {
                Ok(value) => return Some(value),
                Err(err) => last = Some(err),
            }
        }
        if let Some(err) = last {
            tracing::warn!(%err, "presence: Redis did not {what}");
        }
        None
    }

    async fn claim(&self, user: Uuid) {
        let lapses = now_ms() + self.lease.as_millis() as i64;
        let mut claim = redis::pipe();
        claim
            .cmd("ZADD")
            .arg(key(user))
            .arg(lapses)
            .arg(self.instance.to_string())
            .ignore()
            .cmd("PEXPIRE")
            .arg(key(user))
            .arg(self.lease.as_millis() as u64)
            .ignore();
        let _: Option<()> = self.query(&claim, "take a claim").await;
    }

    /// Which of these users are online on any instance: those connected here, and (with Redis) the
    /// others in one command whatever their number.
    pub async fn online_among(&self, users: &[Uuid]) -> HashSet<Uuid> {
        let mut online: HashSet<Uuid> = {
            let local = self.lock();
            users
                .iter()
                .copied()
                .filter(|u| local.contains_key(u))
                .collect()
        };
        let rest: Vec<Uuid> = users
            .iter()
            .copied()
            .filter(|u| !online.contains(u))
            .collect();
        let Some(redis) = &self.redis else {
            return online;
        };
        if rest.is_empty() {
            return online;
        }
        // Its SHA-1 is computed once; Redis runs it by that digest (loading it when missing).
        static SCRIPT: std::sync::LazyLock<redis::Script> =
            std::sync::LazyLock::new(|| redis::Script::new(ONLINE_AMONG));
        let mut invocation = SCRIPT.prepare_invoke();
        for user in &rest {
            invocation.key(key(*user));
        }
        invocation.arg(now_ms()).arg(self.instance.to_string());
        let mut last = None;
        for _ in 0..2 {
            self.commands.fetch_add(1, Ordering::Relaxed);
            let mut redis = redis.clone();
            match invocation.invoke_async::<Vec<i64>>(&mut redis).await {
                Ok(flags) => {
                    online.extend(
                        rest.iter()
                            .zip(flags)
                            .filter(|(_, flag)| *flag == 1)
                            .map(|(user, _)| *user),
                    );
                    return online;
                }
                Err(err) => last = Some(err),
            }
        }
        if let Some(err) = last {
            tracing::warn!(%err, "presence: Redis did not answer who is online");
        }
        online
    }

    /// Redis commands this process has sent for presence.
    pub fn redis_commands(&self) -> u64 {
        self.commands.load(Ordering::Relaxed)
    }

    /// Claims of other instances that have not lapsed.
    async fn elsewhere(&self, user: Uuid) -> bool {
        let mut live = redis::pipe();
        live.cmd("ZRANGEBYSCORE")
            .arg(key(user))
            .arg(now_ms())
            .arg("+inf");
        let instances: Option<(Vec<String>,)> = self.query(&live, "answer").await;
        let me = self.instance.to_string();
        instances.is_some_and(|(instances,)| instances.iter().any(|i| *i != me))
    }

    /// A socket of this user was accepted.
    pub async fn connected(&self, state: &AppState, user: Uuid) {
        let first_here = {
            let mut local = self.lock();
            let count = local.entry(user).or_insert(0);
            *count += 1;
            *count == 1
        };
        if !first_here {
            return;
        }
        let elsewhere = self.elsewhere(user).await;
        self.claim(user).await;
        if !elsewhere {
            announce(state, user, true, None).await;
        }
    }

    /// A socket of this user closed.
    pub async fn disconnected(&self, state: &AppState, user: Uuid) {
        let last_here = {
            let mut local = self.lock();
            match local.get_mut(&user) {
                Some(count) if *count > 1 => {
                    *count -= 1;
                    false
                }
                Some(_) => {
                    local.remove(&user);
                    true
                }
                None => false,
            }
        };
        if !last_here {
            return;
        }
        let mut drop_claim = redis::pipe();
        drop_claim
            .cmd("ZREM")
            .arg(key(user))
            .arg(self.instance.to_string())
            .ignore();
        let _: Option<()> = self.query(&drop_claim, "drop a claim").await;
        if self.elsewhere(user).await {
            return;
        }
        let seen = clock::now();
        if let Err(err) = crate::accounts::service::record_last_seen(&state.db, user, seen).await {
            tracing::warn!(error = %err.message(), "presence: lastSeenAt not stored");
        }
        announce(state, user, false, Some(seen)).await;
    }
}

/// Tells the users who share a room with `user` that they came online or went offline.
async fn announce(
    state: &AppState,
    user: Uuid,
    is_online: bool,
    last_seen_at: Option<chrono::DateTime<chrono::Utc>>,
) {
    let peers = match crate::chat::service::room_peers(&state.db, user).await {
        Ok(peers) => peers,
        Err(err) => {
            tracing::warn!(error = %err.message(), "presence: peers not found");
            return;
        }
    };
    let mut outbox = Outbox::default();
    for peer in peers {
        outbox.push(
            Topic::User(peer),
            PresenceChanged {
                user_id: user,
                is_online,
                last_seen_at,
            },
        );
    }
    outbox.publish(&state.events);
}

/// Keeps a user counted as connected for as long as it lives (one per accepted socket).
pub struct Connection {
    state: AppState,
    user: Uuid,
}

impl Connection {
    pub async fn open(state: &AppState, user: Uuid) -> Self {
        state.presence.connected(state, user).await;
        Self {
            state: state.clone(),
            user,
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let state = self.state.clone();
        let user = self.user;
        tokio::spawn(async move { state.presence.disconnected(&state, user).await });
    }
}
