//! Sign-in with Google and Facebook against fake providers on loopback: a JWKS server with key
//! pairs made here, and a Graph API that knows a few tokens. Nothing reaches the internet.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};

use crate::common::{code, TestApp};

const LOGIN_GOOGLE: &str = "mutation($t: String!) { loginWithGoogle(idToken: $t, deviceName: \"phone\") { accessToken user { id email role status referralCode } } }";
const LOGIN_FACEBOOK: &str = "mutation($t: String!) { loginWithFacebook(accessToken: $t) { accessToken user { id email role status } } }";
const CLIENT_ID: &str = "autohub-test.apps.example";

#[derive(Clone, Default)]
struct Fake {
    jwks: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
    /// Facebook tokens: `debug_token`'s data and `/me`'s profile.
    facebook: Arc<Mutex<HashMap<String, (Value, Value)>>>,
}

async fn certs(State(fake): State<Fake>) -> impl IntoResponse {
    fake.fetches.fetch_add(1, Ordering::SeqCst);
    let body = fake.jwks.lock().unwrap().clone();
    ([("cache-control", "public, max-age=3600")], Json(body))
}

async fn debug_token(
    State(fake): State<Fake>,
    Query(q): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    assert_eq!(
        q.get("access_token").map(String::as_str),
        Some("app-1|app-secret")
    );
    let known = fake.facebook.lock().unwrap();
    match q.get("input_token").and_then(|t| known.get(t)) {
        Some((data, _)) => (axum::http::StatusCode::OK, Json(json!({ "data": data }))),
        None => (
            axum::http::StatusCode::BAD_REQUEST,
            Json(json!({ "error": { "message": "Invalid OAuth access token." } })),
        ),
    }
}

async fn me(
    State(fake): State<Fake>,
    Query(q): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    let known = fake.facebook.lock().unwrap();
    match q.get("access_token").and_then(|t| known.get(t)) {
        Some((_, profile)) => (axum::http::StatusCode::OK, Json(profile.clone())),
        None => (
            axum::http::StatusCode::BAD_REQUEST,
            Json(json!({ "error": {} })),
        ),
    }
}

/// The fake providers on a free loopback port; their base URL.
async fn providers(fake: Fake) -> String {
    let app = Router::new()
        .route("/certs", get(certs))
        .route("/debug_token", get(debug_token))
        .route("/me", get(me))
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

fn key() -> RsaPrivateKey {
    RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap()
}

fn jwk(kid: &str, key: &RsaPrivateKey) -> Value {
    let b64 = |bytes: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": b64(key.n().to_bytes_be()), "e": b64(key.e().to_bytes_be()) })
}

fn sign(key: &RsaPrivateKey, kid: &str, claims: &Value) -> String {
    let der = key.to_pkcs1_der().unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    encode(&header, claims, &EncodingKey::from_rsa_der(der.as_bytes())).unwrap()
}

fn claims(sub: &str, email: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "iss": "https://accounts.google.com", "aud": CLIENT_ID, "sub": sub, "email": email,
            "email_verified": true, "given_name": "Gina", "family_name": "Google",
            "iat": now, "exp": now + 600 })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

async fn app_with(base: &str) -> TestApp {
    TestApp::spawn_with(&[
        ("GOOGLE_CLIENT_ID", CLIENT_ID),
        ("GOOGLE_JWKS_URL", &format!("{base}/certs")),
        ("GOOGLE_JWKS_REFETCH_SECONDS", "0"),
        ("FACEBOOK_APP_ID", "app-1"),
        ("FACEBOOK_APP_SECRET", "app-secret"),
        ("FACEBOOK_GRAPH_URL", base),
    ])
    .await
}

#[tokio::test]
async fn google_sign_in_verifies_the_token_links_by_email_and_follows_key_rotation() {
    let fake = Fake::default();
    let (k1, k2, stranger) = (key(), key(), key());
    *fake.jwks.lock().unwrap() = json!({ "keys": [jwk("k1", &k1)] });
    let base = providers(fake.clone()).await;
    let app = app_with(&base).await;

    // A new person: an ACTIVE customer with a referral code; again: the same account.
    let token = sign(&k1, "k1", &claims("g-100", "Gina@Example.com"));
    let r = app.gql(LOGIN_GOOGLE, json!({ "t": token })).await;
    let user = &r["data"]["loginWithGoogle"]["user"];
    assert_eq!(user["email"], "gina@example.com", "{r}");
    assert_eq!(
        (user["role"].as_str(), user["status"].as_str()),
        (Some("CUSTOMER"), Some("ACTIVE"))
    );
    assert!(
        user["referralCode"]
            .as_str()
            .is_some_and(|c| c.starts_with("REF-")),
        "{r}"
    );
    let gina = user["id"].clone();
    let r = app.gql(LOGIN_GOOGLE, json!({ "t": token })).await;
    assert_eq!(r["data"]["loginWithGoogle"]["user"]["id"], gina, "{r}");
    let access = r["data"]["loginWithGoogle"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app.gql_as(&access, "{ me { id } }", json!({})).await;
    assert_eq!(r["data"]["me"]["id"], gina, "{r}");
    // Cached keys: one fetch so far.
    assert_eq!(fake.fetches.load(Ordering::SeqCst), 1);

    // Each of these is refused.
    let now = chrono::Utc::now().timestamp();
    let refused = [
        (
            "wrong aud",
            sign(
                &k1,
                "k1",
                &with(
                    claims("g-100", "gina@example.com"),
                    "aud",
                    json!("someone-else"),
                ),
            ),
        ),
        (
            "wrong iss",
            sign(
                &k1,
                "k1",
                &with(
                    claims("g-100", "gina@example.com"),
                    "iss",
                    json!("https://evil.example"),
                ),
            ),
        ),
        (
            "expired",
            sign(
                &k1,
                "k1",
                &with(
                    claims("g-100", "gina@example.com"),
                    "exp",
                    json!(now - 3600),
                ),
            ),
        ),
        (
            "unverified email",
            sign(
                &k1,
                "k1",
                &with(
                    claims("g-101", "new@example.com"),
                    "email_verified",
                    json!(false),
                ),
            ),
        ),
        (
            "bad signature",
            sign(&stranger, "k1", &claims("g-100", "gina@example.com")),
        ),
        (
            "unknown kid",
            sign(&stranger, "k9", &claims("g-100", "gina@example.com")),
        ),
        ("not a token", "abc.def.ghi".to_string()),
    ];
    for (why, token) in refused {
        let r = app.gql(LOGIN_GOOGLE, json!({ "t": token })).await;
        assert_eq!(code(&r), "UNAUTHENTICATED", "{why}: {r}");
    }

    // Google rotates its keys: a token with the new kid makes one new fetch.
    *fake.jwks.lock().unwrap() = json!({ "keys": [jwk("k2", &k2)] });
    let before = fake.fetches.load(Ordering::SeqCst);
    let r = app
        .gql(
            LOGIN_GOOGLE,
            json!({ "t": sign(&k2, "k2", &claims("g-100", "gina@example.com")) }),
        )
        .await;
    assert_eq!(r["data"]["loginWithGoogle"]["user"]["id"], gina, "{r}");
    assert_eq!(fake.fetches.load(Ordering::SeqCst), before + 1);

    // An account with the same verified email is linked, not duplicated; it keeps its password.
    let carl = app.customer("carl@example.com").await;
    let r = app
        .gql(
            LOGIN_GOOGLE,
            json!({ "t": sign(&k2, "k2", &claims("g-200", "carl@example.com")) }),
        )
        .await;
    assert_eq!(
        r["data"]["loginWithGoogle"]["user"]["id"],
        carl.id.as_str(),
        "{r}"
    );
    let r = app.login("carl@example.com", crate::common::PASSWORD).await;
    assert_eq!(r["data"]["login"]["user"]["id"], carl.id.as_str(), "{r}");

    // First sign-ins at the same instant: one account.
    let token = sign(&k2, "k2", &claims("g-300", "racer@example.com"));
    let results = futures_util::future::join_all(
        (0..5).map(|_| app.gql(LOGIN_GOOGLE, json!({ "t": token }))),
    )
    .await;
    let ids: std::collections::HashSet<String> = results
        .iter()
        .map(|r| {
            r["data"]["loginWithGoogle"]["user"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{r}"))
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{results:?}");

    // A suspended account stays refused.
    let admin = app.admin().await;
    let r = app
        .gql_as(
            &admin.access,
            "mutation($u: ID!) { setAccountStatus(userId: $u, status: SUSPENDED) { status } }",
            json!({ "u": carl.id }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = app
        .gql(
            LOGIN_GOOGLE,
            json!({ "t": sign(&k2, "k2", &claims("g-200", "carl@example.com")) }),
        )
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
}

#[tokio::test]
async fn facebook_sign_in_asks_debug_token_for_this_app_and_links_by_email() {
    let fake = Fake::default();
    {
        let mut tokens = fake.facebook.lock().unwrap();
        let profile = |id: &str, email: &str| json!({ "id": id, "email": email, "first_name": "Fay", "last_name": "Book" });
        tokens.insert(
            "fb-good".into(),
            (
                json!({ "is_valid": true, "app_id": "app-1", "user_id": "500" }),
                profile("500", "fay@example.com"),
            ),
        );
        tokens.insert(
            "fb-invalid".into(),
            (
                json!({ "is_valid": false, "app_id": "app-1", "user_id": "501" }),
                profile("501", "x@example.com"),
            ),
        );
        tokens.insert(
            "fb-other-app".into(),
            (
                json!({ "is_valid": true, "app_id": "app-2", "user_id": "502" }),
                profile("502", "y@example.com"),
            ),
        );
        tokens.insert(
            "fb-carl".into(),
            (
                json!({ "is_valid": true, "app_id": "app-1", "user_id": "503" }),
                profile("503", "carl.fb@example.com"),
            ),
        );
        tokens.insert(
            "fb-no-email".into(),
            (
                json!({ "is_valid": true, "app_id": "app-1", "user_id": "504" }),
                json!({ "id": "504" }),
            ),
        );
    }
    let base = providers(fake.clone()).await;
    let app = app_with(&base).await;

    let r = app.gql(LOGIN_FACEBOOK, json!({ "t": "fb-good" })).await;
    let fay = r["data"]["loginWithFacebook"]["user"]["id"].clone();
    assert_eq!(
        r["data"]["loginWithFacebook"]["user"]["status"], "ACTIVE",
        "{r}"
    );
    let r = app.gql(LOGIN_FACEBOOK, json!({ "t": "fb-good" })).await;
    assert_eq!(r["data"]["loginWithFacebook"]["user"]["id"], fay, "{r}");
    for token in ["fb-invalid", "fb-other-app", "fb-unknown", "fb-no-email"] {
        let r = app.gql(LOGIN_FACEBOOK, json!({ "t": token })).await;
        assert_eq!(code(&r), "UNAUTHENTICATED", "{token}: {r}");
    }
    // The same linking rule: an existing account of that email.
    let carl = app.customer("carl.fb@example.com").await;
    let r = app.gql(LOGIN_FACEBOOK, json!({ "t": "fb-carl" })).await;
    assert_eq!(
        r["data"]["loginWithFacebook"]["user"]["id"],
        carl.id.as_str(),
        "{r}"
    );
}

#[tokio::test]
async fn an_unconfigured_provider_is_forbidden_and_says_so() {
    let app = TestApp::spawn().await;
    for (query, name) in [
        (LOGIN_GOOGLE, "loginWithGoogle"),
        (LOGIN_FACEBOOK, "loginWithFacebook"),
    ] {
        let r = app.gql(query, json!({ "t": "anything" })).await;
        assert_eq!(code(&r), "FORBIDDEN", "{name}: {r}");
        assert!(
            r["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("not configured")),
            "{r}"
        );
    }
}
