//! Chat against the real server, over HTTP and WebSockets: the role rules, rooms
//! opened once even at the same instant, message rules and idempotent sends, read marks and
//! coalesced notifications, ordering under concurrent senders, removal, and typing.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::common::ws::{NEW, OLD};
use crate::common::{code, png_bytes, Actor, TestApp};

const DIRECT: &str = "mutation($u: ID!) { openDirectRoom(userId: $u) { id kind } }";
const SUPPORT: &str =
    "mutation($i: OpenSupportRoomInput!) { openSupportRoom(input: $i) { id kind } }";
const GROUP: &str = "mutation($i: CreateGroupRoomInput!) { createGroupRoom(input: $i) { id } }";
const SEND: &str = "mutation($r: ID!, $b: String!, $c: String) { sendMessage(roomId: $r, body: $b, clientMessageId: $c) { id body kind sender { id } } }";
const READ: &str = "query($r: ID!) { chatRoom(id: $r) { unreadCount memberCount } }";

fn id(r: &Value, field: &str) -> String {
    r["data"][field]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{field}: {r}"))
        .to_string()
}

async fn send(app: &TestApp, who: &Actor, room: &str, body: &str) -> Value {
    app.gql_as(&who.access, SEND, json!({ "r": room, "b": body }))
        .await
}

async fn sent(app: &TestApp, who: &Actor, room: &str, body: &str) -> String {
    id(&send(app, who, room, body).await, "sendMessage")
}

async fn unread(app: &TestApp, who: &Actor, room: &str) -> (i64, i64) {
    let r = app
        .gql_as(
            &who.access,
            "query($r: ID!) { chatRoom(id: $r) { unreadCount } unreadMessageCount }",
            json!({ "r": room }),
        )
        .await;
    (
        r["data"]["chatRoom"]["unreadCount"]
            .as_i64()
            .unwrap_or_else(|| panic!("{r}")),
        r["data"]["unreadMessageCount"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn the_role_rules_hold() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let other_staff = app.staff(&admin).await;
    let ann = app.customer("ann@example.com").await;
    let bob = app.customer("bob@example.com").await;

    // Direct rooms: (who, with whom, allowed).
    for (who, with, allowed) in [
        (&ann, &bob, false),
        (&ann, &staff, true),
        (&staff, &bob, true),
        (&staff, &other_staff, true),
        (&admin, &ann, true),
    ] {
        let r = app
            .gql_as(&who.access, DIRECT, json!({ "u": with.id }))
            .await;
        if allowed {
            assert_eq!(r["data"]["openDirectRoom"]["kind"], "DIRECT", "{r}");
        } else {
            assert_eq!(code(&r), "FORBIDDEN", "{r}");
        }
    }
    // Opening twice, from either side, gives one room.
    let a = id(
        &app.gql_as(&ann.access, DIRECT, json!({ "u": staff.id }))
            .await,
        "openDirectRoom",
    );
    let b = id(
        &app.gql_as(&staff.access, DIRECT, json!({ "u": ann.id }))
            .await,
        "openDirectRoom",
    );
    assert_eq!(a, b);

    // Group rooms: staff only, never customers, managed by the creator or an admin.
    let r = app
        .gql_as(&ann.access, GROUP, json!({ "i": { "title": "Team" } }))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let r = app
        .gql_as(
            &staff.access,
            GROUP,
            json!({ "i": { "title": "Team", "memberIds": [ann.id] } }),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    let group = id(
        &app.gql_as(&staff.access, GROUP, json!({ "i": { "title": "Team" } }))
            .await,
        "createGroupRoom",
    );
    let add =
        "mutation($r: ID!, $u: ID!) { addRoomMember(roomId: $r, userId: $u) { memberCount } }";
    let remove =
        "mutation($r: ID!, $u: ID!) { removeRoomMember(roomId: $r, userId: $u) { memberCount } }";
    let r = app
        .gql_as(&staff.access, add, json!({ "r": group, "u": ann.id }))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "customers never join groups: {r}");
    let r = app
        .gql_as(
            &staff.access,
            add,
            json!({ "r": group, "u": other_staff.id }),
        )
        .await;
    assert_eq!(r["data"]["addRoomMember"]["memberCount"], 2, "{r}");
    let third = app.staff(&admin).await;
    let r = app
        .gql_as(
            &other_staff.access,
            add,
            json!({ "r": group, "u": third.id }),
        )
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "only the creator or an admin: {r}");
    let r = app
        .gql_as(
            &other_staff.access,
            remove,
            json!({ "r": group, "u": staff.id }),
        )
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let r = app
        .gql_as(&admin.access, add, json!({ "r": group, "u": third.id }))
        .await;
    assert_eq!(
        code(&r),
        "NOT_FOUND",
        "the admin is no member of the group: {r}"
    );

    // Support rooms: every staff member reads them; other customers do not.
    let support = id(
        &app.gql_as(&ann.access, SUPPORT, json!({ "i": { "title": "Help" } }))
            .await,
        "openSupportRoom",
    );
    for (who, sees) in [
        (&other_staff, true),
        (&admin, true),
        (&bob, false),
        (&ann, true),
    ] {
        let r = app.gql_as(&who.access, READ, json!({ "r": support })).await;
        if sees {
            assert!(r["errors"].is_null(), "{r}");
        } else {
            assert_eq!(code(&r), "NOT_FOUND", "{r}");
        }
    }
    // Staff answering joins the room.
    sent(&app, &other_staff, &support, "How can we help?").await;
    let r = app.gql_as(&ann.access, READ, json!({ "r": support })).await;
    assert_eq!(r["data"]["chatRoom"]["memberCount"], 2, "{r}");
    // Opening again returns it; a customer cannot open one for someone else.
    let again = id(
        &app.gql_as(
            &ann.access,
            SUPPORT,
            json!({ "i": { "title": "Help again" } }),
        )
        .await,
        "openSupportRoom",
    );
    assert_eq!(again, support);
    let r = app
        .gql_as(
            &ann.access,
            SUPPORT,
            json!({ "i": { "title": "For Bob", "customerId": bob.id } }),
        )
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    // About a unit: only the customer's own.
    let bobs = app.create_unit(&bob.access, json!({})).await;
    let r = app
        .gql_as(
            &ann.access,
            SUPPORT,
            json!({ "i": { "title": "Car", "subjectType": "UNIT", "subjectId": bobs } }),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    let r = app
        .gql_as(&staff.access, SUPPORT, json!({ "i": { "title": "Your car", "subjectType": "UNIT", "subjectId": bobs, "customerId": bob.id } }))
        .await;
    let about = id(&r, "openSupportRoom");
    let r = app
        .gql_as(
            &bob.access,
            "query($r: ID!) { chatRoom(id: $r) { subject { ... on Unit { id } } } }",
            json!({ "r": about }),
        )
        .await;
    assert_eq!(r["data"]["chatRoom"]["subject"]["id"], bobs.as_str(), "{r}");
}

#[tokio::test]
async fn opening_the_same_room_at_the_same_instant_gives_one_room() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let ann = app.customer("ann@example.com").await;
    let directs = join_all((0..8).map(|i| {
        let (who, with) = if i % 2 == 0 {
            (&ann, &staff)
        } else {
            (&staff, &ann)
        };
        app.gql_as(&who.access, DIRECT, json!({ "u": with.id }))
    }))
    .await;
    let supports = join_all(
        (0..8).map(|_| app.gql_as(&ann.access, SUPPORT, json!({ "i": { "title": "Help" } }))),
    )
    .await;
    for (results, field) in [(directs, "openDirectRoom"), (supports, "openSupportRoom")] {
        let ids: std::collections::HashSet<String> = results.iter().map(|r| id(r, field)).collect();
        assert_eq!(ids.len(), 1, "{field}: {results:?}");
    }
    let r = app
        .gql_as(&ann.access, "{ myChatRooms { totalCount } }", json!({}))
        .await;
    assert_eq!(r["data"]["myChatRooms"]["totalCount"], 2, "{r}");
}

#[tokio::test]
async fn message_rules_and_idempotent_sends() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let ann = app.customer("ann@example.com").await;
    let room = id(
        &app.gql_as(&ann.access, DIRECT, json!({ "u": staff.id }))
            .await,
        "openDirectRoom",
    );

    for (body, ok) in [
        ("", false),
        ("   \n ", false),
        ("x", true),
        (&"é".repeat(4000), true),
        (&"x".repeat(4001), false),
    ] {
        let r = send(&app, &ann, &room, body).await;
        if ok {
            assert!(r["errors"].is_null(), "{r}");
        } else {
            assert_eq!(code(&r), "BAD_USER_INPUT", "{} chars: {r}", body.len());
        }
    }
    let r = send(&app, &ann, &room, "  padded  ").await;
    assert_eq!(r["data"]["sendMessage"]["body"], "padded");

    // Retries with one client id, one after another and all at once, store one message each.
    let first = app
        .gql_as(
            &ann.access,
            SEND,
            json!({ "r": room, "b": "once", "c": "c-1" }),
        )
        .await;
    let again = app
        .gql_as(
            &ann.access,
            SEND,
            json!({ "r": room, "b": "once", "c": "c-1" }),
        )
        .await;
    assert_eq!(id(&first, "sendMessage"), id(&again, "sendMessage"));
    let burst = join_all((0..10).map(|_| {
        app.gql_as(
            &ann.access,
            SEND,
            json!({ "r": room, "b": "burst", "c": "c-2" }),
        )
    }))
    .await;
    let ids: std::collections::HashSet<String> =
        burst.iter().map(|r| id(r, "sendMessage")).collect();
    assert_eq!(ids.len(), 1, "{burst:?}");
    let r = app
        .gql_as(&ann.access, "query($r: ID!) { chatRoom(id: $r) { messages(last: 100) { totalCount edges { node { id body isDeleted isEdited } } } } }", json!({ "r": room }))
        .await;
    assert_eq!(r["data"]["chatRoom"]["messages"]["totalCount"], 5, "{r}");

    // Edit: the sender only. Delete: the sender or an admin; the message keeps its place.
    let edit = "mutation($id: ID!, $b: String!) { editMessage(id: $id, body: $b) { body isEdited editedAt } }";
    let delete =
        "mutation($id: ID!) { deleteMessage(id: $id) { body isDeleted attachment { url } } }";
    let message = id(&first, "sendMessage");
    let r = app
        .gql_as(
            &staff.access,
            edit,
            json!({ "id": message, "b": "changed" }),
        )
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let r = app
        .gql_as(&ann.access, edit, json!({ "id": message, "b": "changed" }))
        .await;
    assert_eq!(r["data"]["editMessage"]["body"], "changed", "{r}");
    assert_eq!(r["data"]["editMessage"]["isEdited"], true);
    let r = app
        .gql_as(&staff.access, delete, json!({ "id": message }))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let r = app
        .gql_as(&ann.access, delete, json!({ "id": message }))
        .await;
    assert_eq!(r["data"]["deleteMessage"]["isDeleted"], true, "{r}");
    assert!(r["data"]["deleteMessage"]["body"].is_null());
    let r = app
        .gql_as(&ann.access, edit, json!({ "id": message, "b": "again" }))
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    let staff_message = sent(&app, &staff, &room, "from staff").await;
    let r = app
        .gql_as(&admin.access, delete, json!({ "id": staff_message }))
        .await;
    assert_eq!(
        r["data"]["deleteMessage"]["isDeleted"], true,
        "an admin deletes: {r}"
    );
    let r = app
        .gql_as(&ann.access, "query($r: ID!) { chatRoom(id: $r) { messages(last: 100) { edges { node { id body isDeleted } } } } }", json!({ "r": room }))
        .await;
    let edges = r["data"]["chatRoom"]["messages"]["edges"]
        .as_array()
        .unwrap();
    assert_eq!(edges.len(), 6, "deleted messages keep their place: {r}");
    assert_eq!(edges[3]["node"]["id"], message.as_str());
    assert_eq!(edges[3]["node"]["isDeleted"], true);

    // A closed room takes no messages.
    let support = id(
        &app.gql_as(&ann.access, SUPPORT, json!({ "i": { "title": "Help" } }))
            .await,
        "openSupportRoom",
    );
    let r = app
        .gql_as(
            &staff.access,
            "mutation($r: ID!) { updateChatRoom(id: $r, input: { isActive: false }) { isActive } }",
            json!({ "r": support }),
        )
        .await;
    assert_eq!(r["data"]["updateChatRoom"]["isActive"], false, "{r}");
    let r = send(&app, &ann, &support, "hello?").await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    // …and a new support room may be opened after it closed.
    let next = id(
        &app.gql_as(&ann.access, SUPPORT, json!({ "i": { "title": "Help" } }))
            .await,
        "openSupportRoom",
    );
    assert_ne!(next, support);
}

#[tokio::test]
async fn file_messages_are_checked_by_content_and_served_by_their_signed_url() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ann = app.customer("ann@example.com").await;
    let room = id(
        &app.gql_as(&ann.access, DIRECT, json!({ "u": admin.id }))
            .await,
        "openDirectRoom",
    );
    let query = "mutation($r: ID!, $f: Upload!, $c: String) { sendFileMessage(roomId: $r, file: $f, caption: $c) { kind body attachment { url fileName contentType size } } }";
    let png = png_bytes();
    let (status, r) = app
        .upload(
            &ann.access,
            query,
            json!({ "r": room, "f": null, "c": "my car" }),
            vec![("f", "car.png", png.clone())],
        )
        .await;
    assert_eq!(status, 200, "{r}");
    let message = &r["data"]["sendFileMessage"];
    assert_eq!(message["kind"], "FILE", "{r}");
    assert_eq!(message["body"], "my car");
    assert_eq!(message["attachment"]["fileName"], "car.png");
    assert_eq!(message["attachment"]["contentType"], "image/png");
    let url = message["attachment"]["url"].as_str().unwrap();
    let path = url.trim_start_matches("http://autohub.test");
    let served = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.unwrap().to_vec(), png);
    let pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n".to_vec();
    let (_, r) = app
        .upload(
            &ann.access,
            query,
            json!({ "r": room, "f": null }),
            vec![("f", "invoice.pdf", pdf)],
        )
        .await;
    assert_eq!(
        r["data"]["sendFileMessage"]["attachment"]["contentType"], "application/pdf",
        "{r}"
    );
    let (_, r) = app
        .upload(
            &ann.access,
            query,
            json!({ "r": room, "f": null }),
            vec![("f", "notes.png", b"just text".to_vec())],
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    assert_eq!(app.media_files("chat"), 2, "the refused file is not kept");
}

#[tokio::test]
async fn file_messages_over_the_limit_are_refused_unstored() {
    let app = TestApp::spawn_with(&[("UPLOAD_MAX_FILE_BYTES", "1024")]).await;
    let admin = app.admin().await;
    let ann = app.customer("ann@example.com").await;
    let room = id(
        &app.gql_as(&ann.access, DIRECT, json!({ "u": admin.id }))
            .await,
        "openDirectRoom",
    );
    let mut big = png_bytes();
    big.resize(4096, 0);
    let (status, _) = app
        .upload(
            &ann.access,
            "mutation($r: ID!, $f: Upload!) { sendFileMessage(roomId: $r, file: $f) { id } }",
            json!({ "r": room, "f": null }),
            vec![("f", "big.png", big)],
        )
        .await;
    assert_eq!(status, 413);
    assert_eq!(app.media_files("chat"), 0);
}

#[tokio::test]
async fn unread_counts_read_marks_room_activity_and_coalesced_notifications() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let ann = app.customer("ann@example.com").await;
    let room = id(
        &app.gql_as(&ann.access, DIRECT, json!({ "u": staff.id }))
            .await,
        "openDirectRoom",
    );
    let other = id(
        &app.gql_as(&admin.access, DIRECT, json!({ "u": ann.id }))
            .await,
        "openDirectRoom",
    );
    let mut events = app.live(NEW, &ann.access).await;
    events
        .subscribe("me", "subscription { myEvents { __typename ... on RoomActivity { room { id } hasUnread unreadCount } ... on NotificationCreated { notification { kind subjectId } } } }", json!({}))
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    for n in 0..3 {
        sent(&app, &staff, &room, &format!("hello {n}")).await;
    }
    sent(&app, &admin, &other, "hi from the admin").await;
    assert_eq!(unread(&app, &ann, &room).await, (3, 4));
    assert_eq!(
        unread(&app, &staff, &room).await,
        (0, 0),
        "own messages are read"
    );

    // Ann hears of each message, and gets one NEW_MESSAGE per room while it is unread.
    let mut activity = Vec::new();
    let mut notified = Vec::new();
    for _ in 0..6 {
        let payload = events.data("me").await;
        let event = &payload["data"]["myEvents"];
        match event["__typename"].as_str() {
            Some("RoomActivity") => {
                assert_eq!(event["hasUnread"], true, "{event}");
                activity.push(event["unreadCount"].as_i64().unwrap());
            }
            Some("NotificationCreated") => {
                assert_eq!(event["notification"]["kind"], "NEW_MESSAGE");
                notified.push(
                    event["notification"]["subjectId"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                );
            }
            _ => panic!("{payload}"),
        }
    }
    assert_eq!(activity.len(), 4, "{activity:?}");
    notified.sort();
    let mut expected = vec![room.clone(), other.clone()];
    expected.sort();
    assert_eq!(notified, expected);
    assert!(events.quiet_for(Duration::from_millis(300)).await);

    // Reading the room zeroes it, reads its notification, and says so on myEvents.
    let r = app
        .gql_as(
            &ann.access,
            "mutation($r: ID!) { markRoomRead(roomId: $r) { id } }",
            json!({ "r": room }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    assert_eq!(unread(&app, &ann, &room).await, (0, 1));
    let payload = events.data("me").await;
    assert_eq!(payload["data"]["myEvents"]["hasUnread"], false, "{payload}");
    let r = app
        .gql_as(
            &ann.access,
            "{ notifications(unreadOnly: true) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r["data"]["notifications"]["totalCount"], 1, "{r}");
    // The next message notifies again.
    sent(&app, &staff, &room, "one more").await;
    let r = app
        .gql_as(
            &ann.access,
            "{ notifications(unreadOnly: true) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r["data"]["notifications"]["totalCount"], 2, "{r}");
    // A deleted message is not unread.
    let gone = sent(&app, &staff, &room, "oops").await;
    assert_eq!(unread(&app, &ann, &room).await, (2, 3));
    app.gql_as(
        &staff.access,
        "mutation($id: ID!) { deleteMessage(id: $id) { id } }",
        json!({ "id": gone }),
    )
    .await;
    assert_eq!(unread(&app, &ann, &room).await, (1, 2));
}

#[tokio::test]
async fn four_senders_two_hundred_messages_every_subscriber_gets_all_in_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mut senders = Vec::new();
    for _ in 0..4 {
        senders.push(app.staff(&admin).await);
    }
    let ids: Vec<&str> = senders.iter().map(|s| s.id.as_str()).collect();
    let room = id(
        &app.gql_as(
            &admin.access,
            GROUP,
            json!({ "i": { "title": "Busy", "memberIds": ids } }),
        )
        .await,
        "createGroupRoom",
    );
    let mut subscribers = Vec::new();
    for (i, who) in [&admin, &senders[0], &senders[3]].into_iter().enumerate() {
        let protocol = if i == 1 { OLD } else { NEW };
        let mut socket = app.live(protocol, &who.access).await;
        socket
            .subscribe(
                "m",
                "subscription($r: ID!) { messageAdded(roomId: $r) { id body } }",
                json!({ "r": room }),
            )
            .await;
        subscribers.push(socket);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let sends = senders.iter().enumerate().flat_map(|(s, who)| {
        let app = &app;
        let room = &room;
        (0..50).map(move |n| async move { sent(app, who, room, &format!("{s}-{n}")).await })
    });
    let stored: Vec<String> = join_all(sends).await;
    assert_eq!(stored.len(), 200);

    let r = app
        .gql_as(&admin.access, "query($r: ID!) { chatRoom(id: $r) { messages(first: 100) { edges { node { id } } pageInfo { endCursor } } } }", json!({ "r": room }))
        .await;
    let mut order: Vec<String> = Vec::new();
    let mut page = r;
    loop {
        let messages = &page["data"]["chatRoom"]["messages"];
        let edges = messages["edges"].as_array().unwrap();
        order.extend(
            edges
                .iter()
                .map(|e| e["node"]["id"].as_str().unwrap().to_string()),
        );
        if edges.len() < 100 {
            break;
        }
        page = app
            .gql_as(&admin.access, "query($r: ID!, $a: String) { chatRoom(id: $r) { messages(first: 100, after: $a) { edges { node { id } } pageInfo { endCursor } } } }", json!({ "r": room, "a": messages["pageInfo"]["endCursor"] }))
            .await;
    }
    assert_eq!(order.len(), 200);
    for socket in &mut subscribers {
        let mut received = Vec::new();
        for _ in 0..200 {
            let payload = socket.data("m").await;
            received.push(
                payload["data"]["messageAdded"]["id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        assert_eq!(received, order, "{} subscriber", socket.protocol);
        assert!(
            socket.quiet_for(Duration::from_millis(200)).await,
            "each once"
        );
    }
}

#[tokio::test]
async fn a_removed_member_stops_receiving_and_their_subscription_ends() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let room = id(
        &app.gql_as(
            &admin.access,
            GROUP,
            json!({ "i": { "title": "Team", "memberIds": [staff.id] } }),
        )
        .await,
        "createGroupRoom",
    );
    let mut socket = app.live(NEW, &staff.access).await;
    socket
        .subscribe("e", "subscription($r: ID!) { chatRoomEvents(roomId: $r) { __typename ... on MemberRemoved { user { id } } } }", json!({ "r": room }))
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    sent(&app, &admin, &room, "before").await;
    assert_eq!(
        socket.data("e").await["data"]["chatRoomEvents"]["__typename"],
        "MessageCreated"
    );
    let r = app
        .gql_as(&admin.access, "mutation($r: ID!, $u: ID!) { removeRoomMember(roomId: $r, userId: $u) { memberCount } }", json!({ "r": room, "u": staff.id }))
        .await;
    assert_eq!(r["data"]["removeRoomMember"]["memberCount"], 1, "{r}");
    let payload = socket.data("e").await;
    assert_eq!(
        payload["data"]["chatRoomEvents"]["user"]["id"],
        staff.id.as_str(),
        "{payload}"
    );
    let end = socket.next().await;
    assert_eq!(end["type"], "complete", "{end}");
    sent(&app, &admin, &room, "after").await;
    assert!(socket.quiet_for(Duration::from_millis(300)).await);
    // And subscribing again is refused.
    socket
        .subscribe(
            "again",
            "subscription($r: ID!) { messageAdded(roomId: $r) { id } }",
            json!({ "r": room }),
        )
        .await;
    assert_refused(&mut socket, "again").await;
}

#[tokio::test]
async fn typing_shows_to_others_expires_and_is_throttled() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ann = app.customer("ann@example.com").await;
    let room = id(
        &app.gql_as(&ann.access, DIRECT, json!({ "u": admin.id }))
            .await,
        "openDirectRoom",
    );
    let typing =
        "subscription($r: ID!) { typingIndicator(roomId: $r) { user { id } isTyping expiresAt } }";
    let mut watcher = app.live(NEW, &admin.access).await;
    watcher.subscribe("t", typing, json!({ "r": room })).await;
    let mut own = app.live(NEW, &ann.access).await;
    own.subscribe("t", typing, json!({ "r": room })).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let set = "mutation($r: ID!, $t: Boolean!) { setTyping(roomId: $r, isTyping: $t) }";

    let r = app
        .gql_as(&ann.access, set, json!({ "r": room, "t": true }))
        .await;
    assert_eq!(r["data"]["setTyping"], true, "{r}");
    let r = app
        .gql_as(&ann.access, set, json!({ "r": room, "t": true }))
        .await;
    assert_eq!(
        r["data"]["setTyping"], false,
        "a rapid second call is throttled: {r}"
    );
    let payload = watcher.data("t").await;
    assert_eq!(
        payload["data"]["typingIndicator"]["isTyping"], true,
        "{payload}"
    );
    assert_eq!(
        payload["data"]["typingIndicator"]["user"]["id"],
        ann.id.as_str()
    );
    let r = app
        .gql_as(&ann.access, set, json!({ "r": room, "t": false }))
        .await;
    assert_eq!(r["data"]["setTyping"], true);
    let payload = watcher.data("t").await;
    assert_eq!(
        payload["data"]["typingIndicator"]["isTyping"], false,
        "{payload}"
    );

    // Not renewed: it expires after 6 seconds.
    app.gql_as(&ann.access, set, json!({ "r": room, "t": true }))
        .await;
    assert_eq!(
        watcher.data("t").await["data"]["typingIndicator"]["isTyping"],
        true
    );
    let started = std::time::Instant::now();
    let payload = watcher.data("t").await;
    assert_eq!(
        payload["data"]["typingIndicator"]["isTyping"], false,
        "{payload}"
    );
    let waited = started.elapsed();
    assert!(
        waited > Duration::from_secs(5) && waited < Duration::from_secs(8),
        "{waited:?}"
    );
    // The typist never saw their own indicator.
    assert!(own.quiet_for(Duration::from_millis(200)).await);
}

#[tokio::test]
async fn subscribing_to_a_room_one_may_not_read_is_an_error() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ann = app.customer("ann@example.com").await;
    let bob = app.customer("bob@example.com").await;
    let room = id(
        &app.gql_as(&ann.access, DIRECT, json!({ "u": admin.id }))
            .await,
        "openDirectRoom",
    );
    for protocol in [NEW, OLD] {
        let mut socket = app.live(protocol, &bob.access).await;
        socket
            .subscribe(
                "x",
                "subscription($r: ID!) { chatRoomEvents(roomId: $r) { __typename } }",
                json!({ "r": room }),
            )
            .await;
        assert_refused(&mut socket, "x").await;
    }
}

/// The subscription answered with one NOT_FOUND error and ended.
async fn assert_refused(socket: &mut crate::common::ws::Socket, id: &str) {
    let reply = socket.data(id).await;
    assert!(reply["data"].is_null(), "{reply}");
    assert_eq!(
        reply["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{reply}"
    );
    let end = socket.next().await;
    assert_eq!(end["type"], "complete", "{end}");
    assert_eq!(end["id"], id);
}

async fn is_online(app: &TestApp, base: &str, who: &Actor, whom: &Actor) -> bool {
    let r: Value = app
        .client
        .post(format!("{base}/graphql"))
        .bearer_auth(&who.access)
        .json(&json!({ "query": "query($u: ID!) { user(id: $u) { isOnline lastSeenAt } }", "variables": { "u": whom.id } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["data"]["user"]["isOnline"]
        .as_bool()
        .unwrap_or_else(|| panic!("{r}"))
}

/// Online with the first socket, still online while a second is open, offline after the last;
/// those who share a room hear of each change once.
pub(crate) async fn presence_follows_sockets(app: &TestApp, other_base: &str) {
    let admin = app.admin().await;
    let ann = app.customer("present@example.com").await;
    id(
        &app.gql_as(&ann.access, DIRECT, json!({ "u": admin.id }))
            .await,
        "openDirectRoom",
    );
    let presence =
        "subscription { myEvents { ... on PresenceChanged { user { id } isOnline lastSeenAt } } }";
    let mut watcher = app.live(NEW, &admin.access).await;
    watcher.subscribe("p", presence, json!({})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!is_online(app, &app.base, &admin, &ann).await);

    let first = app.live(NEW, &ann.access).await;
    let payload = watcher.data("p").await;
    assert_eq!(payload["data"]["myEvents"]["isOnline"], true, "{payload}");
    assert_eq!(payload["data"]["myEvents"]["user"]["id"], ann.id.as_str());
    for base in [app.base.as_str(), other_base] {
        assert!(is_online(app, base, &admin, &ann).await, "{base}");
    }
    let second = app.live(OLD, &ann.access).await;
    first.close().await;
    assert!(
        watcher.quiet_for(Duration::from_millis(400)).await,
        "still online"
    );
    for base in [app.base.as_str(), other_base] {
        assert!(is_online(app, base, &admin, &ann).await, "{base}");
    }
    second.close().await;
    let payload = watcher.data("p").await;
    assert_eq!(payload["data"]["myEvents"]["isOnline"], false, "{payload}");
    assert!(payload["data"]["myEvents"]["lastSeenAt"].is_string());
    for base in [app.base.as_str(), other_base] {
        assert!(!is_online(app, base, &admin, &ann).await, "{base}");
    }
}

#[tokio::test]
async fn presence_is_online_while_a_socket_is_open() {
    let app = TestApp::spawn().await;
    presence_follows_sockets(&app, &app.base).await;
}

#[tokio::test]
async fn chat_room_events_arrive_in_both_protocols() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ann = app.customer("ann@example.com").await;
    let room = id(
        &app.gql_as(&ann.access, DIRECT, json!({ "u": admin.id }))
            .await,
        "openDirectRoom",
    );
    let events = "subscription($r: ID!) { chatRoomEvents(roomId: $r) { __typename ... on MessageCreated { message { body sender { id } } } ... on RoomRead { user { id } } } }";
    let mut sockets = Vec::new();
    for protocol in [NEW, OLD] {
        let mut socket = app.live(protocol, &admin.access).await;
        socket.subscribe("e", events, json!({ "r": room })).await;
        sockets.push(socket);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    sent(&app, &ann, &room, "hello both").await;
    app.gql_as(
        &ann.access,
        "mutation($r: ID!) { markRoomRead(roomId: $r) { id } }",
        json!({ "r": room }),
    )
    .await;
    for socket in &mut sockets {
        let created = socket.data("e").await;
        let event = &created["data"]["chatRoomEvents"];
        assert_eq!(
            event["__typename"], "MessageCreated",
            "{}: {created}",
            socket.protocol
        );
        assert_eq!(event["message"]["body"], "hello both");
        assert_eq!(event["message"]["sender"]["id"], ann.id.as_str());
        let read = socket.data("e").await;
        assert_eq!(
            read["data"]["chatRoomEvents"]["__typename"], "RoomRead",
            "{read}"
        );
        assert_eq!(
            read["data"]["chatRoomEvents"]["user"]["id"],
            ann.id.as_str()
        );
    }
}
