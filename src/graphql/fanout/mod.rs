//! Subscriptions rendered once for everyone who sees the same thing.
//!
//! Each operation a socket starts runs twice over, in two roles:
//!
//! - **Its own run** carries a [`Control`] in its request data and the socket's own viewer. The
//!   subscription's resolver checks the viewer as always (a refusal is the operation's error),
//!   then hands its events to [`shared`], which records whom they may be rendered for and takes
//!   the stream out of the run: the socket keeps that stream alone (to count what it is owed and
//!   to end when the stream ends for this viewer, removed from the room, say) and drops the run,
//!   which rendered nothing. An idle subscriber holds a few hundred bytes, not an execution.
//! - **A group's run** renders the events: one run per distinct document, operation name,
//!   variables and audience (the viewer's role, or the viewer alone — see [`Share`]). Each result
//!   is serialised once, and the group's task writes it, framed with each operation's id,
//!   straight to every socket in the group (see [`seat`]): a message to a room of thousands
//!   wakes no socket's task.
//!
//! A resolver that does not call [`shared`] (a query or mutation sent over the socket, a
//! subscription not opted in) is answered by its own run, as any operation is.
//!
//! Before it writes a frame to a socket, the group's task reads that socket's own events (so a
//! frame past the end of its own stream is never written). Those events do not wake the
//! socket's task (see [`seat::Lazy`]) unless they ended.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use async_graphql::futures_util::stream::BoxStream;
use async_graphql::{Context, Data, Executor, PathSegment, Request, Response, SelectionField};
use futures_util::{Stream, StreamExt};
use tokio::sync::Notify;
use uuid::Uuid;

use super::guarded::Guarded;
use crate::accounts::entity::Role;
use crate::metrics::Metrics;

mod seat;

pub use seat::Address;
use seat::{Deferred, Seat, Seats};

/// Fields whose answer depends on who asks beyond their role (the viewer's own unread count, say):
/// a selection that names one is rendered for its viewer alone. Each domain lists its own.
const PERSONAL: [&[&str]; 2] = [
    crate::chat::graphql::PERSONAL,
    crate::accounts::graphql::PERSONAL,
];

/// How long a socket whose own run ended waits for the group's frames it is still owed.
const OWED_WAIT: Duration = Duration::from_millis(500);

/// A socket gives up on an operation whose group ended this many times without a frame.
const REJOINS: u32 = 3;

/// Who may be sent one rendering of a subscription's events, as its resolver declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Share {
    /// Every staff member of the viewer's role who passed the resolver's checks: the events come
    /// from a topic they all hear alike (a room), and staff see the same of them. Customers, and
    /// selections that name a personal field, are rendered for themselves.
    Role,
    /// The viewer alone (their sockets share): the events or their filtering are the viewer's own.
    Viewer,
}

/// What one rendering is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Audience {
    Role(Role),
    User(Uuid, Role),
    Anonymous,
}

/// Put into a socket's own run of an operation (see the module's header).
#[derive(Default)]
pub struct Control {
    established: OnceLock<Established>,
    ready: Notify,
    /// The resolver's events for this viewer, taken out of the run: whether each was a value.
    events: Mutex<Option<BoxStream<'static, bool>>>,
}

struct Established {
    audience: Audience,
    /// The root field's response key, for errors this socket's frames raise.
    root: String,
}

/// The events of a subscription resolver, as the run that asked for them needs them: all of them
/// for a group's (or an ordinary) run; none for a socket's own run, which learns from this call
/// whom the group renders for, and takes the events for the socket itself.
pub fn shared<T: Send + 'static>(
    ctx: &Context<'_>,
    share: Share,
    events: impl Stream<Item = async_graphql::Result<T>> + Send + 'static,
) -> BoxStream<'static, async_graphql::Result<T>> {
    let Some(control) = ctx.data_opt::<Arc<Control>>() else {
        return events.boxed();
    };
    let field = ctx.field();
    let audience = match super::viewer(ctx).ok().and_then(|v| v.identity().ok()) {
        Some(me) if share == Share::Role && me.is_staff() && !personal(field) => {
            Audience::Role(me.role)
        }
        Some(me) => Audience::User(me.user_id, me.role),
        None => Audience::Anonymous,
    };
    let root = field.alias().unwrap_or(field.name()).to_string();
    // The events first: a socket that sees the run established takes them.
    *control.events.lock().unwrap_or_else(|p| p.into_inner()) =
        Some(events.map(|event| event.is_ok()).boxed());
    let _ = control.established.set(Established { audience, root });
    control.ready.notify_one();
    futures_util::stream::pending().boxed()
}

/// True when the selection names a personal field anywhere below it (fragments included).
fn personal(field: SelectionField<'_>) -> bool {
    field
        .selection_set()
        .any(|f| PERSONAL.iter().any(|names| names.contains(&f.name())) || personal(f))
}

/// What a socket's task writes for one of its operations (a group's frames are written to the
/// socket directly: see [`seat`]).
pub enum Outgoing {
    /// A result of the socket's own run (or a missed-events error).
    Response(Response),
    /// The operation never ran (it did not validate, or the resolver refused): the protocol's
    /// `error`, and no `complete` after it.
    Refused(Response),
    /// The operation is over: `complete`.
    End,
}

/// True when a result means the operation never ran: no data, and errors none of which has a path.
pub fn never_ran(response: &Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

#[derive(PartialEq, Eq, Hash)]
struct Key {
    audience: Audience,
    query: String,
    operation: Option<String>,
    variables: String,
    extensions: String,
}

/// The groups rendering now, by what they render.
pub struct Fanout {
    groups: Mutex<Groups>,
    deferred: Arc<Deferred>,
    /// Frames that may wait for a socket to take them before it is told it missed some.
    capacity: usize,
    metrics: Arc<Metrics>,
}

#[derive(Default)]
struct Groups {
    by_key: HashMap<Arc<Key>, Weak<Group>>,
    /// Entries after the last sweep of ended groups.
    swept: usize,
    /// The id of the last group started.
    last: u64,
}

struct Group {
    /// Tells a socket's frames of this group from those of one it was in before.
    id: u64,
    seats: Arc<Seats>,
    ended: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Group {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fanout {
    pub fn new(capacity: usize, metrics: Arc<Metrics>) -> Self {
        Self {
            groups: Mutex::new(Groups::default()),
            deferred: Arc::default(),
            capacity,
            metrics,
        }
    }

    /// One operation a socket started, written to `address`: the results its task writes.
    pub fn operation(
        self: &Arc<Self>,
        guarded: &Guarded,
        request: Request,
        session: Arc<Data>,
        address: Address,
    ) -> BoxStream<'static, Outgoing> {
        let parts = Parts {
            query: request.query.clone(),
            operation: request.operation_name.clone(),
            variables: request.variables.clone(),
            extensions: request.extensions.clone(),
        };
        let control = Arc::new(Control::default());
        let own = guarded.execute_stream(request.data(control.clone()), Some(session.clone()));
        let member = Member {
            control,
            own: Some(own),
            seat: Seat::new(address, self.deferred.clone()),
            fanout: self.clone(),
            guarded: guarded.clone(),
            parts: Arc::new(parts),
            session,
            joined: None,
            closing: None,
            failed_joins: 0,
            done: false,
        };
        futures_util::stream::unfold(member, |mut member| async move {
            let out = member.step().await?;
            Some((out, member))
        })
        .boxed()
    }

    /// The group rendering for `key`, started if there is none.
    fn group(&self, key: Key, parts: &Parts, guarded: &Guarded, session: &Arc<Data>) -> Arc<Group> {
        // An ended group found here is dropped after the lock is released.
        let mut _stale = None;
        let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(group) = groups.by_key.get(&key).and_then(Weak::upgrade) {
            if !group.ended.load(Relaxed) {
                return group;
            }
            _stale = Some(group);
        }
        groups.last += 1;
        let id = groups.last;
        let seats = Arc::new(Seats::default());
        let ended = Arc::new(AtomicBool::new(false));
        let results = guarded.execute_stream(parts.request(), Some(session.clone()));
        let run = Run {
            id,
            seats: seats.clone(),
            ended: ended.clone(),
            capacity: self.capacity,
            metrics: self.metrics.clone(),
        };
        let task = tokio::spawn(run.render(results));
        let group = Arc::new(Group {
            id,
            seats,
            ended,
            task,
        });
        groups.by_key.insert(Arc::new(key), Arc::downgrade(&group));
        if groups.by_key.len() > 2 * groups.swept.max(64) {
            groups.by_key.retain(|_, g| g.strong_count() > 0);
            groups.swept = groups.by_key.len();
        }
        group
    }
}

/// A group's run, as its task holds it.
struct Run {
    id: u64,
    seats: Arc<Seats>,
    ended: Arc<AtomicBool>,
    capacity: usize,
    metrics: Arc<Metrics>,
}

impl Run {
    /// Each result serialised once and written to the group's sockets. Ends with the run, or
    /// when the run never started (the first of its viewers was refused meanwhile): the sockets
    /// then join again, in a new group.
    async fn render(self, mut results: BoxStream<'static, Response>) {
        while let Some(result) = results.next().await {
            if never_ran(&result) {
                break;
            }
            match serde_json::to_string(&result) {
                Ok(json) => {
                    self.metrics.record_rendering();
                    let seats = self.seats.live();
                    seat::deliver(self.id, seats, json.into(), self.capacity, &self.metrics).await;
                }
                Err(err) => tracing::error!(%err, "a subscription result did not serialise"),
            }
        }
        self.ended.store(true, Relaxed);
        for seat in self.seats.live() {
            seat.group_ended(self.id);
        }
    }
}

/// What a group's run is made from.
struct Parts {
    query: String,
    operation: Option<String>,
    variables: async_graphql::Variables,
    extensions: async_graphql::Extensions,
}

impl Parts {
    fn request(&self) -> Request {
        let mut request = Request::new(self.query.clone()).variables(self.variables.clone());
        if let Some(name) = &self.operation {
            request = request.operation_name(name.clone());
        }
        request.extensions = self.extensions.clone();
        request
    }

    fn key(&self, audience: Audience) -> Key {
        Key {
            audience,
            query: self.query.clone(),
            operation: self.operation.clone(),
            variables: serde_json::to_string(&self.variables).unwrap_or_default(),
            extensions: serde_json::to_string(&self.extensions).unwrap_or_default(),
        }
    }
}

/// One socket's operation, as the socket's task drives it.
struct Member {
    control: Arc<Control>,
    /// The socket's own run, until the resolver's events are taken out of it.
    own: Option<BoxStream<'static, Response>>,
    seat: Arc<Seat>,
    fanout: Arc<Fanout>,
    guarded: Guarded,
    parts: Arc<Parts>,
    session: Arc<Data>,
    joined: Option<Arc<Group>>,
    /// The own events ended: frames still owed are written until this instant.
    closing: Option<tokio::time::Instant>,
    failed_joins: u32,
    done: bool,
}

impl Drop for Member {
    fn drop(&mut self) {
        // Stopped, or its socket closed: no group writes to it any more.
        self.seat.lock().closed = true;
    }
}

impl Member {
    async fn step(&mut self) -> Option<Outgoing> {
        loop {
            if self.done {
                return None;
            }
            if self.joined.is_none() && self.closing.is_none() {
                self.join();
            }
            let seat = self.seat.clone();
            let own_events = {
                let mut state = seat.lock();
                self.seat.read_events(&mut state);
                if state.ended && self.closing.is_none() {
                    self.closing = Some(tokio::time::Instant::now() + OWED_WAIT);
                }
                if state.missed > 0 {
                    let count = std::mem::take(&mut state.missed);
                    return Some(Outgoing::Response(self.missed(count)));
                }
                if state.group_over && self.joined.take().is_some() {
                    self.failed_joins = match state.received {
                        0 => self.failed_joins + 1,
                        _ => 1,
                    };
                    if self.failed_joins > REJOINS || self.closing.is_some() {
                        return Some(self.end(&mut state));
                    }
                    continue;
                }
                if let Some(deadline) = self.closing {
                    if state.owed() == 0 || tokio::time::Instant::now() >= deadline {
                        return Some(self.end(&mut state));
                    }
                }
                state.events.is_some() || state.ended
            };
            let closing = self.closing;
            tokio::select! {
                biased;
                _ = seat.notify.notified() => {}
                result = next_of(&mut self.own), if !own_events && closing.is_none() => match result {
                    None => self.closing = Some(tokio::time::Instant::now() + OWED_WAIT),
                    Some(result) if never_ran(&result) => {
                        self.done = true;
                        return Some(Outgoing::Refused(result));
                    }
                    Some(result) => return Some(Outgoing::Response(result)),
                },
                _ = self.control.ready.notified(), if self.joined.is_none() && closing.is_none() => {}
                _ = sleep_until(closing) => {}
            }
        }
    }

    /// The operation is over: nothing more is written to it but its `complete`.
    fn end(&mut self, state: &mut seat::State) -> Outgoing {
        state.closed = true;
        self.done = true;
        Outgoing::End
    }

    /// Takes the resolver's events out of the own run, which is dropped, and joins the group for
    /// what the resolver established, once it has.
    fn join(&mut self) {
        let Some(established) = self.control.established.get() else {
            return;
        };
        let taken = self
            .control
            .events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let key = self.parts.key(established.audience.clone());
        let group = self
            .fanout
            .group(key, &self.parts, &self.guarded, &self.session);
        {
            let mut state = self.seat.lock();
            if taken.is_some() {
                state.events = taken;
                self.own = None;
            }
            state.group = group.id;
            state.group_over = false;
            state.seen_before = state.seen;
            state.received = 0;
        }
        group.seats.add(&self.seat);
        self.joined = Some(group);
    }

    /// The error of a socket that fell behind its group by `count` frames.
    fn missed(&self, count: u64) -> Response {
        let root = self
            .control
            .established
            .get()
            .map(|e| e.root.clone())
            .unwrap_or_default();
        let mut error = super::missed(count).into_server_error(Default::default());
        error.path = vec![PathSegment::Field(root)];
        let mut response = Response::from_errors(vec![error]);
        super::give_codes(&mut response);
        response
    }
}

/// The next item of a stream the socket may not have (pending while it has none).
async fn next_of<T>(stream: &mut Option<BoxStream<'static, T>>) -> Option<T> {
    match stream {
        Some(stream) => stream.next().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
