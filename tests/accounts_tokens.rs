//! Tokens and sessions: rotation, theft detection, and every way a session ends at once.

use base64::Engine;
use serde_json::json;

use crate::common::{actor, code, Actor, TestApp, PASSWORD};

const REFRESH: &str = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken user { id } } }";
const ME: &str = "{ me { id } }";

async fn refresh(app: &TestApp, token: &str) -> serde_json::Value {
    app.gql(REFRESH, json!({ "t": token })).await
}

async fn assert_signed_out(app: &TestApp, who: &Actor) {
    let r = app.gql_as(&who.access, ME, json!({})).await;
    assert_eq!(code(&r), "UNAUTHENTICATED", "access token still works: {r}");
}

#[tokio::test]
async fn refresh_rotates_and_a_replayed_token_ends_the_session() {
    let app = TestApp::spawn().await;
    let first = app.customer("rot@example.com").await;

    let r = refresh(&app, &first.refresh).await;
    let second = actor("rot@example.com", &r["data"]["refreshToken"]);
    assert_ne!(second.refresh, first.refresh);
    assert_eq!(
        app.gql_as(&second.access, ME, json!({})).await["data"]["me"]["id"],
        first.id.as_str()
    );

    // The old token was rotated: presenting it again is theft, and the session ends.
    let r = refresh(&app, &first.refresh).await;
    assert_eq!(code(&r), "UNAUTHENTICATED", "{r}");
    let r = refresh(&app, &second.refresh).await;
    assert_eq!(
        code(&r),
        "UNAUTHENTICATED",
        "newest refresh token still works: {r}"
    );
    assert_signed_out(&app, &second).await;
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_never_give_two_live_sessions() {
    let app = TestApp::spawn().await;
    let who = app.customer("race@example.com").await;
    let results = futures_util::future::join_all((0..5).map(|_| refresh(&app, &who.refresh))).await;
    let winners: Vec<_> = results
        .iter()
        .filter(|r| r["data"]["refreshToken"].is_object())
        .collect();
    assert!(winners.len() <= 1, "{results:?}");
    for w in winners {
        // The losers replayed a rotated token, so the winner's session ended too.
        let token = w["data"]["refreshToken"]["accessToken"].as_str().unwrap();
        assert_eq!(
            code(&app.gql_as(token, ME, json!({})).await),
            "UNAUTHENTICATED"
        );
    }
}

#[tokio::test]
async fn logout_ends_the_session_at_once() {
    let app = TestApp::spawn().await;
    let who = app.customer("out@example.com").await;
    let r = app
        .gql_as(&who.access, "mutation { logout }", json!({}))
        .await;
    assert_eq!(r["data"]["logout"], true, "{r}");
    assert_signed_out(&app, &who).await;
    assert_eq!(code(&refresh(&app, &who.refresh).await), "UNAUTHENTICATED");
}

#[tokio::test]
async fn sessions_are_listed_and_revoked_one_by_one_or_all_but_current() {
    let app = TestApp::spawn().await;
    let phone = app.customer("many@example.com").await;
    let laptop = app.login_actor("many@example.com").await;
    let tablet = app.login_actor("many@example.com").await;

    let r = app
        .gql_as(
            &laptop.access,
            "{ mySessions { id current deviceName } }",
            json!({}),
        )
        .await;
    let sessions = r["data"]["mySessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3, "{r}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let phone_session = sessions
        .iter()
        .find(|s| s["current"] == false && s["deviceName"].is_null())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let r = app
        .gql_as(
            &laptop.access,
            "mutation($id: ID!) { revokeSession(id: $id) }",
            json!({ "id": phone_session }),
        )
        .await;
    assert_eq!(r["data"]["revokeSession"], true, "{r}");
    assert_signed_out(&app, &phone).await;

    // Another user's session is not found.
    let stranger = app.customer("stranger@example.com").await;
    let r = app
        .gql_as(
            &stranger.access,
            "mutation($id: ID!) { revokeSession(id: $id) }",
            json!({ "id": phone_session }),
        )
        .await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");

    let r = app
        .gql_as(
            &laptop.access,
            "mutation { revokeOtherSessions }",
            json!({}),
        )
        .await;
    assert_eq!(r["data"]["revokeOtherSessions"], 1, "{r}");
    assert_signed_out(&app, &tablet).await;
    assert!(app.gql_as(&laptop.access, ME, json!({})).await["data"]["me"].is_object());
}

#[tokio::test]
async fn a_password_reset_ends_every_session() {
    let app = TestApp::spawn().await;
    let who = app.customer("forgot@example.com").await;
    app.gql(
        "mutation { requestPasswordReset(email: \"forgot@example.com\") }",
        json!({}),
    )
    .await;
    let c = app.mailed_code("forgot@example.com");
    let r = app
        .gql(
            "mutation($c: String!) { resetPassword(email: \"forgot@example.com\", code: $c, newPassword: \"Green-Bicycle-77\") }",
            json!({ "c": c }),
        )
        .await;
    assert_eq!(r["data"]["resetPassword"], true, "{r}");
    assert_signed_out(&app, &who).await;
    assert_eq!(code(&refresh(&app, &who.refresh).await), "UNAUTHENTICATED");
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_only() {
    let app = TestApp::spawn().await;
    let here = app.customer("change@example.com").await;
    let elsewhere = app.login_actor("change@example.com").await;
    let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }";
    let r = app
        .gql_as(
            &here.access,
            change,
            json!({ "c": "wrong-password", "n": "Green-Bicycle-77" }),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT");
    assert_eq!(r["errors"][0]["extensions"]["field"], "currentPassword");
    let r = app
        .gql_as(
            &here.access,
            change,
            json!({ "c": PASSWORD, "n": "Green-Bicycle-77" }),
        )
        .await;
    assert_eq!(r["data"]["changePassword"], true, "{r}");
    assert_signed_out(&app, &elsewhere).await;
    assert!(app.gql_as(&here.access, ME, json!({})).await["data"]["me"].is_object());
    assert!(app.login("change@example.com", "Green-Bicycle-77").await["data"]["login"].is_object());
}

#[tokio::test]
async fn suspension_ends_sessions_and_refuses_sign_in() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let who = app.customer("bad@example.com").await;
    let r = app
        .gql_as(
            &admin.access,
            "mutation($u: ID!) { setAccountStatus(userId: $u, status: SUSPENDED) { status } }",
            json!({ "u": who.id }),
        )
        .await;
    assert_eq!(r["data"]["setAccountStatus"]["status"], "SUSPENDED", "{r}");
    assert_signed_out(&app, &who).await;
    let r = app.login("bad@example.com", PASSWORD).await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    assert!(r["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("suspended"));
}

#[tokio::test]
async fn tampered_expired_and_unsigned_tokens_are_unauthenticated() {
    let app = TestApp::spawn_with(&[("ACCESS_TOKEN_TTL_SECONDS", "1")]).await;
    let who = app.customer("tok@example.com").await;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;

    let mut parts: Vec<String> = who.access.split('.').map(str::to_string).collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&b64.decode(&parts[1]).unwrap()).unwrap();
    claims["role"] = json!("ADMIN");
    parts[1] = b64.encode(claims.to_string());
    let tampered = parts.join(".");
    let unsigned = format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );

    for token in [tampered.as_str(), unsigned.as_str(), "garbage"] {
        let r = app.gql_as(token, ME, json!({})).await;
        assert_eq!(code(&r), "UNAUTHENTICATED", "{token}: {r}");
    }
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = app.gql_as(&who.access, ME, json!({})).await;
    assert_eq!(code(&r), "UNAUTHENTICATED", "expired token accepted: {r}");
}
