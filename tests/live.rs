//! Subscriptions over WebSocket and the notifications they carry: both protocols, refusal at
//! `connection_init`, sockets that outlive their session, and every wired notification stored,
//! pushed live, read and marked by its owner only.

use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::ws::{NEW, OLD};
use crate::common::{code, Actor, TestApp};

const ADDED: &str =
    "subscription { notificationAdded { id kind title body isRead subjectType subjectId } }";

async fn start_service(app: &TestApp, staff: &Actor, unit: &str) -> String {
    let r = app
        .gql_as(&staff.access, "mutation($u: ID!) { createServiceRecord(input: { unitId: $u, description: \"Brakes\" }) { id } }", json!({ "u": unit }))
        .await;
    let id = r["data"]["createServiceRecord"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_string();
    set_status(app, staff, &id, "IN_PROGRESS").await;
    id
}

async fn set_status(app: &TestApp, who: &Actor, record: &str, status: &str) {
    let r = app
        .gql_as(&who.access, "mutation($id: ID!, $s: ServiceStatus!) { setServiceStatus(id: $id, status: $s) { id } }", json!({ "id": record, "s": status }))
        .await;
    assert!(r["errors"].is_null(), "{r}");
}

async fn unread(app: &TestApp, who: &Actor) -> i64 {
    let r = app
        .gql_as(&who.access, "{ unreadNotificationCount }", json!({}))
        .await;
    r["data"]["unreadNotificationCount"]
        .as_i64()
        .unwrap_or_else(|| panic!("{r}"))
}

fn added(payload: &Value) -> &Value {
    &payload["data"]["notificationAdded"]
}

#[tokio::test]
async fn both_protocols_deliver_a_service_notification_as_it_is_stored() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let owner = app.customer("owner@example.com").await;
    let unit = app.create_unit(&owner.access, json!({})).await;
    let mut new = app.live(NEW, &owner.access).await;
    let mut old = app.live(OLD, &owner.access).await;
    new.subscribe("n", ADDED, json!({})).await;
    old.subscribe("o", ADDED, json!({})).await;
    // Subscriptions start listening when the server has processed them; a query on each socket
    // would race, so give them a moment.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let record = start_service(&app, &admin, &unit).await;
    for (socket, id) in [(&mut new, "n"), (&mut old, "o")] {
        let payload = socket.data(id).await;
        let n = added(&payload);
        assert_eq!(n["kind"], "SERVICE_STATUS_CHANGED", "{payload}");
        assert_eq!(n["title"], "Service started");
        assert_eq!(n["subjectType"], "ServiceRecord");
        assert_eq!(n["subjectId"], record.as_str());
        assert_eq!(n["isRead"], false);
    }
    // Stored too, and the same one.
    let r = app
        .gql_as(
            &owner.access,
            "{ notifications(first: 10) { totalCount edges { node { id kind } } } }",
            json!({}),
        )
        .await;
    assert_eq!(r["data"]["notifications"]["totalCount"], 1, "{r}");
    assert_eq!(unread(&app, &owner).await, 1);
}

#[tokio::test]
async fn connection_init_refuses_no_token_a_bad_one_and_an_expired_one() {
    let app = TestApp::spawn().await;
    let user = app.customer("someone@example.com").await;
    let claims = app.state.jwt.verify(&user.access).unwrap();
    let past = Utc::now() - chrono::Duration::minutes(5);
    let expired = app
        .state
        .jwt
        .issue(
            claims.sub,
            &claims.role,
            claims.sid,
            past - chrono::Duration::minutes(15),
            past,
        )
        .unwrap();
    let cases = [
        (json!({}), 4401),
        (json!({ "Authorization": "Bearer nonsense" }), 4403),
        (json!({ "token": expired }), 4403),
        (
            json!({ "Authorization": format!("Basic {}", user.access) }),
            4401,
        ),
    ];
    for (payload, expected) in cases {
        let mut socket = app.socket(NEW).await;
        let reply = socket.init(payload.clone()).await;
        assert_eq!(reply["close"], expected, "{payload}: {reply}");
        // The older protocol answers with connection_error, then closes.
        let mut socket = app.socket(OLD).await;
        let reply = socket.init(payload.clone()).await;
        assert_eq!(reply["type"], "connection_error", "{payload}: {reply}");
        assert_eq!(socket.closed().await, expected, "{payload}");
    }
    // Both spellings of a good token are accepted.
    for payload in [
        json!({ "token": user.access }),
        json!({ "authorization": format!("Bearer {}", user.access) }),
    ] {
        let mut socket = app.socket(NEW).await;
        assert_eq!(socket.init(payload).await["type"], "connection_ack");
    }
    // A subscription before the acknowledgement is refused with 4401.
    let mut socket = app.socket(NEW).await;
    socket.subscribe("early", ADDED, json!({})).await;
    assert_eq!(socket.closed().await, 4401);
}

#[tokio::test]
async fn keep_alives_come_at_their_interval_in_both_protocols_beside_a_subscription() {
    let app = TestApp::spawn_with(&[("WS_KEEPALIVE_SECONDS", "1")]).await;
    let user = app.customer("kept@example.com").await;
    for protocol in [NEW, OLD] {
        let mut socket = app.live(protocol, &user.access).await;
        socket.subscribe("1", ADDED, json!({})).await;
        for _ in 0..3 {
            assert!(
                socket.keep_alive(Duration::from_millis(2500)).await,
                "{protocol}: a keep-alive each second"
            );
        }
        socket.close().await;
    }
}

#[tokio::test]
async fn a_socket_closes_when_its_session_ends_or_its_token_expires() {
    let app = TestApp::spawn_with(&[
        ("WS_SESSION_CHECK_SECONDS", "1"),
        ("SESSION_CACHE_MS", "0"),
        ("ACCESS_TOKEN_TTL_SECONDS", "8"),
    ])
    .await;
    let user = app.customer("leaving@example.com").await;
    let fresh = app.login_actor("leaving@example.com").await;
    let mut socket = app.live(NEW, &user.access).await;
    let mut other = app.live(OLD, &fresh.access).await;
    let r = app
        .gql_as(&user.access, "mutation { logout }", json!({}))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let started = std::time::Instant::now();
    assert_eq!(socket.closed().await, 4403);
    assert!(started.elapsed() < Duration::from_secs(3));
    // The other session's socket lives on until its token expires (8 s after it was issued).
    assert_eq!(other.closed().await, 4403);
}

#[tokio::test]
async fn sales_and_referral_credits_notify_and_only_the_owner_reads_a_notification() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let seller = app.staff(&admin).await;
    let (referrer, friend) = crate::referral_credit::referred_pair(&app, "live").await;
    let mut referrer_socket = app.live(NEW, &referrer.access).await;
    referrer_socket.subscribe("r", ADDED, json!({})).await;
    let mut seller_socket = app.live(NEW, &seller.access).await;
    seller_socket.subscribe("s", ADDED, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    // The admin sells dealership stock to the friend with `seller` as salesperson: the seller
    // hears of it, the friend's purchase credits the referrer, who hears of that.
    let stock = app.create_unit(&admin.access, json!({})).await;
    let r = app
        .gql_as(&admin.access, "mutation($u: ID!, $b: ID, $s: ID) { recordSale(input: { unitId: $u, price: \"1000\", soldOn: \"2026-01-01\", buyerName: \"B\", buyerId: $b, salespersonId: $s, paymentMethod: CASH }) { id } }", json!({ "u": stock, "b": friend.id, "s": seller.id }))
        .await;
    let sale = r["data"]["recordSale"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_string();
    let payload = seller_socket.data("s").await;
    assert_eq!(added(&payload)["kind"], "SALE_RECORDED");
    assert_eq!(added(&payload)["subjectId"], sale.as_str());
    let payload = referrer_socket.data("r").await;
    assert_eq!(added(&payload)["kind"], "REFERRAL_CREDITED");
    assert!(added(&payload)["body"].as_str().unwrap().contains("500"));

    // A private sale by an owner notifies nobody (they recorded it themselves).
    let own = app.create_unit(&friend.access, json!({})).await;
    let r = app
        .gql_as(&friend.access, "mutation($u: ID!) { recordSale(input: { unitId: $u, price: \"10\", soldOn: \"2026-01-01\", buyerName: \"B\", paymentMethod: CASH }) { id } }", json!({ "u": own }))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    assert_eq!(unread(&app, &friend).await, 0);

    // Reading: one by one, then all; nobody reads another's.
    let notification = added(&payload)["id"].as_str().unwrap().to_string();
    assert_eq!(unread(&app, &referrer).await, 1);
    let mark = "mutation($id: ID!) { markNotificationRead(id: $id) { id isRead readAt } }";
    for stranger in [&seller, &admin] {
        let r = app
            .gql_as(&stranger.access, mark, json!({ "id": notification }))
            .await;
        assert_eq!(code(&r), "NOT_FOUND", "{r}");
    }
    assert_eq!(unread(&app, &referrer).await, 1);
    let r = app
        .gql_as(&referrer.access, mark, json!({ "id": notification }))
        .await;
    assert_eq!(r["data"]["markNotificationRead"]["isRead"], true, "{r}");
    assert!(r["data"]["markNotificationRead"]["readAt"].is_string());
    assert_eq!(unread(&app, &referrer).await, 0);
    let r = app
        .gql_as(
            &referrer.access,
            mark,
            json!({ "id": Uuid::now_v7().to_string() }),
        )
        .await;
    assert_eq!(code(&r), "NOT_FOUND");

    // markAllNotificationsRead counts what it marked.
    let unit = app.create_unit(&friend.access, json!({})).await;
    let record = start_service(&app, &admin, &unit).await;
    set_status(&app, &admin, &record, "COMPLETED").await;
    assert_eq!(unread(&app, &friend).await, 2);
    let r = app
        .gql_as(&friend.access, "{ notifications(unreadOnly: true, first: 1) { edges { node { title } } pageInfo { hasNextPage } } }", json!({}))
        .await;
    assert_eq!(
        r["data"]["notifications"]["edges"][0]["node"]["title"], "Service completed",
        "{r}"
    );
    assert_eq!(r["data"]["notifications"]["pageInfo"]["hasNextPage"], true);
    let all = "mutation { markAllNotificationsRead }";
    let r = app.gql_as(&friend.access, all, json!({})).await;
    assert_eq!(r["data"]["markAllNotificationsRead"], 2, "{r}");
    assert_eq!(unread(&app, &friend).await, 0);
    let r = app.gql_as(&friend.access, all, json!({})).await;
    assert_eq!(r["data"]["markAllNotificationsRead"], 0);
}

#[tokio::test]
async fn a_customer_who_changes_their_own_service_is_not_notified_and_others_hear_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.customer("self@example.com").await;
    let stranger = app.customer("stranger@example.com").await;
    let unit = app.create_unit(&owner.access, json!({})).await;
    let mut watching = app.live(NEW, &stranger.access).await;
    watching.subscribe("x", ADDED, json!({})).await;
    let r = app
        .gql_as(&owner.access, "mutation($u: ID!) { createServiceRecord(input: { unitId: $u, description: \"Tyres\" }) { id } }", json!({ "u": unit }))
        .await;
    let record = r["data"]["createServiceRecord"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    set_status(&app, &owner, &record, "CANCELLED").await;
    assert_eq!(unread(&app, &owner).await, 0);
    assert!(watching.quiet_for(Duration::from_millis(500)).await);
}

/// `/graphql/ws` checks the handshake as a WebSocket server must: a plain GET and a version it
/// does not speak get 400; a client that names no subprotocol speaks graphql-transport-ws, and
/// none is confirmed.
#[tokio::test]
async fn the_socket_endpoint_checks_its_handshake() {
    use futures_util::{SinkExt, StreamExt};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_tungstenite::tungstenite::Message;

    let app = TestApp::spawn().await;
    let owner = app.customer("owner@example.com").await;
    let plain = reqwest::get(format!("{}/graphql/ws", app.base))
        .await
        .expect("an answer");
    assert_eq!(plain.status(), 400);

    let address = app.base.trim_start_matches("http://").to_string();
    let mut raw = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request = format!(
        "GET /graphql/ws HTTP/1.1\r\nHost: {address}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    raw.write_all(request.as_bytes()).await.unwrap();
    let mut answer = vec![0; 12];
    raw.read_exact(&mut answer).await.unwrap();
    assert_eq!(String::from_utf8_lossy(&answer), "HTTP/1.1 400");

    let url = format!("{}/graphql/ws", app.base.replacen("http", "ws", 1));
    let (mut socket, response) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert_eq!(response.status(), 101);
    assert!(response.headers().get("sec-websocket-protocol").is_none());
    let init = json!({ "type": "connection_init", "payload": { "token": owner.access } });
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .expect("an answer within 10 s");
    let Some(Ok(Message::Text(text))) = reply else {
        panic!("{reply:?}");
    };
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["type"], "connection_ack", "{reply}");
}
