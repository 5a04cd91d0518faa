//! Fan-out benchmark: N authenticated WebSocket subscribers, messages sent at a set rate, against
//! the release binary over real HTTP and WebSocket on loopback.
//!
//! - `--mode room` (default): N staff members subscribe to `messageAdded` of one support room (staff
//!   read every support room); its customer sends `--rate` messages per second, so each message is
//!   N deliveries. `--rooms K` spreads the N subscribers evenly over K such rooms, which the
//!   customer sends to in turn (each message is then N/K deliveries).
//! - `--mode rooms`: N customers, each subscribed to their own direct room with one staff member,
//!   who sends `--rate` messages per second round-robin over the rooms (one delivery each).
//!
//! Reported: deliveries per second while sending, deliveries lost (expected minus received),
//! p50/p99 latency from the start of the `sendMessage` request to receipt, the server's CPU time
//! per delivery (its own cost, whatever the client's), and the server's memory per idle
//! subscriber (resident memory after N subscribed sockets sat idle for 3 s, minus before, over N).
//! Users, sessions and rooms are inserted directly; tokens are signed with the server's secret
//! (20,000 Argon2 logins would take minutes).
//!
//! Run: `cargo bench --bench fanout -- [--subscribers 1000] [--mode room|rooms] [--rooms 1] [--rate 20]
//!       [--seconds 10] [--pg postgres://user@host:port/postgres] [--redis redis://127.0.0.1:6379]
//!       [--server-env NAME=VALUE]… [--no-subscribe] [--server PATH]` (settings for the server, e.g.
//!       `WS_SESSION_CHECK_SECONDS=60`; `--no-subscribe`: the sockets only authenticate, and the
//!       run ends after the memory reading: what a socket costs without a subscription; `--server`:
//!       the server binary to run instead of this build's, e.g. another commit's, to compare)
//! One process holds at most about as many sockets as its open-file limit (`ulimit -n`) allows:
//! the server and this client each hold N.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use autohub::accounts::entity::{session, user, AccountStatus, MembershipTier, Role};
use autohub::chat::entity::{member, room, ChatRoomKind};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};
use serde_json::json;
use uuid::Uuid;

#[path = "support/floor.rs"]
mod floor;
#[path = "support/lean_ws.rs"]
mod lean_ws;
use lean_ws::{Frame, LeanSocket};

/// About the size of the frames this bench receives (`{"type":"next","id":"1","payload":…}`).
const FRAME_BYTES: usize = 90;

const SECRET: &str = "bench-secret-bench-secret-bench-secret-0";

struct Args {
    subscribers: usize,
    one_room: bool,
    /// With `one_room`: how many rooms the subscribers are spread over.
    rooms: usize,
    rate: u64,
    seconds: u64,
    pg: Option<String>,
    redis: Option<String>,
    server_env: Vec<(String, String)>,
    /// False with `--no-subscribe`: sockets only connect and authenticate (their memory alone).
    subscribe: bool,
    /// `--server PATH`: another build of the server to measure (another commit's, to compare).
    server: Option<String>,
}

fn args() -> Args {
    let all: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        all.iter()
            .position(|a| a == name)
            .and_then(|i| all.get(i + 1))
            .cloned()
    };
    let number =
        |name: &str, default: u64| value(name).and_then(|v| v.parse().ok()).unwrap_or(default);
    Args {
        subscribers: number("--subscribers", 1000) as usize,
        one_room: value("--mode").as_deref() != Some("rooms"),
        rooms: number("--rooms", 1).max(1) as usize,
        rate: number("--rate", 20).max(1),
        seconds: number("--seconds", 10).max(1),
        pg: value("--pg"),
        redis: value("--redis"),
        subscribe: !all.iter().any(|a| a == "--no-subscribe"),
        server: value("--server"),
        server_env: all
            .windows(2)
            .filter(|w| w[0] == "--server-env")
            .filter_map(|w| w[1].split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn person(i: usize, role: Role, now: chrono::DateTime<chrono::Utc>) -> user::Model {
    user::Model {
        id: Uuid::now_v7(),
        email: format!("fan{i}@example.com"),
        password_hash: "!".into(),
        first_name: "Fan".into(),
        last_name: format!("{i}"),
        phone: None,
        phone_verified: false,
        role,
        status: AccountStatus::Active,
        email_verified: true,
        date_of_birth: None,
        address: None,
        zip_code: None,
        bio: None,
        avatar_path: None,
        membership_tier: MembershipTier::None,
        referral_code: format!("FAN-{i:06}"),
        rewards_balance: 0,
        accepted_terms_version: None,
        last_seen_at: None,
        created_at: now,
        updated_at: now,
        // Filled by the server when it starts (see src/search.rs).
        search_text: None,
    }
}

async fn insert_chunks<A>(db: &DatabaseConnection, rows: Vec<A>)
where
    A: sea_orm::ActiveModelTrait + Send,
    <A::Entity as EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    let mut rows = rows;
    while !rows.is_empty() {
        let chunk: Vec<A> = rows.drain(..rows.len().min(200)).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(db)
            .await
            .expect("bulk insert");
    }
}

fn new_room(kind: ChatRoomKind, by: Uuid, customer: Option<Uuid>) -> room::Model {
    let now = autohub::clock::now();
    room::Model {
        id: Uuid::now_v7(),
        kind,
        title: "Fan-out".into(),
        description: None,
        is_active: true,
        is_private: false,
        subject_type: None,
        subject_id: None,
        customer_id: customer,
        created_by: by,
        open_key: None,
        last_seq: 0,
        last_activity_at: now,
        created_at: now,
        updated_at: now,
    }
}

fn joined(room_id: Uuid, user_id: Uuid) -> member::ActiveModel {
    member::Model {
        room_id,
        user_id,
        added_by: None,
        joined_at: autohub::clock::now(),
        last_read_seq: 0,
        last_read_at: None,
    }
    .into()
}

/// What the bench needs after seeding: the sender's token and rooms, each subscriber's token and
/// room.
struct Seeded {
    sender: String,
    sender_rooms: Vec<Uuid>,
    subscribers: Vec<(String, Uuid)>,
}

async fn seed(database_url: &str, args: &Args) -> Seeded {
    let db = sea_orm::Database::connect(database_url)
        .await
        .expect("connect");
    Migrator::up(&db, None).await.expect("migrate");
    let now = autohub::clock::now();
    let keys = autohub::auth::jwt::JwtKeys::new(SECRET);
    let n = args.subscribers;
    let (sender_role, subscriber_role) = if args.one_room {
        (Role::Customer, Role::Staff)
    } else {
        (Role::Staff, Role::Customer)
    };
    let sender = person(0, sender_role, now);
    let people: Vec<user::Model> = (1..=n).map(|i| person(i, subscriber_role, now)).collect();
    let mut users = vec![sender.clone()];
    users.extend(people.iter().cloned());
    let mut sessions = Vec::new();
    let mut tokens = Vec::new();
    for u in &users {
        let sid = Uuid::now_v7();
        sessions.push(session::ActiveModel::from(session::Model {
            id: sid,
            user_id: u.id,
            device_name: Some("fan-out bench".into()),
            user_agent: None,
            ip_address: None,
            created_at: now,
            last_used_at: now,
            expires_at: now + chrono::Duration::hours(2),
            revoked_at: None,
        }));
        let role = sea_orm::ActiveEnum::to_value(&u.role);
        tokens.push(
            keys.issue(u.id, &role, sid, now, now + chrono::Duration::hours(2))
                .expect("token"),
        );
    }
    insert_chunks(
        &db,
        users
            .into_iter()
            .map(user::ActiveModel::from)
            .collect::<Vec<_>>(),
    )
    .await;
    insert_chunks(&db, sessions).await;
    let (sender_rooms, subscriber_rooms) = if args.one_room {
        let rooms: Vec<room::Model> = (0..args.rooms)
            .map(|_| new_room(ChatRoomKind::Support, sender.id, Some(sender.id)))
            .collect();
        let ids: Vec<Uuid> = rooms.iter().map(|r| r.id).collect();
        insert_chunks(
            &db,
            rooms
                .into_iter()
                .map(room::ActiveModel::from)
                .collect::<Vec<_>>(),
        )
        .await;
        insert_chunks(&db, ids.iter().map(|id| joined(*id, sender.id)).collect()).await;
        let spread = (0..n).map(|i| ids[i % ids.len()]).collect();
        (ids, spread)
    } else {
        let rooms: Vec<room::Model> = people
            .iter()
            .map(|_| new_room(ChatRoomKind::Direct, sender.id, None))
            .collect();
        let ids: Vec<Uuid> = rooms.iter().map(|r| r.id).collect();
        let mut members = Vec::new();
        for (room_id, p) in ids.iter().zip(&people) {
            members.push(joined(*room_id, sender.id));
            members.push(joined(*room_id, p.id));
        }
        insert_chunks(
            &db,
            rooms
                .into_iter()
                .map(room::ActiveModel::from)
                .collect::<Vec<_>>(),
        )
        .await;
        insert_chunks(&db, members).await;
        (ids.clone(), ids)
    };
    let mut tokens = tokens.into_iter();
    let sender = tokens.next().expect("sender token");
    Seeded {
        sender,
        sender_rooms,
        subscribers: tokens.zip(subscriber_rooms).collect(),
    }
}

/// CPU time the process has used (user and system), in clock ticks (`/proc/PID/stat`).
fn cpu_ticks(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // Fields after the command name (which may hold spaces): utime and stime are the
            // 12th and 13th of them.
            let rest = &stat[stat.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn micros_now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_micros()).unwrap_or(0)
}

/// One subscriber: connects, authenticates, subscribes to `room` (unless none is given), then
/// records the latency of each message (its body carries the moment its request was started) until
/// told to stop. It speaks through `LeanSocket`, so that the clients take as little of the
/// server's CPU as they can.
async fn subscriber(
    address: String,
    token: String,
    room: Option<Uuid>,
    subscribed: Arc<AtomicU64>,
    received: Arc<AtomicU64>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    connecting: tokio::sync::OwnedSemaphorePermit,
) -> Vec<u32> {
    let mut socket = LeanSocket::connect(&address, "/graphql/ws", "graphql-transport-ws")
        .await
        .expect("connect");
    let init = json!({ "type": "connection_init", "payload": { "token": token } });
    socket.send_text(&init.to_string()).await.expect("init");
    match socket.next().await.expect("ack") {
        Frame::Text(text) => {
            let text = String::from_utf8_lossy(text);
            assert!(text.contains("connection_ack"), "{text}");
        }
        Frame::Closed => panic!("closed before connection_ack"),
    }
    if let Some(room) = room {
        let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription($r: ID!) { messageAdded(roomId: $r) { body } }",
            "variables": { "r": room } } });
        socket
            .send_text(&subscribe.to_string())
            .await
            .expect("subscribe");
    }
    subscribed.fetch_add(1, Ordering::Relaxed);
    drop(connecting);
    let mut latencies = Vec::new();
    // One wait for the stop, not one per message (this client shares the cores with the server).
    let stopping = stop.changed();
    tokio::pin!(stopping);
    loop {
        let text = tokio::select! {
            biased;
            frame = socket.next() => match frame {
                Ok(Frame::Text(text)) => text,
                _ => break,
            },
            _ = &mut stopping => break,
        };
        if let Some(at) = text.windows(2).position(|w| w == b"t:") {
            let digits = &text[at + 2..];
            let digits = &digits[..digits.iter().take_while(|b| b.is_ascii_digit()).count()];
            let sent = std::str::from_utf8(digits)
                .ok()
                .and_then(|d| d.parse::<u64>().ok());
            if let Some(sent) = sent {
                let micros = micros_now().saturating_sub(sent);
                latencies.push(u32::try_from(micros).unwrap_or(u32::MAX));
                received.fetch_add(1, Ordering::Relaxed);
            }
        } else if text.windows(6).any(|w| w == b"\"ping\"") {
            let _ = socket.send_text(r#"{"type":"pong"}"#).await;
        }
    }
    latencies
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

#[tokio::main]
async fn main() {
    let args = args();
    let dir = std::env::temp_dir().join(format!("autohub-fanout-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let database_url = match &args.pg {
        None => format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
        Some(server) => {
            let name = format!("autohub_fanout_{}", Uuid::now_v7().simple());
            let admin = sea_orm::Database::connect(server.as_str())
                .await
                .expect("connect --pg");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create the bench database");
            let mut url = url::Url::parse(server).expect("--pg is a URL");
            url.set_path(&format!("/{name}"));
            url.to_string()
        }
    };
    let seeded = seed(&database_url, &args).await;

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let binary = args
        .server
        .clone()
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_autohub").to_string());
    let mut command = tokio::process::Command::new(binary);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &database_url)
        .env("PORT", port.to_string())
        .env("RUST_LOG", "error")
        .env("JWT_SECRET", SECRET)
        .env("MEDIA_DIR", dir.join("media"))
        .env("MAIL_DIR", dir.join("mail"))
        .current_dir(&dir)
        .kill_on_drop(true);
    if let Some(redis) = &args.redis {
        command.env("REDIS_URL", redis);
    }
    command.envs(args.server_env.iter().map(|(k, v)| (k, v)));
    let server = command.spawn().expect("the release binary starts");
    let pid = server.id().expect("server pid");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client
        .get(format!("{base}/ready"))
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(started.elapsed() < Duration::from_secs(60), "no server");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = rss_kib(pid);

    let n = seeded.subscribers.len();
    // How many subscribers each room has: a message to it is that many deliveries.
    let mut listeners: std::collections::HashMap<Uuid, u64> = std::collections::HashMap::new();
    for (_, room) in &seeded.subscribers {
        *listeners.entry(*room).or_default() += 1;
    }
    let listeners = Arc::new(listeners);
    let subscribed = Arc::new(AtomicU64::new(0));
    let received = Arc::new(AtomicU64::new(0));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let address = format!("127.0.0.1:{port}");
    let connecting = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(256));
    let mut handles = Vec::with_capacity(n);
    for (token, room) in seeded.subscribers {
        // At most 256 sockets connect at a time; each lets go once subscribed.
        let permit = gate.clone().acquire_owned().await.expect("gate");
        handles.push(tokio::spawn(subscriber(
            address.clone(),
            token,
            args.subscribe.then_some(room),
            subscribed.clone(),
            received.clone(),
            stopped.clone(),
            permit,
        )));
    }
    while subscribed.load(Ordering::Relaxed) < n as u64 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "{n} subscribers connected, authenticated and subscribed in {:.1} s",
        connecting.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_idle = rss_kib(pid);
    println!(
        "server memory: {} MiB before, {} MiB with {n} idle subscribers: {:.1} KiB per subscriber",
        rss_before / 1024,
        rss_idle / 1024,
        rss_idle.saturating_sub(rss_before) as f64 / n as f64
    );
    if !args.subscribe {
        return;
    }

    // Send at the set rate for the set time.
    let send = "mutation($r: ID!, $b: String!) { sendMessage(roomId: $r, body: $b) { id } }";
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let total = args.rate * args.seconds;
    let sending = Instant::now();
    let ticks_before = cpu_ticks(pid);
    let mut sends = Vec::new();
    let sent_ok = Arc::new(AtomicU64::new(0));
    let expected = Arc::new(AtomicU64::new(0));
    for i in 0..total {
        tick.tick().await;
        let room = seeded.sender_rooms[i as usize % seeded.sender_rooms.len()];
        let (client, base, token, sent_ok, expected, listeners) = (
            client.clone(),
            base.clone(),
            seeded.sender.clone(),
            sent_ok.clone(),
            expected.clone(),
            listeners.clone(),
        );
        sends.push(tokio::spawn(async move {
            let body = format!("t:{}", micros_now());
            let r = client
                .post(format!("{base}/graphql"))
                .bearer_auth(token)
                .json(&json!({ "query": send, "variables": { "r": room, "b": body } }))
                .send()
                .await;
            if let Ok(r) = r {
                if let Ok(v) = r.json::<serde_json::Value>().await {
                    if v["errors"].is_null() {
                        sent_ok.fetch_add(1, Ordering::Relaxed);
                        let to = listeners.get(&room).copied().unwrap_or(0);
                        expected.fetch_add(to, Ordering::Relaxed);
                    } else {
                        eprintln!("send failed: {v}");
                    }
                }
            }
        }));
    }
    for s in sends {
        let _ = s.await;
    }
    let send_time = sending.elapsed();
    let expected = expected.load(Ordering::Relaxed);
    // Let stragglers arrive (at most 10 s).
    let waiting = Instant::now();
    while received.load(Ordering::Relaxed) < expected && waiting.elapsed() < Duration::from_secs(10)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delivery_time = sending.elapsed();
    let server_ticks = cpu_ticks(pid).saturating_sub(ticks_before);
    let _ = stop.send(true);
    let mut latencies = Vec::new();
    for h in handles {
        if let Ok(l) = h.await {
            latencies.extend(l);
        }
    }
    latencies.sort_unstable();
    let got = latencies.len() as u64;
    println!(
        "mode {}: {} messages sent in {:.1} s ({:.0}/s), {} deliveries expected, {} received, {} lost",
        if !args.one_room {
            "a room each".to_string()
        } else if args.rooms == 1 {
            "one room".to_string()
        } else {
            format!("{} rooms", args.rooms)
        },
        sent_ok.load(Ordering::Relaxed),
        send_time.as_secs_f64(),
        sent_ok.load(Ordering::Relaxed) as f64 / send_time.as_secs_f64(),
        expected,
        got,
        expected.saturating_sub(got)
    );
    println!(
        "deliveries per second: {:.0} (received over {:.1} s from the first send to the last receipt); latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        got as f64 / delivery_time.as_secs_f64(),
        delivery_time.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
    );
    // Clock ticks are 1/100 s on Linux.
    println!(
        "server CPU while sending and delivering: {:.2} s, {:.1} µs per delivery",
        server_ticks as f64 / 100.0,
        server_ticks as f64 * 10_000.0 / got.max(1) as f64
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    // The kernel's share alone, measured now that the server is gone (see `floor`).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if let Ok((send, read)) = floor::loopback_costs(n.min(2000), FRAME_BYTES).await {
        let per_message = n as f64 / listeners.len() as f64 * (send + read) / 1000.0;
        println!(
            "machine floor: a {FRAME_BYTES}-byte frame costs {send:.1} µs to send and {read:.1} µs to read over loopback TCP; \
             one message to {:.0} sockets needs {per_message:.1} ms of CPU, at least {:.1} ms on {cores} cores",
            n as f64 / listeners.len() as f64,
            per_message / cores as f64
        );
    }
}
