//! The publish/subscribe layer: services publish events to topics (a user, a room) after their
//! transaction commits; subscriptions listen to topics.
//!
//! Delivery is local: one bounded broadcast channel per topic that someone listens to, created by
//! the first subscriber and dropped with the last, so publishing to a topic nobody listens to costs
//! a map lookup. A subscriber that falls more than `capacity` events behind is told how many it
//! missed and carries on; publishers never wait for subscribers.
//!
//! With Redis (`REDIS_URL`), an event is delivered locally at once and also published, in order,
//! on one Redis channel by one publishing task; each process keeps ONE subscribing connection to
//! that channel and hands what other processes published to its local topics. When Redis goes
//! away, publishing retries with backoff (holding what waits, never blocking the publisher) and the
//! subscription is re-made with backoff; `/ready` says 503 meanwhile.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use futures_util::Stream;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

/// Who an event is addressed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Topic {
    /// Everything addressed to one user, across rooms.
    User(Uuid),
    /// Everything that happens in one chat room.
    Room(Uuid),
    /// Sessions ended or roles changed somewhere (between instances).
    Sessions,
    /// Push notifications were queued (wakes the delivery of every instance).
    Push,
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => write!(f, "user:{id}"),
            Self::Room(id) => write!(f, "room:{id}"),
            Self::Sessions => f.write_str("sessions"),
            Self::Push => f.write_str("push"),
        }
    }
}

/// A domain's events (`chat::events::ChatEvent`, `notifications::events::NotificationEvent` …):
/// its own types, serialised on the wire between instances under a kind and a version. A change
/// of a payload that older instances could not read bumps `VERSION`; an instance ignores (and
/// logs) a version it does not know instead of misreading it.
pub trait DomainEvent: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The name of the domain's events on the wire.
    const KIND: &'static str;
    const VERSION: u32;
}

/// An event on its way to subscribers: published here (typed), or heard from another instance
/// (read from its wire form the first time a subscriber asks, once for all subscribers).
pub struct Event {
    kind: String,
    version: u32,
    typed: OnceLock<Option<Box<dyn Any + Send + Sync>>>,
    wire: Option<serde_json::Value>,
    /// Writes the typed value in wire form (for Redis).
    encode: Option<fn(&(dyn Any + Send + Sync)) -> Option<serde_json::Value>>,
}

fn encode<E: DomainEvent>(value: &(dyn Any + Send + Sync)) -> Option<serde_json::Value> {
    let event = value.downcast_ref::<E>()?;
    serde_json::to_value(event)
        .map_err(|err| tracing::error!(%err, kind = E::KIND, "an event could not be encoded"))
        .ok()
}

impl Event {
    pub fn new<E: DomainEvent>(event: E) -> Self {
        Self {
            kind: E::KIND.to_string(),
            version: E::VERSION,
            typed: OnceLock::from(Some(Box::new(event) as Box<dyn Any + Send + Sync>)),
            wire: None,
            encode: Some(encode::<E>),
        }
    }

    /// The event as `E`, when it is one of `E`'s kind and version.
    pub fn get<E: DomainEvent>(&self) -> Option<&E> {
        if self.kind != E::KIND {
            return None;
        }
        // Read once for every subscriber of this event, so whatever is logged is logged once.
        let typed = self.typed.get_or_init(|| {
            if self.version != E::VERSION {
                tracing::warn!(
                    kind = E::KIND,
                    version = self.version,
                    "an event of an unknown version was ignored"
                );
                return None;
            }
            let wire = self.wire.clone()?;
            match serde_json::from_value::<E>(wire) {
                Ok(event) => Some(Box::new(event)),
                Err(err) => {
                    tracing::warn!(%err, kind = E::KIND, "an event from another instance was unreadable");
                    None
                }
            }
        });
        typed.as_ref()?.downcast_ref::<E>()
    }

    fn wire_form(&self) -> Option<serde_json::Value> {
        if let Some(wire) = &self.wire {
            return Some(wire.clone());
        }
        let typed = self.typed.get()?.as_ref()?;
        (self.encode?)(typed.as_ref())
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Event({} v{})", self.kind, self.version)
    }
}

/// Conversions both ways between an event's payload and the model it mirrors: the listed fields
/// are copied, and the model's other fields take the given values when a payload becomes a model.
/// The payload stays its own type (the wire format), without repeating the copying by hand.
#[macro_export]
macro_rules! mirror {
    ($payload:ty, $model:ty, [$($field:ident),+ $(,)?], {$($other:ident: $value:expr),* $(,)?}) => {
        impl From<$model> for $payload {
            fn from(m: $model) -> Self {
                Self { $($field: m.$field,)+ }
            }
        }

        impl From<$payload> for $model {
            fn from(p: $payload) -> Self {
                Self { $($field: p.$field,)+ $($other: $value,)* }
            }
        }
    };
}

/// Events waiting for their transaction to commit. Services put what their transaction makes
/// true here and publish it once the commit succeeded, so nothing is announced that did not
/// happen; `#[must_use]` keeps an outbox from being dropped unpublished by accident.
#[must_use = "publish the events once the transaction commits"]
#[derive(Default, Debug)]
pub struct Outbox(Vec<(Topic, Event)>);

impl Outbox {
    /// An outbox holding one event.
    pub fn of<E: DomainEvent>(topic: Topic, event: E) -> Self {
        let mut outbox = Self::default();
        outbox.push(topic, event);
        outbox
    }

    pub fn push<E: DomainEvent>(&mut self, topic: Topic, event: E) {
        self.0.push((topic, Event::new(event)));
    }

    pub fn extend(&mut self, other: Outbox) {
        self.0.extend(other.0);
    }

    /// Delivers every event, in order. Call after the commit.
    pub fn publish(self, events: &Events) {
        for (topic, event) in self.0 {
            events.publish(topic, event);
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What a subscriber receives: an event, or word that it fell behind and missed some.
#[derive(Debug, Clone)]
pub enum Delivery {
    Event(Arc<Event>),
    Missed(u64),
}

/// Cheap to clone; every clone publishes to and subscribes from the same topics.
#[derive(Clone)]
pub struct Events {
    hub: Arc<Hub>,
    redis: Option<Arc<RedisBus>>,
}

/// The Redis side: where to publish, and whether the subscription is up.
struct RedisBus {
    instance: Uuid,
    outgoing: tokio::sync::mpsc::Sender<Vec<u8>>,
    subscribed: Arc<AtomicBool>,
}

/// One event on the wire between processes.
#[derive(Serialize, Deserialize)]
struct Envelope {
    from: Uuid,
    topic: Topic,
    kind: String,
    version: u32,
    event: serde_json::Value,
}

/// The Redis channel every process publishes to and listens on.
const CHANNEL: &str = "autohub:events";
/// Events waiting for Redis before new ones are dropped (and logged).
const OUTGOING_BUFFER: usize = 100_000;
const MAX_BACKOFF: Duration = Duration::from_secs(2);

struct Hub {
    topics: Mutex<HashMap<Topic, broadcast::Sender<Arc<Event>>>>,
    capacity: usize,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, HashMap<Topic, broadcast::Sender<Arc<Event>>>> {
        self.topics.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands an event to the topic's current subscribers, if any.
    fn deliver(&self, topic: Topic, event: Arc<Event>) {
        let sender = self.lock().get(&topic).cloned();
        if let Some(sender) = sender {
            // An error only means the last subscriber just left.
            let _ = sender.send(event);
        }
    }
}

impl Events {
    /// In-process events; `capacity` is how far a subscriber may fall behind before it misses
    /// events.
    pub fn in_process(capacity: usize) -> Self {
        Self {
            hub: Arc::new(Hub {
                topics: Mutex::default(),
                capacity: capacity.max(1),
            }),
            redis: None,
        }
    }

    /// Events shared with other processes through Redis. Fails when Redis does not answer now;
    /// later outages are ridden out (see the module's comment).
    pub async fn with_redis(capacity: usize, url: &str) -> Result<Self, String> {
        let client =
            redis::Client::open(url).map_err(|e| format!("REDIS_URL: cannot use it: {e}"))?;
        let publisher = client
            .get_connection_manager()
            .await
            .map_err(|e| format!("Redis is not reachable: {e}"))?;
        let mut first = client
            .get_async_pubsub()
            .await
            .map_err(|e| format!("Redis is not reachable: {e}"))?;
        first
            .subscribe(CHANNEL)
            .await
            .map_err(|e| format!("Redis refused the subscription: {e}"))?;
        let local = Self::in_process(capacity);
        let (outgoing, queue) = tokio::sync::mpsc::channel(OUTGOING_BUFFER);
        let subscribed = Arc::new(AtomicBool::new(true));
        let instance = Uuid::now_v7();
        tokio::spawn(publish_in_order(publisher, queue));
        tokio::spawn(listen(
            client,
            first,
            instance,
            local.hub.clone(),
            subscribed.clone(),
        ));
        Ok(Self {
            redis: Some(Arc::new(RedisBus {
                instance,
                outgoing,
                subscribed,
            })),
            ..local
        })
    }

    /// False while events from other processes cannot arrive (Redis lost, not yet re-subscribed).
    pub fn is_connected(&self) -> bool {
        self.redis
            .as_ref()
            .is_none_or(|bus| bus.subscribed.load(Ordering::Acquire))
    }

    /// Publishes one event (through an `Outbox`, after the commit that made it true).
    fn publish(&self, topic: Topic, event: Event) {
        if let Some(bus) = &self.redis {
            let envelope = event.wire_form().map(|wire| Envelope {
                from: bus.instance,
                topic,
                kind: event.kind.clone(),
                version: event.version,
                event: wire,
            });
            let sent = match envelope.map(|e| serde_json::to_vec(&e)) {
                Some(Ok(bytes)) => bus.outgoing.try_send(bytes).is_ok(),
                Some(Err(err)) => {
                    tracing::error!(%err, "an event could not be encoded");
                    true
                }
                None => true,
            };
            if !sent {
                tracing::warn!(%topic, "Redis is behind: an event for other instances was dropped");
            }
        }
        self.hub.deliver(topic, Arc::new(event));
    }

    /// Listens to a topic from now on.
    pub fn subscribe(&self, topic: Topic) -> impl Stream<Item = Delivery> + Send + 'static {
        let receiver = {
            let mut topics = self.hub.lock();
            let sender = topics
                .entry(topic)
                .or_insert_with(|| broadcast::channel(self.hub.capacity).0);
            Listener {
                receiver: sender.subscribe(),
                topic,
                hub: self.hub.clone(),
            }
        };
        futures_util::stream::unfold(receiver, |mut listener| async move {
            let delivery = match listener.receiver.recv().await {
                Ok(event) => Delivery::Event(event),
                Err(broadcast::error::RecvError::Lagged(missed)) => Delivery::Missed(missed),
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            Some((delivery, listener))
        })
    }

    /// How many topics have listeners (for tests and `/metrics`).
    pub fn topics(&self) -> usize {
        self.hub.lock().len()
    }
}

/// Publishes queued events one after another, so other processes see them in publish order;
/// while Redis is away the current one is retried with backoff.
async fn publish_in_order(
    mut redis: redis::aio::ConnectionManager,
    mut queue: tokio::sync::mpsc::Receiver<Vec<u8>>,
) {
    while let Some(payload) = queue.recv().await {
        let mut backoff = Duration::from_millis(50);
        loop {
            let sent: redis::RedisResult<()> = redis::cmd("PUBLISH")
                .arg(CHANNEL)
                .arg(&payload)
                .query_async(&mut redis)
                .await;
            match sent {
                Ok(()) => break,
                Err(err) => {
                    tracing::warn!(%err, "publishing to Redis failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}

/// The process's one subscribing connection: hands other processes' events to local topics,
/// and subscribes again with backoff whenever the connection is lost.
async fn listen(
    client: redis::Client,
    first: redis::aio::PubSub,
    me: Uuid,
    hub: Arc<Hub>,
    subscribed: Arc<AtomicBool>,
) {
    use futures_util::StreamExt;
    let mut current = Some(first);
    let mut backoff = Duration::from_millis(50);
    loop {
        let pubsub = match current.take() {
            Some(pubsub) => Some(pubsub),
            None => resubscribe(&client).await,
        };
        if let Some(pubsub) = pubsub {
            subscribed.store(true, Ordering::Release);
            backoff = Duration::from_millis(50);
            let mut messages = pubsub.into_on_message();
            while let Some(message) = messages.next().await {
                match serde_json::from_slice::<Envelope>(message.get_payload_bytes()) {
                    Ok(envelope) if envelope.from != me => {
                        let event = Event {
                            kind: envelope.kind,
                            version: envelope.version,
                            typed: OnceLock::new(),
                            wire: Some(envelope.event),
                            encode: None,
                        };
                        hub.deliver(envelope.topic, Arc::new(event));
                    }
                    Ok(_) => {}
                    Err(err) => tracing::warn!(%err, "an event from Redis was unreadable"),
                }
            }
            subscribed.store(false, Ordering::Release);
            tracing::warn!("the Redis subscription was lost; subscribing again");
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn resubscribe(client: &redis::Client) -> Option<redis::aio::PubSub> {
    let mut pubsub = client
        .get_async_pubsub()
        .await
        .map_err(|err| tracing::warn!(%err, "Redis is not reachable for the subscription"))
        .ok()?;
    pubsub
        .subscribe(CHANNEL)
        .await
        .map_err(|err| tracing::warn!(%err, "subscribing to Redis failed"))
        .ok()?;
    Some(pubsub)
}

/// One subscriber's end of a topic; the topic goes away with its last listener.
struct Listener {
    receiver: broadcast::Receiver<Arc<Event>>,
    topic: Topic,
    hub: Arc<Hub>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let mut topics = self.hub.lock();
        // Under the lock no one can subscribe meanwhile; this listener still counts itself.
        if topics
            .get(&self.topic)
            .is_some_and(|sender| sender.receiver_count() <= 1)
        {
            topics.remove(&self.topic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Said(String);

    impl DomainEvent for Said {
        const KIND: &'static str = "test";
        const VERSION: u32 = 1;
    }

    #[derive(Debug, Serialize, Deserialize)]
    struct Other;

    impl DomainEvent for Other {
        const KIND: &'static str = "other";
        const VERSION: u32 = 1;
    }

    fn publish(events: &Events, topic: Topic, n: i32) {
        Outbox::of(topic, Said(format!("n{n}"))).publish(events);
    }

    fn title(delivery: Option<Delivery>) -> String {
        match delivery {
            Some(Delivery::Event(e)) => match e.get::<Said>() {
                Some(Said(text)) => text.clone(),
                None => format!("{e:?}"),
            },
            other => format!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn each_subscriber_gets_each_event_of_its_topic_in_order() {
        let events = Events::in_process(16);
        let me = Topic::User(Uuid::now_v7());
        let other = Topic::User(Uuid::now_v7());
        let mut a = Box::pin(events.subscribe(me));
        let mut b = Box::pin(events.subscribe(me));
        publish(&events, other, 0);
        publish(&events, me, 1);
        publish(&events, me, 2);
        for s in [&mut a, &mut b] {
            assert_eq!(title(s.next().await), "n1");
            assert_eq!(title(s.next().await), "n2");
        }
    }

    #[tokio::test]
    async fn topics_exist_only_while_someone_listens() {
        let events = Events::in_process(16);
        let me = Topic::User(Uuid::now_v7());
        publish(&events, me, 1);
        assert_eq!(events.topics(), 0);
        let a = events.subscribe(me);
        let b = events.subscribe(me);
        assert_eq!(events.topics(), 1);
        drop(a);
        assert_eq!(events.topics(), 1);
        drop(b);
        assert_eq!(events.topics(), 0);
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_told_what_it_missed_and_publishers_do_not_wait() {
        let events = Events::in_process(4);
        let me = Topic::User(Uuid::now_v7());
        let mut slow = Box::pin(events.subscribe(me));
        for n in 0..10 {
            publish(&events, me, n);
        }
        match slow.next().await {
            Some(Delivery::Missed(n)) => assert_eq!(n, 6),
            other => panic!("expected a missed count, got {other:?}"),
        }
        assert_eq!(title(slow.next().await), "n6");
    }

    #[test]
    fn an_event_is_read_as_its_own_kind_and_version_only() {
        let local = Event::new(Said("hi".into()));
        assert_eq!(local.get::<Said>(), Some(&Said("hi".into())));
        assert!(local.get::<Other>().is_none());
        let wire = local.wire_form().expect("encodes");
        let heard = |version| Event {
            kind: "test".into(),
            version,
            typed: OnceLock::new(),
            wire: Some(wire.clone()),
            encode: None,
        };
        assert_eq!(heard(1).get::<Said>(), Some(&Said("hi".into())));
        assert!(heard(2).get::<Said>().is_none());
    }
}
