//! Subscriptions rendered once per group of sockets that see the same thing (see
//! `graphql::fanout`): staff watching a room share one rendering, each in either protocol with
//! their own ids; a customer, a personal field, or a viewer's own filtering gets its own; a
//! member removed from a room stops hearing it while the others go on.

use std::time::Duration;

use serde_json::{json, Value};

use crate::common::ws::{Socket, NEW, OLD};
use crate::common::{Actor, TestApp};

const SUPPORT: &str = "mutation($i: OpenSupportRoomInput!) { openSupportRoom(input: $i) { id } }";
const GROUP: &str = "mutation($i: CreateGroupRoomInput!) { createGroupRoom(input: $i) { id } }";
const SEND: &str = "mutation($r: ID!, $b: String!) { sendMessage(roomId: $r, body: $b) { id } }";
/// As Apollo writes it: `__typename` everywhere, the message as a named fragment.
const ADDED: &str = "subscription Added($r: ID!) { messageAdded(roomId: $r) { ...Message __typename } } fragment Message on ChatMessage { id body sender { id email __typename } __typename }";

async fn room(app: &TestApp, who: &Actor, mutation: &str, input: Value) -> String {
    let r = app
        .gql_as(&who.access, mutation, json!({ "i": input }))
        .await;
    let field = if mutation == SUPPORT {
        "openSupportRoom"
    } else {
        "createGroupRoom"
    };
    r["data"][field]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_string()
}

async fn send(app: &TestApp, who: &Actor, room: &str, body: &str) {
    let r = app
        .gql_as(&who.access, SEND, json!({ "r": room, "b": body }))
        .await;
    assert!(r["data"]["sendMessage"]["id"].is_string(), "{r}");
}

/// A socket of `who` subscribed to `query` on `room` under `id`.
async fn watching(
    app: &TestApp,
    protocol: &'static str,
    who: &Actor,
    id: &str,
    query: &str,
    room: &str,
) -> Socket {
    let mut socket = app.live(protocol, &who.access).await;
    socket.subscribe(id, query, json!({ "r": room })).await;
    socket
}

#[tokio::test]
async fn staff_share_one_rendering_and_a_customer_has_their_own() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ann = app.customer("ann@example.com").await;
    let room = room(&app, &ann, SUPPORT, json!({ "title": "Help" })).await;
    let mut staff = Vec::new();
    for (i, protocol) in [NEW, NEW, OLD].into_iter().enumerate() {
        let member = app.staff(&admin).await;
        let id = format!("s{i}");
        let socket = watching(&app, protocol, &member, &id, ADDED, &room).await;
        staff.push((id, socket));
    }
    let mut own = watching(&app, NEW, &ann, "mine", ADDED, &room).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (rendered, delivered) = app.state.metrics.subscription_payloads();

    for body in ["one", "two"] {
        send(&app, &ann, &room, body).await;
        let mut seen = Vec::new();
        for (id, socket) in &mut staff {
            let payload = socket.data(id).await;
            assert!(payload["errors"].is_null(), "{payload}");
            seen.push(payload);
        }
        let message = &seen[0]["data"]["messageAdded"];
        assert_eq!(message["body"], body, "{message}");
        assert_eq!(message["__typename"], "ChatMessage");
        assert_eq!(message["sender"]["id"], ann.id.as_str());
        assert_eq!(
            message["sender"]["email"], "ann@example.com",
            "staff see it"
        );
        assert!(seen.iter().all(|p| *p == seen[0]), "{seen:?}");
        let mine = own.data("mine").await;
        assert_eq!(mine, seen[0], "the customer's own rendering says the same");
    }
    // Two renderings per message (the staff's, the customer's), four sockets written to.
    let (rendered_now, delivered_now) = app.state.metrics.subscription_payloads();
    assert_eq!(rendered_now - rendered, 4);
    assert_eq!(delivered_now - delivered, 8);
    let metrics = reqwest::get(format!("{}/metrics", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(&format!(
            "autohub_subscription_payloads_total{{stage=\"rendered\"}} {rendered_now}"
        )),
        "{metrics}"
    );

    // One socket stops its subscription: the others go on.
    let (id, mut stopping) = staff.remove(0);
    let kind = if stopping.protocol == NEW {
        "complete"
    } else {
        "stop"
    };
    stopping.send(json!({ "id": id, "type": kind })).await;
    assert_eq!(stopping.next().await["type"], "complete");
    send(&app, &ann, &room, "three").await;
    for (id, socket) in &mut staff {
        assert_eq!(
            socket.data(id).await["data"]["messageAdded"]["body"],
            "three"
        );
    }
    assert!(stopping.quiet_for(Duration::from_millis(200)).await);
}

#[tokio::test]
async fn a_personal_field_is_rendered_for_each_viewer() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ann = app.customer("ann@example.com").await;
    let (amy, ben) = (app.staff(&admin).await, app.staff(&admin).await);
    let room = room(&app, &ann, SUPPORT, json!({ "title": "Help" })).await;
    let query = "subscription($r: ID!) { messageAdded(roomId: $r) { body room { unreadCount } } }";
    let mut sockets = Vec::new();
    for who in [&amy, &ben] {
        sockets.push(watching(&app, NEW, who, "u", query, &room).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (rendered, _) = app.state.metrics.subscription_payloads();
    send(&app, &ann, &room, "hello").await;
    for (socket, who) in sockets.iter_mut().zip([&amy, &ben]) {
        let payload = socket.data("u").await;
        let asked = app
            .gql_as(
                &who.access,
                "query($r: ID!) { chatRoom(id: $r) { unreadCount } }",
                json!({ "r": room }),
            )
            .await;
        assert_eq!(
            payload["data"]["messageAdded"]["room"]["unreadCount"],
            asked["data"]["chatRoom"]["unreadCount"],
            "{payload} {asked}"
        );
    }
    let (rendered_now, _) = app.state.metrics.subscription_payloads();
    assert_eq!(rendered_now - rendered, 2, "one rendering per viewer");
}

/// A group room of two staff members, Amy and Ben, opened by the admin.
async fn team() -> (TestApp, Actor, Actor, Actor, String) {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (amy, ben) = (app.staff(&admin).await, app.staff(&admin).await);
    let room = room(
        &app,
        &admin,
        GROUP,
        json!({ "title": "Team", "memberIds": [amy.id, ben.id] }),
    )
    .await;
    (app, admin, amy, ben, room)
}

async fn remove(app: &TestApp, admin: &Actor, room: &str, member: &Actor) {
    let r = app
        .gql_as(
            &admin.access,
            "mutation($r: ID!, $u: ID!) { removeRoomMember(roomId: $r, userId: $u) { memberCount } }",
            json!({ "r": room, "u": member.id }),
        )
        .await;
    assert_eq!(r["data"]["removeRoomMember"]["memberCount"], 2, "{r}");
}

#[tokio::test]
async fn a_removed_member_stops_hearing_the_room_and_the_others_go_on() {
    let (app, admin, amy, ben, room) = team().await;
    let query = "subscription($r: ID!) { messageAdded(roomId: $r) { body } }";
    // Amy subscribes first: her viewer renders for both, until she is removed.
    let mut amys = watching(&app, NEW, &amy, "a", query, &room).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut bens = watching(&app, OLD, &ben, "b", query, &room).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    send(&app, &admin, &room, "before").await;
    assert_eq!(
        amys.data("a").await["data"]["messageAdded"]["body"],
        "before"
    );
    assert_eq!(
        bens.data("b").await["data"]["messageAdded"]["body"],
        "before"
    );

    remove(&app, &admin, &room, &amy).await;
    assert_eq!(amys.next().await["type"], "complete");
    tokio::time::sleep(Duration::from_millis(200)).await;
    send(&app, &admin, &room, "after").await;
    assert_eq!(
        bens.data("b").await["data"]["messageAdded"]["body"],
        "after"
    );
    assert!(amys.quiet_for(Duration::from_millis(300)).await);
}

#[tokio::test]
async fn a_message_right_after_a_removal_never_reaches_the_removed_member() {
    let (app, admin, amy, ben, room) = team().await;
    let query = "subscription($r: ID!) { messageAdded(roomId: $r) { body } }";
    // Ben's viewer renders for both; Amy's socket learns of her removal from her own events,
    // which (no frame following them) it reads late, or at the next frame, whichever comes first.
    let mut bens = watching(&app, NEW, &ben, "b", query, &room).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut amys = watching(&app, NEW, &amy, "a", query, &room).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    remove(&app, &admin, &room, &amy).await;
    send(&app, &admin, &room, "after").await;
    assert_eq!(
        bens.data("b").await["data"]["messageAdded"]["body"],
        "after"
    );
    let next = amys.next().await;
    assert_eq!(next["type"], "complete", "{next}");
    assert!(amys.quiet_for(Duration::from_millis(300)).await);
}

#[tokio::test]
async fn a_refused_viewer_is_told_and_a_query_over_the_socket_is_answered() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ann = app.customer("ann@example.com").await;
    let bob = app.customer("bob@example.com").await;
    let room = room(&app, &ann, SUPPORT, json!({ "title": "Help" })).await;
    let query = "subscription($r: ID!) { messageAdded(roomId: $r) { body } }";
    for protocol in [NEW, OLD] {
        // Bob may not read Ann's room; the same document from Ann is fine.
        let mut bobs = watching(&app, protocol, &bob, "x", query, &room).await;
        let refused = bobs.data("x").await;
        assert_eq!(
            refused["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{refused}"
        );
        assert_eq!(bobs.next().await["type"], "complete");
        let mut anns = watching(&app, protocol, &ann, "y", query, &room).await;
        // A query over the socket is answered by its own run.
        anns.subscribe("q", "query { me { id } }", json!({})).await;
        let me = anns.data("q").await;
        assert_eq!(me["data"]["me"]["id"], ann.id.as_str(), "{me}");
        assert_eq!(anns.next().await["type"], "complete");
        tokio::time::sleep(Duration::from_millis(200)).await;
        send(&app, &admin, &room, protocol).await;
        assert_eq!(
            anns.data("y").await["data"]["messageAdded"]["body"],
            protocol
        );
        assert!(bobs.quiet_for(Duration::from_millis(200)).await);
    }
}
