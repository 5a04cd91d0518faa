//! One-time codes: lifetime, single use, five tries, the newest wins, send throttling, and no
//! account enumeration.

use serde_json::json;

use crate::common::{code, field, TestApp, PASSWORD};

const VERIFY: &str =
    "mutation($e: String!, $c: String!) { verifyEmail(email: $e, code: $c) { accessToken } }";
const RESEND: &str = "mutation($e: String!) { resendVerificationEmail(email: $e) }";

/// Any six digits but `right`.
fn wrong(right: &str) -> String {
    if right == "000000" {
        "000001".into()
    } else {
        "000000".into()
    }
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let app = TestApp::spawn_with(&[("OTP_TTL_SECONDS", "1")]).await;
    app.register("late@example.com").await;
    let c = app.mailed_code("late@example.com");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let r = app
        .gql(VERIFY, json!({ "e": "late@example.com", "c": c }))
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    assert_eq!(field(&r), "code");
    assert!(r["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));
}

#[tokio::test]
async fn five_wrong_tries_burn_the_code_even_for_the_right_one() {
    let app = TestApp::spawn().await;
    app.register("guess@example.com").await;
    let right = app.mailed_code("guess@example.com");
    for _ in 0..5 {
        let r = app
            .gql(
                VERIFY,
                json!({ "e": "guess@example.com", "c": wrong(&right) }),
            )
            .await;
        assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    }
    let r = app
        .gql(VERIFY, json!({ "e": "guess@example.com", "c": right }))
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    assert!(r["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("Too many"));
}

#[tokio::test]
async fn concurrent_guesses_get_no_more_than_five_tries() {
    let app = TestApp::spawn().await;
    app.register("burst@example.com").await;
    let right = app.mailed_code("burst@example.com");
    let guesses = (0..12).map(|_| {
        app.gql(
            VERIFY,
            json!({ "e": "burst@example.com", "c": wrong(&right) }),
        )
    });
    let results = futures_util::future::join_all(guesses).await;
    let burned = results
        .iter()
        .filter(|r| {
            r["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .contains("Too many")
        })
        .count();
    assert_eq!(burned, 7, "12 guesses, 5 tries: {results:?}");
}

#[tokio::test]
async fn a_newer_code_supersedes_the_older_one() {
    let app = TestApp::spawn_with(&[("OTP_RESEND_INTERVAL_SECONDS", "0")]).await;
    app.register("twice@example.com").await;
    let first = app.mailed_code("twice@example.com");
    let r = app.gql(RESEND, json!({ "e": "twice@example.com" })).await;
    assert_eq!(r["data"]["resendVerificationEmail"], true, "{r}");
    assert_eq!(app.mails_to("twice@example.com").len(), 2);
    let second = app.mailed_code("twice@example.com");
    if first != second {
        let r = app
            .gql(VERIFY, json!({ "e": "twice@example.com", "c": first }))
            .await;
        assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    }
    let r = app
        .gql(VERIFY, json!({ "e": "twice@example.com", "c": second }))
        .await;
    assert!(r["data"]["verifyEmail"]["accessToken"].is_string(), "{r}");
}

#[tokio::test]
async fn a_code_works_once() {
    let app = TestApp::spawn_with(&[("OTP_RESEND_INTERVAL_SECONDS", "0")]).await;
    app.customer("once@example.com").await;
    let reset = "mutation { requestPasswordReset(email: \"once@example.com\") }";
    app.gql(reset, json!({})).await;
    let c = app.mailed_code("once@example.com");
    let set = "mutation($c: String!, $p: String!) { resetPassword(email: \"once@example.com\", code: $c, newPassword: $p) }";
    let r = app
        .gql(set, json!({ "c": c, "p": "Green-Bicycle-77" }))
        .await;
    assert_eq!(r["data"]["resetPassword"], true, "{r}");
    let r = app.gql(set, json!({ "c": c, "p": "Red-Bicycle-88" })).await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    assert_eq!(field(&r), "code");
    assert!(app.login("once@example.com", "Green-Bicycle-77").await["data"]["login"].is_object());
}

#[tokio::test]
async fn the_reset_flow_takes_three_steps_and_keeps_a_code_through_a_weak_password() {
    let app = TestApp::spawn().await;
    app.customer("reset@example.com").await;
    let r = app
        .gql(
            "mutation { requestPasswordReset(email: \"reset@example.com\") }",
            json!({}),
        )
        .await;
    assert_eq!(r["data"]["requestPasswordReset"], true);
    let c = app.mailed_code("reset@example.com");
    let check =
        "mutation($c: String!) { verifyPasswordResetCode(email: \"reset@example.com\", code: $c) }";
    assert_eq!(
        app.gql(check, json!({ "c": c })).await["data"]["verifyPasswordResetCode"],
        true
    );
    let bad = app.gql(check, json!({ "c": wrong(&c) })).await;
    assert_eq!(code(&bad), "BAD_USER_INPUT");
    let set = "mutation($c: String!, $p: String!) { resetPassword(email: \"reset@example.com\", code: $c, newPassword: $p) }";
    let weak = app.gql(set, json!({ "c": c, "p": "12345678" })).await;
    assert_eq!(field(&weak), "newPassword", "{weak}");
    let r = app
        .gql(set, json!({ "c": c, "p": "Green-Bicycle-77" }))
        .await;
    assert_eq!(r["data"]["resetPassword"], true, "{r}");
    assert_eq!(
        code(&app.login("reset@example.com", PASSWORD).await),
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn sending_faster_than_the_throttle_is_rate_limited_with_a_delay() {
    let app = TestApp::spawn().await;
    app.register("fast@example.com").await;
    let r = app.gql(RESEND, json!({ "e": "fast@example.com" })).await;
    assert_eq!(code(&r), "RATE_LIMITED", "{r}");
    let wait = r["errors"][0]["extensions"]["retryAfterSeconds"]
        .as_u64()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(app.mails_to("fast@example.com").len(), 1);
}

#[tokio::test]
async fn the_hourly_send_limit_holds() {
    let app = TestApp::spawn_with(&[("OTP_RESEND_INTERVAL_SECONDS", "0")]).await;
    app.customer("hourly@example.com").await;
    let reset = "mutation { requestPasswordReset(email: \"hourly@example.com\") }";
    for _ in 0..5 {
        assert_eq!(
            app.gql(reset, json!({})).await["data"]["requestPasswordReset"],
            true
        );
    }
    let r = app.gql(reset, json!({})).await;
    assert_eq!(code(&r), "RATE_LIMITED", "{r}");
    assert!(
        r["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap()
            > 60
    );
}

#[tokio::test]
async fn unknown_addresses_get_true_and_nothing_is_sent() {
    let app = TestApp::spawn().await;
    for (query, key) in [
        (
            "mutation { requestPasswordReset(email: \"ghost@example.com\") }",
            "requestPasswordReset",
        ),
        (
            "mutation { resendVerificationEmail(email: \"ghost@example.com\") }",
            "resendVerificationEmail",
        ),
        (
            "mutation { requestPhoneLoginCode(phone: \"+15550100999\") }",
            "requestPhoneLoginCode",
        ),
    ] {
        let r = app.gql(query, json!({})).await;
        assert_eq!(r["data"][key], true, "{r}");
    }
    assert!(app.mails_to("ghost@example.com").is_empty());
    assert!(app.texts_to("+15550100999").is_empty());
}

#[tokio::test]
async fn a_customer_signs_in_with_a_texted_code() {
    let app = TestApp::spawn().await;
    let r = app
        .gql(
            "mutation($i: RegisterInput!) { register(input: $i) { id } }",
            json!({ "i": { "email": "phone@example.com", "password": PASSWORD, "firstName": "Pat",
                "lastName": "Phone", "phone": "+1 555 010 2030", "acceptTerms": true } }),
        )
        .await;
    assert!(r["data"]["register"]["id"].is_string(), "{r}");
    let c = app.mailed_code("phone@example.com");
    app.gql(VERIFY, json!({ "e": "phone@example.com", "c": c }))
        .await;

    let r = app
        .gql(
            "mutation { requestPhoneLoginCode(phone: \"+15550102030\") }",
            json!({}),
        )
        .await;
    assert_eq!(r["data"]["requestPhoneLoginCode"], true);
    let texts = app.texts_to("+15550102030");
    assert_eq!(texts.len(), 1);
    let texted = crate::common::code_in(&texts[0]);
    let login = "mutation($c: String!) { loginWithPhoneCode(phone: \"+1 (555) 010-2030\", code: $c) { accessToken user { phoneVerified } } }";
    let r = app.gql(login, json!({ "c": texted })).await;
    assert_eq!(
        r["data"]["loginWithPhoneCode"]["user"]["phoneVerified"], true,
        "{r}"
    );
    let again = app.gql(login, json!({ "c": texted })).await;
    assert_eq!(code(&again), "BAD_USER_INPUT");
}
