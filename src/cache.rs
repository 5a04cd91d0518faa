//! The one bounded map behind the process's caches (parsed documents, verified tokens, live
//! sessions, the local throttle's windows). It never grows past its capacity: when full, it
//! first drops what its owner calls stale, then, if still full, an eighth of its entries (in the
//! map's own, effectively random, order) — so a flood of new keys evicts some entries instead of
//! wiping the whole cache at once.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};

pub struct Bounded<K, V> {
    entries: Mutex<HashMap<K, V>>,
    capacity: usize,
    /// Entries that may go first when room is needed.
    stale: fn(&V) -> bool,
}

fn never<V>(_: &V) -> bool {
    false
}

impl<K: Hash + Eq + Clone, V> Bounded<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self::with_stale(capacity, never::<V>)
    }

    /// A map that drops entries `stale` says are of no more use before any other.
    pub fn with_stale(capacity: usize, stale: fn(&V) -> bool) -> Self {
        Self {
            entries: Mutex::default(),
            capacity: capacity.max(1),
            stale,
        }
    }

    /// The map, locked (a poisoned lock is taken over: the map holds no invariant a panic can
    /// break).
    pub fn lock(&self) -> Guard<'_, K, V> {
        Guard {
            entries: self.entries.lock().unwrap_or_else(|p| p.into_inner()),
            capacity: self.capacity,
            stale: self.stale,
        }
    }
}

pub struct Guard<'a, K, V> {
    entries: MutexGuard<'a, HashMap<K, V>>,
    capacity: usize,
    stale: fn(&V) -> bool,
}

impl<K: Hash + Eq + Clone, V> Guard<'_, K, V> {
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries.get(key)
    }

    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries.get_key_value(key)
    }

    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries.get_mut(key)
    }

    /// Inserts (or replaces) an entry, making room first when the map is full.
    pub fn insert(&mut self, key: K, value: V) {
        if !self.entries.contains_key(&key) {
            self.make_room();
        }
        self.entries.insert(key, value);
    }

    /// The entry of `key`, made with `make` (room made first) when there is none.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        if !self.entries.contains_key(&key) {
            self.make_room();
        }
        self.entries.entry(key).or_insert_with(make)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn make_room(&mut self) {
        if self.entries.len() < self.capacity {
            return;
        }
        let stale = self.stale;
        self.entries.retain(|_, v| !stale(v));
        if self.entries.len() < self.capacity {
            return;
        }
        let evict = (self.capacity / 8).max(1);
        let victims: Vec<K> = self.entries.keys().take(evict).cloned().collect();
        for key in victims {
            self.entries.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_never_grows_past_its_capacity_and_keeps_most_entries_when_full() {
        let cache: Bounded<u32, u32> = Bounded::new(16);
        for i in 0..16 {
            cache.lock().insert(i, i);
        }
        assert_eq!(cache.lock().len(), 16);
        cache.lock().insert(100, 100);
        let kept = cache.lock().len();
        assert!((14..=16).contains(&kept), "{kept}");
        assert_eq!(cache.lock().get(&100), Some(&100));
        for i in 0..1000 {
            cache.lock().insert(1000 + i, i);
        }
        assert!(cache.lock().len() <= 16);
    }

    #[test]
    fn stale_entries_go_first() {
        let cache: Bounded<u32, bool> = Bounded::with_stale(4, |stale| *stale);
        cache.lock().insert(1, false);
        cache.lock().insert(2, true);
        cache.lock().insert(3, false);
        cache.lock().insert(4, true);
        cache.lock().insert(5, false);
        let guard = cache.lock();
        assert_eq!(guard.len(), 3);
        assert!(guard.get(&2).is_none() && guard.get(&4).is_none());
        assert!(guard.get(&1).is_some() && guard.get(&3).is_some() && guard.get(&5).is_some());
    }
}
