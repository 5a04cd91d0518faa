//! Push notifications through a fake gateway on loopback: one POST per device of a recipient
//! without an open socket, none while they have one; 410 removes a device; retries deliver once,
//! also across a restart; a token moves to whoever registers it; signing out removes devices.

use std::collections::BTreeSet;
use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::EntityTrait;
use serde_json::{json, Value};

use crate::bookings::{at, book_drive, listed_unit, local_day};
use crate::common::fake::{Fake, Seen};
use crate::common::{Actor, TestApp};
use autohub::devices::entity::push_job;

const REGISTER: &str = "mutation($t: String!, $p: DevicePlatform!, $n: String) { registerDevice(token: $t, platform: $p, name: $n) { id platform name } }";

async fn register(app: &TestApp, who: &Actor, token: &str, platform: &str) {
    let r = app
        .gql_as(
            &who.access,
            REGISTER,
            json!({ "t": token, "p": platform, "n": token }),
        )
        .await;
    assert_eq!(r["data"]["registerDevice"]["platform"], platform, "{r}");
}

/// The names (here: the tokens) of `who`'s devices.
async fn devices(app: &TestApp, who: &Actor) -> Vec<String> {
    let r = app
        .gql_as(&who.access, "{ myDevices { name } }", json!({}))
        .await;
    r["data"]["myDevices"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect()
}

async fn booked(app: &TestApp, who: &Actor, unit: &str, hour: u32) {
    let r = book_drive(app, who, unit, &at(local_day(2), hour, 0)).await;
    assert!(r["errors"].is_null(), "{r}");
}

fn tokens(seen: &[Seen]) -> BTreeSet<String> {
    seen.iter()
        .map(|s| s.body["token"].as_str().unwrap().to_string())
        .collect()
}

async fn quiet(gateway: &Fake, n: usize, wait: Duration) {
    tokio::time::sleep(wait).await;
    assert_eq!(gateway.seen().len(), n, "{:?}", gateway.seen());
}

#[tokio::test]
async fn a_notification_is_pushed_once_to_each_device_of_a_user_without_a_socket() {
    let (gateway, url) = Fake::start().await;
    let app = TestApp::spawn_with(&[
        ("PUSH_GATEWAY_URL", url.as_str()),
        ("PUSH_RETRY_BASE_MS", "200"),
    ])
    .await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let alice = app.customer("alice-push@example.com").await;
    let unit = listed_unit(&app, &staff).await;
    register(&app, &staff, "tok-a", "IOS").await;
    register(&app, &staff, "tok-b", "WEB").await;
    assert_eq!(devices(&app, &staff).await, ["tok-a", "tok-b"]);

    // A booking notifies staff: one POST per device.
    booked(&app, &alice, &unit, 10).await;
    let seen = gateway.wait_for(2).await;
    assert_eq!(
        tokens(&seen),
        BTreeSet::from(["tok-a".to_string(), "tok-b".to_string()])
    );
    let push: &Value = &seen[0].body;
    assert_eq!(push["title"], "New test drive", "{push}");
    assert_eq!(push["data"]["kind"], "BOOKING_CREATED", "{push}");
    assert!(
        push["body"].as_str().is_some_and(|b| !b.is_empty()),
        "{push}"
    );
    assert!(push["data"]["notificationId"].is_string(), "{push}");
    let platforms: BTreeSet<&str> = seen
        .iter()
        .filter_map(|s| s.body["platform"].as_str())
        .collect();
    assert_eq!(platforms, BTreeSet::from(["IOS", "WEB"]));
    quiet(&gateway, 2, Duration::from_millis(500)).await;

    // While the user has an open socket, the socket carries it: no push.
    let socket = app.live("graphql-transport-ws", &staff.access).await;
    booked(&app, &alice, &unit, 11).await;
    quiet(&gateway, 2, Duration::from_millis(1000)).await;
    socket.close().await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // 410 removes the device.
    gateway.script("tok-b", &[410]);
    booked(&app, &alice, &unit, 12).await;
    gateway.wait_for(4).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(devices(&app, &staff).await, ["tok-a"]);

    // Failing twice, then taking it: delivered once.
    gateway.script("tok-a", &[500, 503]);
    booked(&app, &alice, &unit, 13).await;
    let seen = gateway.wait_for(7).await;
    let last: Vec<&Seen> = seen[4..].iter().collect();
    assert_eq!(
        last.iter().map(|s| s.status).collect::<Vec<_>>(),
        [500, 503, 200]
    );
    assert!(
        last.iter().all(|s| s.body == last[0].body),
        "the same push each time"
    );
    quiet(&gateway, 7, Duration::from_millis(800)).await;

    // A token belongs to one user: registering it again moves it.
    register(&app, &alice, "tok-a", "ANDROID").await;
    assert!(devices(&app, &staff).await.is_empty());
    assert_eq!(devices(&app, &alice).await, ["tok-a"]);
}

#[tokio::test]
async fn signing_out_removes_the_devices_of_that_session() {
    let app = TestApp::spawn().await;
    let alice = app.customer("alice-devices@example.com").await;
    let other_session = app.login_actor("alice-devices@example.com").await;
    register(&app, &alice, "tok-1", "IOS").await;
    register(&app, &other_session, "tok-2", "ANDROID").await;
    assert_eq!(devices(&app, &other_session).await, ["tok-1", "tok-2"]);
    let r = app
        .gql_as(&alice.access, "mutation { logout }", json!({}))
        .await;
    assert_eq!(r["data"]["logout"], true, "{r}");
    assert_eq!(devices(&app, &other_session).await, ["tok-2"]);
    let unregister = "mutation($t: String!) { unregisterDevice(token: $t) }";
    let r = app
        .gql_as(&other_session.access, unregister, json!({ "t": "tok-2" }))
        .await;
    assert_eq!(r["data"]["unregisterDevice"], true, "{r}");
    let r = app
        .gql_as(&other_session.access, unregister, json!({ "t": "tok-2" }))
        .await;
    assert_eq!(r["data"]["unregisterDevice"], false, "{r}");
    let r = app.gql(REGISTER, json!({ "t": "tok-3", "p": "WEB" })).await;
    assert_eq!(crate::common::code(&r), "UNAUTHENTICATED", "{r}");
    // The signed-out session is refused.
    let r = app
        .gql_as(&alice.access, REGISTER, json!({ "t": "tok-4", "p": "WEB" }))
        .await;
    assert_eq!(crate::common::code(&r), "UNAUTHENTICATED", "{r}");
    let r = app
        .gql_as(
            &other_session.access,
            REGISTER,
            json!({ "t": "  ", "p": "WEB" }),
        )
        .await;
    assert_eq!(crate::common::field(&r), "token", "{r}");
}

#[tokio::test]
async fn a_push_that_failed_before_a_restart_is_delivered_after_it() {
    let (gateway, url) = Fake::start().await;
    let settings = [
        ("PUSH_GATEWAY_URL", url.as_str()),
        ("PUSH_RETRY_BASE_MS", "60000"),
    ];
    let mut first = TestApp::spawn_with(&settings).await;
    let admin = first.admin().await;
    let staff = first.staff(&admin).await;
    let alice = first.customer("alice-restart@example.com").await;
    let unit = listed_unit(&first, &staff).await;
    register(&first, &staff, "tok-r", "ANDROID").await;
    gateway.script("tok-r", &[500]);
    booked(&first, &alice, &unit, 10).await;
    assert_eq!(gateway.wait_for(1).await[0].status, 500);
    first.stop();
    // The retry is a minute away; time passes while the server is down.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let db = sea_orm::Database::connect(first.database_url.as_str())
        .await
        .unwrap();
    let moved = push_job::Entity::update_many()
        .col_expr(
            push_job::Column::NextAttemptAt,
            Expr::value(chrono::Utc::now()),
        )
        .exec(&db)
        .await
        .unwrap();
    assert_eq!(moved.rows_affected, 1);
    db.close().await.unwrap();
    let _second = first.spawn_beside(&settings).await;
    let seen = gateway.wait_for(2).await;
    assert_eq!(
        (seen[1].status, seen[1].body["token"].as_str()),
        (200, Some("tok-r"))
    );
    assert_eq!(seen[1].body, seen[0].body);
    quiet(&gateway, 2, Duration::from_millis(500)).await;
}
