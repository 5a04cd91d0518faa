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
//!   is serialised once; every socket in the group writes those bytes, framed with its own id.
//!
//! A resolver that does not call [`shared`] (a query or mutation sent over the socket, a
//! subscription not opted in) is answered by its own run, as any operation is.
//!
//! A socket is woken once per event, by its group's frame: its own events do not wake it (see
//! [`Lazy`]). It reads them before it writes each frame (so a frame past the end of its own
//! stream is never written), and at most [`DEFER`] after one arrived that no frame followed.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Poll, Wake, Waker};
use std::time::Duration;

use async_graphql::futures_util::stream::BoxStream;
use async_graphql::{Context, Data, Executor, PathSegment, Request, Response, SelectionField};
use futures_util::{Stream, StreamExt};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::Notify;
use uuid::Uuid;

use super::guarded::Guarded;
use crate::accounts::entity::Role;
use crate::metrics::Metrics;

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

/// How long after one of its own events a socket reads them if no frame came first (an event its
/// group does not render: typing, in a room watched for messages; its removal from the room).
const DEFER: Duration = Duration::from_millis(250);

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
    let _ = control.established.set(Established { audience, root });
    *control.events.lock().unwrap_or_else(|p| p.into_inner()) =
        Some(events.map(|event| event.is_ok()).boxed());
    control.ready.notify_one();
    futures_util::stream::pending().boxed()
}

/// True when the selection names a personal field anywhere below it (fragments included).
fn personal(field: SelectionField<'_>) -> bool {
    field
        .selection_set()
        .any(|f| PERSONAL.iter().any(|names| names.contains(&f.name())) || personal(f))
}

/// What a socket writes for one of its operations.
pub enum Outgoing {
    /// A group's rendering: the operation's `next` payload, ready to frame.
    Payload(Arc<str>),
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
    /// Frames a socket may fall behind its group by before it is told it missed some.
    capacity: usize,
    metrics: Arc<Metrics>,
}

#[derive(Default)]
struct Groups {
    by_key: HashMap<Arc<Key>, Weak<Group>>,
    /// Entries after the last sweep of ended groups.
    swept: usize,
}

struct Group {
    /// Receivers are made from this one (it is never read).
    template: broadcast::Receiver<Arc<str>>,
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

    /// One operation a socket started: its results, as the socket writes them.
    pub fn operation(
        self: &Arc<Self>,
        guarded: &Guarded,
        request: Request,
        session: Arc<Data>,
    ) -> BoxStream<'static, Outgoing> {
        let parts = Parts {
            query: request.query.clone(),
            operation: request.operation_name.clone(),
            variables: request.variables.clone(),
            extensions: request.extensions.clone(),
        };
        let control = Arc::new(Control::default());
        let own = guarded.execute_stream(request.data(control.clone()), Some(session.clone()));
        let lazy = Arc::new(Lazy {
            pending: AtomicBool::new(false),
            task: Mutex::new(None),
            deferred: self.deferred.clone(),
        });
        let member = Member {
            control,
            own: Some(own),
            events: None,
            events_waker: Waker::from(lazy.clone()),
            lazy,
            seen: 0,
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
        let (frames, template) = broadcast::channel(self.capacity);
        let ended = Arc::new(AtomicBool::new(false));
        let results = guarded.execute_stream(parts.request(), Some(session.clone()));
        let task = tokio::spawn(render(results, frames, ended.clone(), self.metrics.clone()));
        let group = Arc::new(Group {
            template,
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

/// A group's run: each result serialised once and sent to its sockets. Ends with the run, or
/// when the run never started (the first of its viewers was refused meanwhile): the sockets then
/// join again, in a new group.
async fn render(
    mut results: BoxStream<'static, Response>,
    frames: broadcast::Sender<Arc<str>>,
    ended: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
) {
    while let Some(result) = results.next().await {
        if never_ran(&result) {
            break;
        }
        match serde_json::to_string(&result) {
            Ok(json) => {
                metrics.record_rendering();
                let _ = frames.send(json.into());
            }
            Err(err) => tracing::error!(%err, "a subscription result did not serialise"),
        }
    }
    ended.store(true, Relaxed);
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

/// One socket's operation.
struct Member {
    control: Arc<Control>,
    /// The socket's own run, until the resolver's events are taken out of it.
    own: Option<BoxStream<'static, Response>>,
    /// The resolver's events for this viewer (see `Control`), and how many were values. They
    /// are read with `events_waker`, which wakes the socket late (see `Lazy`).
    events: Option<BoxStream<'static, bool>>,
    events_waker: Waker,
    lazy: Arc<Lazy>,
    seen: u64,
    fanout: Arc<Fanout>,
    guarded: Guarded,
    parts: Arc<Parts>,
    session: Arc<Data>,
    joined: Option<Joined>,
    /// The own run ended: frames still owed are written until this instant.
    closing: Option<tokio::time::Instant>,
    failed_joins: u32,
    done: bool,
}

struct Joined {
    _group: Arc<Group>,
    frames: broadcast::Receiver<Arc<str>>,
    /// `Member::seen` when the socket joined.
    seen_before: u64,
    received: u64,
}

impl Member {
    async fn step(&mut self) -> Option<Outgoing> {
        let task = std::future::poll_fn(|cx| Poll::Ready(cx.waker().clone())).await;
        self.lazy.serve(task);
        loop {
            if self.done {
                return None;
            }
            if self.joined.is_none() && self.closing.is_none() {
                self.join();
            }
            self.read_events();
            if let Some(deadline) = self.closing {
                if self.owed() == 0 || tokio::time::Instant::now() >= deadline {
                    self.done = true;
                    return Some(Outgoing::End);
                }
            }
            let closing = self.closing;
            let lazy = self.lazy.clone();
            tokio::select! {
                biased;
                frame = next_frame(&mut self.joined) => match frame {
                    Ok(payload) => {
                        // Its own events first: a frame past their end is not this viewer's.
                        self.read_events();
                        if self.closing.is_some() && self.owed() == 0 {
                            self.done = true;
                            return Some(Outgoing::End);
                        }
                        self.failed_joins = 0;
                        if let Some(joined) = &mut self.joined {
                            joined.received += 1;
                        }
                        self.fanout.metrics.record_delivery();
                        return Some(Outgoing::Payload(payload));
                    }
                    Err(RecvError::Lagged(count)) => {
                        if let Some(joined) = &mut self.joined {
                            joined.received += count;
                        }
                        return Some(Outgoing::Response(self.missed(count)));
                    }
                    Err(RecvError::Closed) => {
                        self.joined = None;
                        self.failed_joins += 1;
                        if self.failed_joins > REJOINS || closing.is_some() {
                            self.done = true;
                            return Some(Outgoing::End);
                        }
                    }
                },
                result = next_of(&mut self.own), if self.events.is_none() && closing.is_none() => match result {
                    None => self.closing = Some(tokio::time::Instant::now() + OWED_WAIT),
                    Some(result) if never_ran(&result) => {
                        self.done = true;
                        return Some(Outgoing::Refused(result));
                    }
                    Some(result) => return Some(Outgoing::Response(result)),
                },
                _ = self.control.ready.notified(), if self.joined.is_none() && closing.is_none() => {}
                _ = lazy.due(), if closing.is_none() => {}
                _ = sleep_until(closing) => {}
            }
        }
    }

    /// Reads the socket's own events that have arrived, without waiting; the next one wakes the
    /// socket only after `DEFER` (a frame that comes first reads it).
    fn read_events(&mut self) {
        let Some(events) = &mut self.events else {
            return;
        };
        if self.closing.is_some() {
            return;
        }
        self.lazy.pending.store(false, Release);
        let mut cx = std::task::Context::from_waker(&self.events_waker);
        loop {
            match events.poll_next_unpin(&mut cx) {
                Poll::Ready(Some(value)) => self.seen += u64::from(value),
                Poll::Ready(None) => {
                    self.closing = Some(tokio::time::Instant::now() + OWED_WAIT);
                    return;
                }
                Poll::Pending => return,
            }
        }
    }

    /// Takes the resolver's events out of the own run, which is dropped, and joins the group for
    /// what the resolver established, once it has.
    fn join(&mut self) {
        if self.events.is_none() {
            let taken = self
                .control
                .events
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            if taken.is_some() {
                self.events = taken;
                self.own = None;
            }
        }
        let Some(established) = self.control.established.get() else {
            return;
        };
        let key = self.parts.key(established.audience.clone());
        let group = self
            .fanout
            .group(key, &self.parts, &self.guarded, &self.session);
        self.joined = Some(Joined {
            frames: group.template.resubscribe(),
            _group: group,
            seen_before: self.seen,
            received: 0,
        });
    }

    /// Frames the socket's own run says it is owed and has not received.
    fn owed(&self) -> u64 {
        self.joined.as_ref().map_or(0, |joined| {
            let seen = self.seen - joined.seen_before;
            seen.saturating_sub(joined.received)
        })
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

async fn next_frame(joined: &mut Option<Joined>) -> Result<Arc<str>, RecvError> {
    match joined {
        Some(joined) => joined.frames.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// The waker a socket reads its own events with. Most of them are followed within milliseconds by
/// the group's frame, which wakes the socket anyway; waking it for the event too would wake
/// thousands of sockets twice per message. So an event only marks the socket, and queues it to
/// be woken `DEFER` later in case no frame came first.
struct Lazy {
    /// An event arrived since the socket last read its own events.
    pending: AtomicBool,
    /// The socket's task.
    task: Mutex<Option<Waker>>,
    deferred: Arc<Deferred>,
}

impl Lazy {
    /// The task that serves the socket now.
    fn serve(&self, task: Waker) {
        let mut current = self.task.lock().unwrap_or_else(|p| p.into_inner());
        if !current.as_ref().is_some_and(|w| w.will_wake(&task)) {
            *current = Some(task);
        }
    }

    /// Ready when events arrived that the socket has not read.
    async fn due(&self) {
        std::future::poll_fn(|_| match self.pending.load(Acquire) {
            true => Poll::Ready(()),
            false => Poll::Pending,
        })
        .await
    }
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

/// Sockets to wake for their own events (see `Lazy`): one timer for all that are waiting.
#[derive(Default)]
struct Deferred {
    queue: Mutex<Vec<Weak<Lazy>>>,
}

impl Deferred {
    /// Wakes every queued socket that has not read its events since.
    fn fire(&self) {
        let due = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|p| p.into_inner()));
        for lazy in due.iter().filter_map(Weak::upgrade) {
            if lazy.pending.load(Acquire) {
                if let Some(task) = &*lazy.task.lock().unwrap_or_else(|p| p.into_inner()) {
                    task.wake_by_ref();
                }
            }
        }
    }
}
