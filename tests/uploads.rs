//! Presigned uploads: a ticket, a PUT to its URL, and the file attached by `uploadId` as a unit
//! photo, an avatar and a chat file; every way a PUT or an attachment is refused; the sweep of
//! files nobody attached.

use serde_json::{json, Value};

use crate::common::{code, field, jpeg_bytes, png_bytes, Actor, TestApp};

const TICKET: &str = "mutation($n: String!, $t: String!, $s: Int!) { createUploadUrl(fileName: $n, contentType: $t, size: $s) { uploadId url method expiresAt maxBytes } }";
const PHOTO: &str =
    "mutation($u: ID!, $id: ID) { addUnitPhoto(unitId: $u, uploadId: $id) { id url } }";
const AVATAR: &str = "mutation($id: ID) { uploadAvatar(uploadId: $id) { avatarUrl } }";

fn pdf_bytes() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

/// A ticket for `size` bytes of `content_type`: its upload id and its URL on the test server.
async fn ticket(app: &TestApp, who: &Actor, content_type: &str, size: usize) -> (String, String) {
    let r = app
        .gql_as(
            &who.access,
            TICKET,
            json!({ "n": "file", "t": content_type, "s": size }),
        )
        .await;
    let t = &r["data"]["createUploadUrl"];
    assert_eq!(t["method"], "PUT", "{r}");
    assert_eq!(t["maxBytes"], size, "{r}");
    let url = t["url"].as_str().unwrap_or_else(|| panic!("{r}"));
    (
        t["uploadId"].as_str().unwrap().to_string(),
        url.replace("http://autohub.test", &app.base),
    )
}

async fn put(app: &TestApp, url: &str, bytes: Vec<u8>) -> u16 {
    app.client
        .put(url)
        .body(bytes)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_presigned_upload_is_attached_as_a_photo_an_avatar_and_a_chat_file() {
    let app = TestApp::spawn().await;
    let alice = app.customer("alice-upload@example.com").await;
    let bob = app.customer("bob-upload@example.com").await;
    let unit = app.create_unit(&alice.access, json!({})).await;

    // A unit photo.
    let (id, url) = ticket(&app, &alice, "image/png", png_bytes().len()).await;
    assert_eq!(put(&app, &url, png_bytes()).await, 201);
    assert_eq!(app.media_files("uploads"), 1);
    // Another user cannot attach it.
    let r = app.gql_as(&bob.access, AVATAR, json!({ "id": id })).await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");
    let r = app
        .gql_as(&alice.access, PHOTO, json!({ "u": unit, "id": id }))
        .await;
    assert!(r["data"]["addUnitPhoto"]["url"].is_string(), "{r}");
    assert_eq!(app.media_files("units"), 1);
    assert_eq!(app.media_files("uploads"), 0, "the waiting copy is gone");
    // Attached once only.
    let r = app.gql_as(&alice.access, AVATAR, json!({ "id": id })).await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");

    // An avatar.
    let (id, url) = ticket(&app, &alice, "image/jpeg", jpeg_bytes().len()).await;
    assert_eq!(put(&app, &url, jpeg_bytes()).await, 201);
    let r = app.gql_as(&alice.access, AVATAR, json!({ "id": id })).await;
    assert!(r["data"]["uploadAvatar"]["avatarUrl"].is_string(), "{r}");

    // A chat file.
    let r = app
        .gql_as(
            &alice.access,
            "mutation { openSupportRoom(input: { title: \"Papers\" }) { id } }",
            json!({}),
        )
        .await;
    let room = r["data"]["openSupportRoom"]["id"].clone();
    let (id, url) = ticket(&app, &alice, "application/pdf", pdf_bytes().len()).await;
    assert_eq!(put(&app, &url, pdf_bytes()).await, 201);
    // A PDF is no photo: refused, and the upload waits for another use.
    let r = app
        .gql_as(&alice.access, PHOTO, json!({ "u": unit, "id": id }))
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    let r = app
        .gql_as(
            &alice.access,
            "mutation($r: ID!, $id: ID) { sendFileMessage(roomId: $r, uploadId: $id) { id } }",
            json!({ "r": room, "id": id }),
        )
        .await;
    assert!(r["data"]["sendFileMessage"]["id"].is_string(), "{r}");

    // Both a file and an upload id, or neither: refused.
    let r = app
        .gql_as(&alice.access, PHOTO, json!({ "u": unit, "id": null }))
        .await;
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "file"), "{r}");
}

#[tokio::test]
async fn refused_puts_store_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.customer("alice-refused@example.com").await;
    let png = png_bytes();

    // The ticket itself: accepted types and sizes only.
    for (t, s, name) in [
        ("text/plain", 10, "contentType"),
        ("image/png", 0, "size"),
        ("image/png", 11 * 1024 * 1024, "size"),
    ] {
        let r = app
            .gql_as(&alice.access, TICKET, json!({ "n": "f", "t": t, "s": s }))
            .await;
        assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", name), "{r}");
    }
    let r = app
        .gql(TICKET, json!({ "n": "f", "t": "image/png", "s": 10 }))
        .await;
    assert_eq!(code(&r), "UNAUTHENTICATED", "{r}");

    // An altered signature, expiry or id.
    let (_, url) = ticket(&app, &alice, "image/png", png.len()).await;
    let altered_sig = format!("{}0", &url[..url.len() - 1]);
    let altered_sig = if altered_sig == url {
        format!("{}1", &url[..url.len() - 1])
    } else {
        altered_sig
    };
    assert_eq!(put(&app, &altered_sig, png.clone()).await, 403);
    let later = url.replace("expires=", "expires=9");
    assert_eq!(put(&app, &later, png.clone()).await, 403);
    let unsigned = url.split('?').next().unwrap().to_string();
    assert_eq!(put(&app, &unsigned, png.clone()).await, 403);
    // Over the declared size.
    let (_, small) = ticket(&app, &alice, "image/png", 20).await;
    assert_eq!(put(&app, &small, png.clone()).await, 413);
    // Not the declared type, by content.
    let (_, as_png) = ticket(&app, &alice, "image/png", 4096).await;
    assert_eq!(put(&app, &as_png, jpeg_bytes()).await, 415);
    let (_, text) = ticket(&app, &alice, "image/png", 4096).await;
    assert_eq!(
        put(&app, &text, b"just some text, no image".to_vec()).await,
        415
    );
    assert_eq!(app.media_files("uploads"), 0, "nothing kept");
    // The good one, then a second PUT to the same URL.
    assert_eq!(put(&app, &url, png.clone()).await, 201);
    assert_eq!(put(&app, &url, png.clone()).await, 409);
    assert_eq!(app.media_files("uploads"), 1);

    // An expired URL.
    let short = app.spawn_beside(&[("UPLOAD_URL_TTL_SECONDS", "1")]).await;
    let (_, url) = ticket(&short, &alice, "image/png", png.len()).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(put(&short, &url, png).await, 403);
}

#[tokio::test]
async fn uploads_nobody_attached_are_swept() {
    let app = TestApp::spawn_with(&[
        ("UPLOAD_RETENTION_SECONDS", "1"),
        ("UPLOAD_SWEEP_MS", "200"),
    ])
    .await;
    let alice = app.customer("alice-sweep@example.com").await;
    let (id, url) = ticket(&app, &alice, "image/png", png_bytes().len()).await;
    assert_eq!(put(&app, &url, png_bytes()).await, 201);
    assert_eq!(app.media_files("uploads"), 1);
    let mut waited = 0;
    while app.media_files("uploads") > 0 && waited < 50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(app.media_files("uploads"), 0, "swept");
    let r = app.gql_as(&alice.access, AVATAR, json!({ "id": id })).await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");
    let _: Value = r;
}
