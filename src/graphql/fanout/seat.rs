//! One socket's operation in a group ([`Seat`]): what the group's task writes to it, and what the
//! socket's own events say it may be written.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Release};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Poll, Wake, Waker};
use std::time::Duration;

use async_graphql::futures_util::stream::BoxStream;
use futures_util::StreamExt;
use tokio::sync::Notify;

use crate::metrics::Metrics;
use crate::ws::envelope;
use crate::ws::socket::{text_frame, Delivered, Out};

/// How long after one of its own events a socket reads them if no frame came first (an event its
/// group does not render: typing, in a room watched for messages; its removal from the room).
const DEFER: Duration = Duration::from_millis(250);

/// Where a socket's operation is written: the socket's sending side, the operation's id (a JSON
/// string) and the type of its result messages (`next`, or `data` in the older protocol).
pub struct Address {
    pub out: Arc<Out>,
    pub id: String,
    pub next: &'static str,
}

/// One socket's operation, as its group's task and the socket's task share it.
pub(super) struct Seat {
    address: Address,
    state: Mutex<State>,
    /// Wakes the socket's task for what a group's task found: frames it dropped, the end of the
    /// socket's own events, the end of the group.
    pub(super) notify: Notify,
    /// Reads the socket's own events (see [`Lazy`]).
    events_waker: Waker,
    lazy: Arc<Lazy>,
}

#[derive(Default)]
pub(super) struct State {
    /// The resolver's events for this viewer, once taken out of its run: whether each was a value.
    pub events: Option<BoxStream<'static, bool>>,
    /// Values among them so far.
    pub seen: u64,
    /// They ended (the viewer was removed from the room, say).
    pub ended: bool,
    /// The operation is over: nothing more is written.
    pub closed: bool,
    /// The group the socket is in (see `Group::id`), and `seen` when it joined.
    pub group: u64,
    pub seen_before: u64,
    /// Frames of the group written (or dropped as missed) since it joined.
    pub received: u64,
    /// The group's run ended.
    pub group_over: bool,
    /// Frames dropped because the socket had too many waiting, not yet reported.
    pub missed: u64,
}

impl State {
    /// Frames the socket's own events say it is owed and has not received.
    pub fn owed(&self) -> u64 {
        (self.seen - self.seen_before).saturating_sub(self.received)
    }
}

impl Seat {
    pub fn new(address: Address, deferred: Arc<Deferred>) -> Arc<Self> {
        Arc::new_cyclic(|seat| {
            let lazy = Arc::new(Lazy {
                pending: AtomicBool::new(false),
                seat: seat.clone(),
                deferred,
            });
            Self {
                address,
                state: Mutex::default(),
                notify: Notify::new(),
                events_waker: Waker::from(lazy.clone()),
                lazy,
            }
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads the socket's own events that have arrived, without waiting; the next one wakes the
    /// socket only after `DEFER` (a frame that comes first reads it). True when they ended now.
    pub fn read_events(&self, state: &mut State) -> bool {
        if state.ended {
            return false;
        }
        let Some(events) = &mut state.events else {
            return false;
        };
        self.lazy.pending.store(false, Release);
        let mut cx = std::task::Context::from_waker(&self.events_waker);
        loop {
            match events.poll_next_unpin(&mut cx) {
                Poll::Ready(Some(value)) => state.seen += u64::from(value),
                Poll::Ready(None) => {
                    state.ended = true;
                    state.events = None;
                    return true;
                }
                Poll::Pending => return false,
            }
        }
    }

    /// Writes one frame of group `group` whose payload is `payload`, if the socket's own events
    /// allow it (read first: a frame past their end is not this viewer's). `frame` is scratch.
    /// True when it was written or queued.
    fn offer(&self, group: u64, payload: &str, frame: &mut Vec<u8>, limit: usize) -> bool {
        let mut state = self.lock();
        if state.closed || state.group != group || state.group_over {
            return false;
        }
        let ended_now = self.read_events(&mut state);
        if ended_now {
            self.notify.notify_one();
        }
        if state.ended && state.owed() == 0 {
            return false;
        }
        let Address { out, id, next } = &self.address;
        text_frame(frame, &envelope(next, id, Some(payload)));
        match out.deliver(frame, limit) {
            Delivered::Yes => {
                state.received += 1;
                true
            }
            Delivered::Full => {
                state.received += 1;
                state.missed += 1;
                self.notify.notify_one();
                false
            }
            Delivered::Gone => false,
        }
    }

    /// Group `group`'s run ended: the socket joins again (or ends).
    pub fn group_ended(&self, group: u64) {
        let mut state = self.lock();
        if state.group == group {
            state.group_over = true;
            drop(state);
            self.notify.notify_one();
        }
    }
}

/// A group's sockets.
#[derive(Default)]
pub(super) struct Seats(Mutex<Vec<Weak<Seat>>>);

impl Seats {
    pub fn add(&self, seat: &Arc<Seat>) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::downgrade(seat));
    }

    /// The sockets still open (the others are forgotten).
    pub fn live(&self) -> Vec<Arc<Seat>> {
        let mut seats = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut live = Vec::with_capacity(seats.len());
        seats.retain(|seat| match seat.upgrade() {
            Some(seat) => {
                live.push(seat);
                true
            }
            None => false,
        });
        live
    }
}

/// Sockets one task of a group writes a frame to, at most.
const CHUNK: usize = 512;

/// Writes one rendered result to every socket of group `group`: in chunks, each its own task,
/// so that every worker thread writes; returns when all are written (the next frame must not
/// overtake this one on any socket).
pub(super) async fn deliver(
    group: u64,
    seats: Vec<Arc<Seat>>,
    payload: Arc<str>,
    limit: usize,
    metrics: &Arc<Metrics>,
) {
    let write = move |seats: &[Arc<Seat>], payload: &str, metrics: &Metrics| {
        let mut frame = Vec::with_capacity(payload.len() + 64);
        let written = seats
            .iter()
            .filter(|seat| seat.offer(group, payload, &mut frame, limit))
            .count();
        metrics.record_deliveries(written as u64);
    };
    let mut first = seats;
    let mut others = tokio::task::JoinSet::new();
    while first.len() > CHUNK {
        let chunk = first.split_off(first.len() - CHUNK);
        let (payload, metrics) = (payload.clone(), metrics.clone());
        others.spawn(async move { write(&chunk, &payload, &metrics) });
    }
    write(&first, &payload, metrics);
    while others.join_next().await.is_some() {}
}

/// The waker a socket's own events are read with. Most of them are followed within milliseconds by
/// the group's frame, whose writing reads them; waking the socket's task for each would wake
/// thousands of tasks per message. So an event only marks the socket, and queues it to be read
/// `DEFER` later in case no frame read it first (its task is woken only if they ended).
pub(super) struct Lazy {
    /// An event arrived since the socket's events were last read.
    pending: AtomicBool,
    seat: Weak<Seat>,
    deferred: Arc<Deferred>,
}

impl Wake for Lazy {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.pending.swap(true, AcqRel) {
            return;
        }
        let first = {
            let mut queue = self
                .deferred
                .queue
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            queue.push(Arc::downgrade(self));
            queue.len() == 1
        };
        if first {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    let deferred = self.deferred.clone();
                    runtime.spawn(async move {
                        tokio::time::sleep(DEFER).await;
                        deferred.fire();
                    });
                }
                Err(_) => self.deferred.fire(),
            }
        }
    }
}

/// Sockets whose own events are to be read (see `Lazy`): one timer for all that are waiting.
#[derive(Default)]
pub(super) struct Deferred {
    queue: Mutex<Vec<Weak<Lazy>>>,
}

impl Deferred {
    /// Reads the events of every queued socket whose events were not read since, and wakes the
    /// task of each whose events ended.
    fn fire(&self) {
        let due = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|p| p.into_inner()));
        for lazy in due.iter().filter_map(Weak::upgrade) {
            if !lazy.pending.load(Acquire) {
                continue;
            }
            if let Some(seat) = lazy.seat.upgrade() {
                let ended = seat.read_events(&mut seat.lock());
                if ended {
                    seat.notify.notify_one();
                }
            }
        }
    }
}
