//! Uploads: unit photos and avatars through the GraphQL multipart request, checked by content,
//! bounded in size, ordered with one primary, and served under /media.

use serde_json::json;

use crate::common::{code, field, jpeg_bytes, png_bytes, webp_bytes, TestApp};

const ADD: &str = "mutation($u: ID!, $f: Upload!, $a: String) { addUnitPhoto(unitId: $u, file: $f, altText: $a) { id url isPrimary position contentType altText } }";
const PHOTOS: &str = "query($id: ID!) { unit(id: $id) { primaryPhoto { id } photos { id isPrimary position url } } }";

#[tokio::test]
async fn photos_are_checked_ordered_with_one_primary_and_served() {
    let app = TestApp::spawn_with(&[("UPLOAD_MAX_IMAGE_BYTES", "4096")]).await;
    let owner = app.customer("photos@example.com").await;
    let unit = app.create_unit(&owner.access, json!({})).await;

    let mut ids = Vec::new();
    let mut bodies = Vec::new();
    for (name, bytes, content_type) in [
        ("front.png", png_bytes(), "image/png"),
        ("side.jpg", jpeg_bytes(), "image/jpeg"),
        ("back.webp", webp_bytes(), "image/webp"),
    ] {
        let (status, r) = app
            .upload(
                &owner.access,
                ADD,
                json!({ "u": unit, "f": null, "a": name }),
                vec![("f", name, bytes.clone())],
            )
            .await;
        assert_eq!(status, 200, "{r}");
        let photo = &r["data"]["addUnitPhoto"];
        assert_eq!(photo["contentType"], content_type, "{r}");
        assert_eq!(
            photo["isPrimary"],
            ids.is_empty(),
            "only the first is primary: {r}"
        );
        ids.push(photo["id"].as_str().unwrap().to_string());
        bodies.push(bytes);
    }
    assert_eq!(app.media_files("units"), 3);

    // A text file named .png is refused, and so is a file over the limit; neither is stored.
    let (_, r) = app
        .upload(
            &owner.access,
            ADD,
            json!({ "u": unit, "f": null }),
            vec![("f", "fake.png", b"just some text, honestly".to_vec())],
        )
        .await;
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "file"), "{r}");
    let mut big = png_bytes();
    big.resize(5000, 7);
    let (status, r) = app
        .upload(
            &owner.access,
            ADD,
            json!({ "u": unit, "f": null }),
            vec![("f", "big.png", big)],
        )
        .await;
    assert_eq!(status, 413, "{r}");
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "file"), "{r}");
    assert_eq!(app.media_files("units"), 3, "refused files are not stored");

    // The unit is not listed: URLs are signed, and they serve the bytes; the bare path does not.
    let r = app
        .gql_as(&owner.access, PHOTOS, json!({ "id": unit }))
        .await;
    let photos = r["data"]["unit"]["photos"].as_array().unwrap().clone();
    assert_eq!(photos.len(), 3);
    for (photo, body) in photos.iter().zip(&bodies) {
        let url = photo["url"]
            .as_str()
            .unwrap()
            .replace("http://autohub.test", &app.base);
        assert!(url.contains("sig="), "{url}");
        let response = app.client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.bytes().await.unwrap().to_vec(), *body);
        let bare = url.split('?').next().unwrap();
        assert_eq!(app.client.get(bare).send().await.unwrap().status(), 404);
        let tampered = url.replace("sig=", "sig=00");
        assert_eq!(
            app.client.get(&tampered).send().await.unwrap().status(),
            404
        );
    }

    // Reorder; set primary; delete the primary: the next in order is promoted.
    let order = vec![ids[2].clone(), ids[0].clone(), ids[1].clone()];
    let r = app
        .gql_as(&owner.access, "mutation($u: ID!, $p: [ID!]!) { reorderUnitPhotos(unitId: $u, photoIds: $p) { photos { id position } } }", json!({ "u": unit, "p": order }))
        .await;
    let got: Vec<&str> = r["data"]["reorderUnitPhotos"]["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        order.iter().map(String::as_str).collect::<Vec<_>>(),
        "{r}"
    );
    let r = app
        .gql_as(
            &owner.access,
            "mutation($u: ID!, $p: [ID!]!) { reorderUnitPhotos(unitId: $u, photoIds: $p) { id } }",
            json!({ "u": unit, "p": [ids[0]] }),
        )
        .await;
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "photoIds"), "{r}");
    let r = app
        .gql_as(&owner.access, "mutation($p: ID!) { setPrimaryUnitPhoto(photoId: $p) { primaryPhoto { id } photos { isPrimary } } }", json!({ "p": ids[1] }))
        .await;
    assert_eq!(
        r["data"]["setPrimaryUnitPhoto"]["primaryPhoto"]["id"],
        ids[1].as_str(),
        "{r}"
    );
    let primaries = r["data"]["setPrimaryUnitPhoto"]["photos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["isPrimary"] == true)
        .count();
    assert_eq!(primaries, 1);
    let r = app
        .gql_as(&owner.access, "mutation($p: ID!) { deleteUnitPhoto(photoId: $p) { primaryPhoto { id } photos { id } } }", json!({ "p": ids[1] }))
        .await;
    // Order is now [2, 0]: photo 2 comes first and is promoted.
    assert_eq!(
        r["data"]["deleteUnitPhoto"]["primaryPhoto"]["id"],
        ids[2].as_str(),
        "{r}"
    );
    assert_eq!(
        r["data"]["deleteUnitPhoto"]["photos"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        app.media_files("units"),
        2,
        "the deleted photo's file is gone"
    );

    // The units page reads owner and primary photo with the page: the same answers.
    let bare = app.create_unit(&owner.access, json!({})).await;
    let r = app
        .gql_as(
            &owner.access,
            "{ units { edges { node { id owner { id } primaryPhoto { id } } } } }",
            json!({}),
        )
        .await;
    let edges = r["data"]["units"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"));
    let node = |id: &str| {
        edges
            .iter()
            .find(|e| e["node"]["id"] == id)
            .map(|e| e["node"].clone())
    };
    let with_photos = node(&unit).unwrap();
    assert_eq!(with_photos["primaryPhoto"]["id"], ids[2].as_str(), "{r}");
    assert_eq!(with_photos["owner"]["id"], owner.id.as_str());
    assert!(node(&bare).unwrap()["primaryPhoto"].is_null(), "{r}");

    // Another customer can neither add nor see.
    let other = app.customer("other@example.com").await;
    let (_, r) = app
        .upload(
            &other.access,
            ADD,
            json!({ "u": unit, "f": null }),
            vec![("f", "x.png", png_bytes())],
        )
        .await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");
}

#[tokio::test]
async fn photos_of_listed_units_are_public() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let unit = app
        .create_unit(
            &admin.access,
            json!({ "isListed": true, "listPrice": "1000" }),
        )
        .await;
    let bytes = png_bytes();
    let (_, r) = app
        .upload(
            &admin.access,
            ADD,
            json!({ "u": unit, "f": null }),
            vec![("f", "a.png", bytes.clone())],
        )
        .await;
    let url = r["data"]["addUnitPhoto"]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"));
    assert!(!url.contains("sig="), "{url}");
    let response = app
        .client
        .get(url.replace("http://autohub.test", &app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.bytes().await.unwrap().to_vec(), bytes);
    for path in [
        "/media/../Cargo.toml",
        "/media/units/..%2F..%2Fx",
        "/media/units/nothing.png",
    ] {
        let status = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404, "{path}");
    }
}

#[tokio::test]
async fn an_avatar_replaces_the_previous_one_and_is_public() {
    let app = TestApp::spawn().await;
    let me = app.customer("avatar@example.com").await;
    let q = "mutation($f: Upload!) { uploadAvatar(file: $f) { avatarUrl } }";
    let (_, r) = app
        .upload(
            &me.access,
            q,
            json!({ "f": null }),
            vec![("f", "me.jpg", jpeg_bytes())],
        )
        .await;
    assert!(r["data"]["uploadAvatar"]["avatarUrl"].is_string(), "{r}");
    let second = webp_bytes();
    let (_, r) = app
        .upload(
            &me.access,
            q,
            json!({ "f": null }),
            vec![("f", "me.webp", second.clone())],
        )
        .await;
    let url = r["data"]["uploadAvatar"]["avatarUrl"]
        .as_str()
        .unwrap()
        .replace("http://autohub.test", &app.base);
    assert_eq!(app.media_files("avatars"), 1, "the old avatar was removed");
    let body = app
        .client
        .get(url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.to_vec(), second);
    let (_, r) = app
        .upload(
            &me.access,
            q,
            json!({ "f": null }),
            vec![("f", "me.png", b"GIF89a...".to_vec())],
        )
        .await;
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "file"), "{r}");
}

#[tokio::test]
async fn too_many_files_in_one_request_are_refused() {
    let app = TestApp::spawn_with(&[("UPLOAD_MAX_FILES", "2")]).await;
    let me = app.customer("many@example.com").await;
    let q = "mutation($a: Upload!, $b: Upload!, $c: Upload!) { a: uploadAvatar(file: $a) { id } b: uploadAvatar(file: $b) { id } c: uploadAvatar(file: $c) { id } }";
    let files = vec![
        ("a", "a.png", png_bytes()),
        ("b", "b.png", png_bytes()),
        ("c", "c.png", png_bytes()),
    ];
    let (status, r) = app
        .upload(
            &me.access,
            q,
            json!({ "a": null, "b": null, "c": null }),
            files,
        )
        .await;
    assert!(status == 400 || status == 413, "{status} {r}");
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    assert_eq!(app.media_files("avatars"), 0);
}

/// The default limits per kind: photos and avatars at most 10 MiB, refused while they stream;
/// chat files up to 25 MiB.
#[tokio::test]
async fn an_11_mib_photo_is_refused_and_an_11_mib_chat_file_accepted() {
    let app = TestApp::spawn().await;
    let owner = app.customer("big-photos@example.com").await;
    let admin = app.admin().await;
    let unit = app.create_unit(&owner.access, json!({})).await;
    let mut big = png_bytes();
    big.resize(11 * 1024 * 1024, 7);

    let (status, r) = app
        .upload(
            &owner.access,
            ADD,
            json!({ "u": unit, "f": null }),
            vec![("f", "big.png", big.clone())],
        )
        .await;
    assert_eq!(status, 413, "{r}");
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "file"), "{r}");
    let (status, r) = app
        .upload(
            &owner.access,
            "mutation($f: Upload!) { uploadAvatar(file: $f) { avatarUrl } }",
            json!({ "f": null }),
            vec![("f", "big.png", big.clone())],
        )
        .await;
    assert_eq!(status, 413, "{r}");
    assert_eq!(app.media_files("units"), 0, "nothing stored");
    assert_eq!(app.media_files("avatars"), 0, "nothing stored");

    let r = app
        .gql_as(
            &owner.access,
            "mutation($u: ID!) { openDirectRoom(userId: $u) { id } }",
            json!({ "u": admin.id }),
        )
        .await;
    let room = r["data"]["openDirectRoom"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, r) = app
        .upload(
            &owner.access,
            "mutation($r: ID!, $f: Upload!) { sendFileMessage(roomId: $r, file: $f) { attachment { size } } }",
            json!({ "r": room, "f": null }),
            vec![("f", "big.png", big)],
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        r["data"]["sendFileMessage"]["attachment"]["size"],
        11 * 1024 * 1024,
        "{r}"
    );
}
