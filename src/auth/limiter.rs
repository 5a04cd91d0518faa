//! Sliding-window throttling in memory: login failures per account and per client address, and
//! code sends per address. Each rule is checked and recorded under one lock, so concurrent
//! requests (and aliased mutations within one request) cannot slip past the count together.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

#[derive(Default)]
pub struct Limiter {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    hits: HashMap<String, VecDeque<Instant>>,
    pruned_at: Option<Instant>,
}

/// Past this many keys, keys with no recent hit are dropped (at most every `PRUNE_EVERY`), so
/// that addresses sprayed once do not pile up.
const PRUNE_AT: usize = 10_000;
const PRUNE_EVERY: Duration = Duration::from_secs(10);
/// No rule's window is longer than this.
const LONGEST_WINDOW: Duration = Duration::from_secs(3600);

impl Limiter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one hit under every rule if all of them allow it; otherwise records nothing and
    /// returns the seconds until the strictest rule allows another hit.
    pub fn hit(&self, rules: &[Rule]) -> Result<(), u64> {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let due = state
            .pruned_at
            .is_none_or(|at| now.duration_since(at) >= PRUNE_EVERY);
        if state.hits.len() > PRUNE_AT && due {
            state.hits.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.duration_since(*t) < LONGEST_WINDOW)
            });
            state.pruned_at = Some(now);
        }
        let hits = &mut state.hits;
        let mut retry_after = 0u64;
        for rule in rules {
            let queue = hits.entry(rule.key.clone()).or_default();
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
            hits.entry(rule.key.clone()).or_default().push_back(now);
        }
        Ok(())
    }

    /// Takes back one hit from each rule's key (a reserved attempt that turned out not to count).
    pub fn release(&self, rules: &[Rule]) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        for rule in rules {
            if let Some(queue) = state.hits.get_mut(&rule.key) {
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
        let limiter = Limiter::new();
        let rules = [Rule::new("a", 3, Duration::from_secs(60))];
        for _ in 0..3 {
            assert!(limiter.hit(&rules).is_ok());
        }
        let wait = limiter.hit(&rules).unwrap_err();
        assert!((1..=60).contains(&wait));
    }

    #[test]
    fn a_refused_hit_records_nothing_under_any_rule() {
        let limiter = Limiter::new();
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
        let limiter = Limiter::new();
        let rules = [Rule::new("a", 1, Duration::from_secs(60))];
        assert!(limiter.hit(&rules).is_ok());
        limiter.release(&rules);
        assert!(limiter.hit(&rules).is_ok());
    }

    #[test]
    fn a_zero_window_never_refuses() {
        let limiter = Limiter::new();
        let rules = [Rule::new("a", 1, Duration::ZERO)];
        assert!(limiter.hit(&rules).is_ok());
        assert!(limiter.hit(&rules).is_ok());
    }
}
