//! Sliding-window throttling: login failures per account and per client address, code sends per
//! address, typing indicators per user and room. Each rule set is checked and recorded at once,
//! so concurrent requests (and aliased mutations within one request) cannot slip past the count
//! together.
//!
//! With `REDIS_URL` the windows live in Redis (a sorted set of hit times per key, checked and
//! recorded by one Lua script on Redis's own clock), so any number of instances allow together
//! exactly what one does. While Redis does not answer, each process counts in its own memory
//! (logging that once, and once more when Redis is back).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::cache::Bounded;

/// One limit: at most `max` hits under `key` in any `window`.
#[derive(Debug, Clone)]
pub struct Rule {
    pub key: String,
    pub max: usize,
    pub window: Duration,
}

impl Rule {
    pub fn new(key: impl Into<String>, max: usize, window: Duration) -> Self {
        Self {
            key: key.into(),
            max,
            window,
        }
    }
}

/// A hit that was recorded, to be given back with `release` if it turns out not to count.
#[derive(Debug)]
pub struct Hit {
    rules: Vec<Rule>,
    /// The member recorded in Redis; none when counted in process.
    shared: Option<String>,
}

#[derive(Default)]
pub struct Limiter {
    local: LocalLimiter,
    redis: Option<redis::aio::ConnectionManager>,
    /// Put before every key in Redis: `PREFIX` and the deployment's namespace.
    prefix: String,
    /// Redis did not answer the last time it was asked.
    falling_back: AtomicBool,
}

/// How long a throttle waits for Redis before counting in process.
const REDIS_TIMEOUT: Duration = Duration::from_millis(500);

/// KEYS: one per rule. ARGV: a unique member, then max and window (ms) per rule. Returns 0 when
/// recorded under every key, else the milliseconds until the strictest rule allows a hit.
const SLIDING_WINDOW: &str = r#"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local wait = 0
for i, key in ipairs(KEYS) do
  local max = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= max then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local left = tonumber(oldest[2]) + window - now
    if left > wait then wait = left end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[1])
  redis.call('PEXPIRE', key, math.max(tonumber(ARGV[2 * i + 1]), 1))
end
return 0
"#;

/// Where the shared windows live in Redis, before the deployment's namespace.
const PREFIX: &str = "autohub:limit:";

impl Limiter {
    /// Counting in this process only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counting in Redis, in this process while Redis does not answer. Instances that share a
    /// `namespace` share their counts (the instances of one deployment: see `app.rs`).
    pub fn shared(redis: redis::aio::ConnectionManager, namespace: &str) -> Self {
        Self {
            redis: Some(redis),
            prefix: format!("{PREFIX}{namespace}:"),
            ..Self::default()
        }
    }

    /// Records one hit under every rule if all of them allow it; otherwise records nothing and
    /// returns the seconds until the strictest rule allows another hit.
    pub async fn hit(&self, rules: &[Rule]) -> Result<Hit, u64> {
        if let Some(redis) = &self.redis {
            let member = uuid::Uuid::new_v4().simple().to_string();
            let script = redis::Script::new(SLIDING_WINDOW);
            let mut invocation = script.prepare_invoke();
            invocation.arg(&member);
            for rule in rules {
                invocation
                    .key(format!("{}{}", self.prefix, rule.key))
                    .arg(rule.max)
                    .arg(u64::try_from(rule.window.as_millis()).unwrap_or(u64::MAX));
            }
            let mut connection = redis.clone();
            let outcome = tokio::time::timeout(
                REDIS_TIMEOUT,
                invocation.invoke_async::<u64>(&mut connection),
            )
            .await;
            match outcome {
                Ok(Ok(wait_ms)) => {
                    self.redis_answered();
                    if wait_ms > 0 {
                        return Err(wait_ms.div_ceil(1000).max(1));
                    }
                    return Ok(Hit {
                        rules: rules.to_vec(),
                        shared: Some(member),
                    });
                }
                Ok(Err(err)) => self.redis_failed(&err.to_string()),
                Err(_) => self.redis_failed("no answer in time"),
            }
        }
        self.local.hit(rules).map(|()| Hit {
            rules: rules.to_vec(),
            shared: None,
        })
    }

    /// Takes back a hit (a reserved attempt that turned out not to count).
    pub async fn release(&self, hit: Hit) {
        let (Some(member), Some(redis)) = (&hit.shared, &self.redis) else {
            self.local.release(&hit.rules);
            return;
        };
        let mut pipe = redis::pipe();
        for rule in &hit.rules {
            pipe.zrem(format!("{}{}", self.prefix, rule.key), member)
                .ignore();
        }
        let mut connection = redis.clone();
        match tokio::time::timeout(REDIS_TIMEOUT, pipe.query_async::<()>(&mut connection)).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => self.redis_failed(&err.to_string()),
            Err(_) => self.redis_failed("no answer in time"),
        }
    }

    fn redis_failed(&self, why: &str) {
        if !self.falling_back.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                error = why,
                "throttles: Redis did not answer; counting in this process until it does"
            );
        }
    }

    fn redis_answered(&self) {
        if self.falling_back.swap(false, Ordering::Relaxed) {
            tracing::info!("throttles: Redis answers again; counting there");
        }
    }
}

/// The windows of one process, by key.
struct LocalLimiter {
    hits: Bounded<String, VecDeque<Instant>>,
}

/// At most this many keys are tracked; when full, keys with no hit in the longest window go
/// first, so that addresses sprayed once do not pile up.
const MAX_KEYS: usize = 100_000;
/// No rule's window is longer than this.
const LONGEST_WINDOW: Duration = Duration::from_secs(3600);

impl Default for LocalLimiter {
    fn default() -> Self {
        Self {
            hits: Bounded::with_stale(MAX_KEYS, |hits| {
                hits.back().is_none_or(|t| t.elapsed() >= LONGEST_WINDOW)
            }),
        }
    }
}

impl LocalLimiter {
    /// Records one hit under every rule if all of them allow it; otherwise records nothing and
    /// returns the seconds until the strictest rule allows another hit.
    pub fn hit(&self, rules: &[Rule]) -> Result<(), u64> {
        let now = Instant::now();
        let mut hits = self.hits.lock();
        let mut retry_after = 0u64;
        for rule in rules {
            let queue = hits.get_or_insert_with(rule.key.clone(), VecDeque::new);
            while queue
                .front()
                .is_some_and(|t| now.duration_since(*t) >= rule.window)
            {
                queue.pop_front();
            }
            if queue.len() >= rule.max {
                let oldest = queue.front().copied().unwrap_or(now);
                let wait = rule.window.saturating_sub(now.duration_since(oldest));
                retry_after = retry_after.max(wait.as_secs_f64().ceil().max(1.0) as u64);
            }
        }
        if retry_after > 0 {
            return Err(retry_after);
        }
        for rule in rules {
            hits.get_or_insert_with(rule.key.clone(), VecDeque::new)
                .push_back(now);
        }
        Ok(())
    }

    /// Takes back one hit from each rule's key (a reserved attempt that turned out not to count).
    pub fn release(&self, rules: &[Rule]) {
        let mut hits = self.hits.lock();
        for rule in rules {
            if let Some(queue) = hits.get_mut(&rule.key) {
                queue.pop_back();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_up_to_max_then_refuses_with_a_delay() {
        let limiter = LocalLimiter::default();
        let rules = [Rule::new("a", 3, Duration::from_secs(60))];
        for _ in 0..3 {
            assert!(limiter.hit(&rules).is_ok());
        }
        let wait = limiter.hit(&rules).unwrap_err();
        assert!((1..=60).contains(&wait));
    }

    #[test]
    fn a_refused_hit_records_nothing_under_any_rule() {
        let limiter = LocalLimiter::default();
        let a = Rule::new("a", 1, Duration::from_secs(60));
        let b = Rule::new("b", 5, Duration::from_secs(60));
        assert!(limiter.hit(&[a.clone(), b.clone()]).is_ok());
        assert!(limiter.hit(&[a, b.clone()]).is_err());
        for _ in 0..4 {
            assert!(limiter.hit(std::slice::from_ref(&b)).is_ok());
        }
        assert!(limiter.hit(&[b]).is_err());
    }

    #[test]
    fn released_hits_free_their_place() {
        let limiter = LocalLimiter::default();
        let rules = [Rule::new("a", 1, Duration::from_secs(60))];
        assert!(limiter.hit(&rules).is_ok());
        limiter.release(&rules);
        assert!(limiter.hit(&rules).is_ok());
    }

    #[test]
    fn a_zero_window_never_refuses() {
        let limiter = LocalLimiter::default();
        let rules = [Rule::new("a", 1, Duration::ZERO)];
        assert!(limiter.hit(&rules).is_ok());
        assert!(limiter.hit(&rules).is_ok());
    }
}
