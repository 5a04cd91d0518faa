//! Sign-up to `me`: registration, verification by the mailed code, and the rules on the way.

use serde_json::json;

use crate::common::{code, field, TestApp, PASSWORD};

const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) { id email status role referralCode } }";

fn input(email: &str, password: &str) -> serde_json::Value {
    json!({ "input": { "email": email, "password": password, "firstName": "Maria",
        "lastName": "Lopez", "acceptTerms": true } })
}

#[tokio::test]
async fn a_customer_signs_up_verifies_by_mail_and_reads_me() {
    let app = TestApp::spawn().await;
    let r = app
        .gql(REGISTER, input("  Maria@Example.COM ", PASSWORD))
        .await;
    let user = &r["data"]["register"];
    assert_eq!(user["email"], "maria@example.com", "{r}");
    assert_eq!(user["status"], "PENDING_VERIFICATION");
    assert_eq!(user["role"], "CUSTOMER");
    assert!(user["referralCode"].as_str().unwrap().starts_with("REF-"));

    // Not yet: the right password of an unverified account is FORBIDDEN.
    let r = app.login("maria@example.com", PASSWORD).await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    assert!(r["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("verify"));

    let mailed = app.mailed_code("maria@example.com");
    let r = app
        .gql(
            "mutation($e: String!, $c: String!) { verifyEmail(email: $e, code: $c) { accessToken refreshToken accessTokenExpiresAt user { status emailVerified } } }",
            json!({ "e": "maria@example.com", "c": mailed }),
        )
        .await;
    let payload = &r["data"]["verifyEmail"];
    assert_eq!(payload["user"]["status"], "ACTIVE", "{r}");
    assert_eq!(payload["user"]["emailVerified"], true);

    let me = app
        .gql_as(
            payload["accessToken"].as_str().unwrap(),
            "{ me { email fullName status referralLink } }",
            json!({}),
        )
        .await;
    assert_eq!(me["data"]["me"]["email"], "maria@example.com", "{me}");
    assert_eq!(me["data"]["me"]["fullName"], "Maria Lopez");
    assert!(me["data"]["me"]["referralLink"]
        .as_str()
        .unwrap()
        .starts_with("http://autohub.test/r/REF-"));

    // And a plain login works now.
    let r = app.login("MARIA@example.com", PASSWORD).await;
    assert!(r["data"]["login"]["accessToken"].is_string(), "{r}");
}

#[tokio::test]
async fn me_is_null_when_not_signed_in() {
    let app = TestApp::spawn().await;
    let r = app.gql("{ me { id } }", json!({})).await;
    assert_eq!(r["data"]["me"], serde_json::Value::Null, "{r}");
    assert!(r.get("errors").is_none());
}

#[tokio::test]
async fn a_duplicate_email_is_a_conflict_whatever_its_case() {
    let app = TestApp::spawn().await;
    app.register("dup@example.com").await;
    let before = app.mails_to("dup@example.com").len();
    let r = app.gql(REGISTER, input("DUP@example.com", PASSWORD)).await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    assert_eq!(field(&r), "email");
    assert_eq!(app.mails_to("dup@example.com").len(), before);
}

#[tokio::test]
async fn each_password_rule_refuses_a_weak_password_on_the_password_field() {
    let app = TestApp::spawn().await;
    let cases = [
        ("Sh0rt!x", "at least 8"),
        ("12345678901", "only digits"),
        ("password123", "too common"),
        ("my-mlopez99-pw", "email"),
        ("maria-rocks-77", "name"),
        ("LOPEZ-family-1", "name"),
    ];
    let email = "mlopez99@example.com";
    for (password, why) in cases {
        let r = app
            .gql(
                REGISTER,
                json!({ "input": { "email": email, "password": password,
                "firstName": "Maria", "lastName": "Lopez", "acceptTerms": true } }),
            )
            .await;
        assert_eq!(code(&r), "BAD_USER_INPUT", "{password}: {r}");
        assert_eq!(field(&r), "password", "{password}");
        let message = r["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(why), "{password}: {message}");
    }
    // Nothing was created: the same address can still sign up.
    assert!(app.mails_to(email).is_empty());
}

#[tokio::test]
async fn terms_must_be_accepted_and_names_given() {
    let app = TestApp::spawn().await;
    let r = app
        .gql(
            REGISTER,
            json!({ "input": { "email": "t@example.com", "password": PASSWORD,
            "firstName": "T", "lastName": "U", "acceptTerms": false } }),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    assert_eq!(field(&r), "acceptTerms");
    let r = app
        .gql(
            REGISTER,
            json!({ "input": { "email": "t@example.com", "password": PASSWORD,
            "firstName": "   ", "lastName": "U", "acceptTerms": true } }),
        )
        .await;
    assert_eq!(field(&r), "firstName", "{r}");
    let r = app.gql(REGISTER, input("not-an-email", PASSWORD)).await;
    assert_eq!(field(&r), "email", "{r}");
    assert!(app.mails_to("t@example.com").is_empty());
}

#[tokio::test]
async fn a_referral_code_records_a_referral_that_qualifies_on_verification() {
    let app = TestApp::spawn().await;
    let referrer = app.customer("referrer@example.com").await;
    let info = app
        .gql_as(
            &referrer.access,
            "{ myReferrals { code link referrals { id } totalEarned } }",
            json!({}),
        )
        .await;
    let ref_code = info["data"]["myReferrals"]["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        info["data"]["myReferrals"]["link"],
        format!("http://autohub.test/r/{ref_code}")
    );

    let r = app
        .gql(REGISTER, json!({ "input": { "email": "friend@example.com", "password": PASSWORD,
            "firstName": "Fred", "lastName": "Friend", "acceptTerms": true, "referralCode": ref_code.to_lowercase() } }))
        .await;
    assert!(r["data"]["register"]["id"].is_string(), "{r}");
    let list = "{ myReferrals { referrals { status code rewardPoints referred { firstName email } referrer { id } } } }";
    let r = app.gql_as(&referrer.access, list, json!({})).await;
    let referral = &r["data"]["myReferrals"]["referrals"][0];
    assert_eq!(referral["status"], "PENDING", "{r}");
    assert_eq!(referral["rewardPoints"], 500);
    assert_eq!(referral["referred"]["firstName"], "Fred");
    // The referrer is a customer: the friend's email is private.
    assert_eq!(referral["referred"]["email"], serde_json::Value::Null);
    assert_eq!(referral["referrer"]["id"], referrer.id.as_str());

    let mailed = app.mailed_code("friend@example.com");
    app.gql("mutation($c: String!) { verifyEmail(email: \"friend@example.com\", code: $c) { accessToken } }", json!({ "c": mailed }))
        .await;
    let r = app.gql_as(&referrer.access, list, json!({})).await;
    assert_eq!(
        r["data"]["myReferrals"]["referrals"][0]["status"], "QUALIFIED",
        "{r}"
    );

    let r = app
        .gql(REGISTER, json!({ "input": { "email": "x@example.com", "password": PASSWORD,
            "firstName": "X", "lastName": "Y", "acceptTerms": true, "referralCode": "REF-ZZZZZZ" } }))
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    assert_eq!(field(&r), "referralCode");
}

#[tokio::test]
async fn a_profile_changes_only_what_is_given_and_checks_each_field() {
    let app = TestApp::spawn().await;
    let who = app.customer("profile@example.com").await;
    let update = "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { firstName lastName bio zipCode phone phoneVerified } }";
    let r = app
        .gql_as(
            &who.access,
            update,
            json!({ "i": { "bio": "  Likes old Volvos.  ", "zipCode": "90210" } }),
        )
        .await;
    let user = &r["data"]["updateProfile"];
    assert_eq!(user["bio"], "Likes old Volvos.", "{r}");
    assert_eq!(user["firstName"], "Test", "absent fields stay");
    assert_eq!(user["zipCode"], "90210");

    let r = app
        .gql_as(&who.access, update, json!({ "i": { "zipCode": "" } }))
        .await;
    assert!(
        r["data"]["updateProfile"]["zipCode"].is_null(),
        "an empty string clears: {r}"
    );

    for (input, bad_field) in [
        (json!({ "firstName": "  " }), "firstName"),
        (json!({ "bio": "x".repeat(2001) }), "bio"),
        (json!({ "phone": "12" }), "phone"),
        (json!({ "dateOfBirth": "2999-01-01" }), "dateOfBirth"),
    ] {
        let r = app.gql_as(&who.access, update, json!({ "i": input })).await;
        assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
        assert_eq!(field(&r), bad_field);
    }
    let r = app
        .gql_as(&who.access, "{ me { firstName bio } }", json!({}))
        .await;
    assert_eq!(
        r["data"]["me"]["firstName"], "Test",
        "a refused change changed nothing: {r}"
    );
    assert_eq!(r["data"]["me"]["bio"], "Likes old Volvos.");

    let r = app
        .gql(update, json!({ "i": { "bio": "anonymous" } }))
        .await;
    assert_eq!(code(&r), "UNAUTHENTICATED", "{r}");
}

#[tokio::test]
async fn an_unknown_email_and_a_wrong_password_look_the_same() {
    let app = TestApp::spawn().await;
    app.customer("known@example.com").await;
    let unknown = app.login("unknown@example.com", PASSWORD).await;
    let wrong = app.login("known@example.com", "Not-The-Password-1").await;
    assert_eq!(code(&unknown), "UNAUTHENTICATED");
    assert_eq!(code(&wrong), "UNAUTHENTICATED");
    assert_eq!(
        unknown["errors"][0]["message"],
        wrong["errors"][0]["message"]
    );
}
