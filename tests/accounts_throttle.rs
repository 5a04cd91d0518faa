//! Login throttling counts every attempt, also when many are aliased or batched into one request.

use serde_json::json;

use crate::common::{code, TestApp, PASSWORD};

#[tokio::test]
async fn twenty_aliased_wrong_logins_evaluate_no_more_than_the_limit() {
    let app = TestApp::spawn().await;
    app.customer("target@example.com").await;
    let aliases: String = (0..20)
        .map(|i| format!("a{i}: login(email: \"target@example.com\", password: \"wrong-{i}\") {{ accessToken }}\n"))
        .collect();
    let (status, r) = app
        .post(
            json!({ "query": format!("mutation {{ {aliases} }}") }).to_string(),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let errors = r["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 20, "{r}");
    let evaluated = errors
        .iter()
        .filter(|e| e["extensions"]["code"] == "UNAUTHENTICATED")
        .count();
    let limited = errors
        .iter()
        .filter(|e| e["extensions"]["code"] == "RATE_LIMITED")
        .count();
    assert_eq!(evaluated, 10, "{r}");
    assert_eq!(limited, 10, "{r}");
    assert!(errors.iter().any(|e| e["extensions"]["retryAfterSeconds"]
        .as_u64()
        .is_some_and(|s| s > 0)));

    // The right password is throttled too until the window passes.
    let r = app.login("target@example.com", PASSWORD).await;
    assert_eq!(code(&r), "RATE_LIMITED", "{r}");
}

#[tokio::test]
async fn batched_wrong_logins_count_one_by_one_and_the_window_passes() {
    let app =
        TestApp::spawn_with(&[("LOGIN_WINDOW_SECONDS", "2"), ("QUERY_MAX_BATCH", "20")]).await;
    app.customer("batch@example.com").await;
    let batch: Vec<_> = (0..12)
        .map(|i| json!({ "query": format!("mutation {{ login(email: \"batch@example.com\", password: \"nope-{i}\") {{ accessToken }} }}") }))
        .collect();
    let (status, r) = app
        .post(serde_json::Value::Array(batch).to_string(), None)
        .await;
    assert_eq!(status, 200);
    let codes: Vec<&str> = r.as_array().unwrap().iter().map(code).collect();
    assert_eq!(
        codes.iter().filter(|c| **c == "UNAUTHENTICATED").count(),
        10,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| **c == "RATE_LIMITED").count(),
        2,
        "{codes:?}"
    );

    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = app.login("batch@example.com", PASSWORD).await;
    assert!(r["data"]["login"]["accessToken"].is_string(), "{r}");
}

#[tokio::test]
async fn concurrent_wrong_logins_evaluate_no_more_than_the_limit() {
    let app = TestApp::spawn().await;
    app.customer("storm@example.com").await;
    let attempts = (0..25).map(|i| {
        app.login(
            "storm@example.com",
            if i % 2 == 0 { "bad-one" } else { "bad-two" },
        )
    });
    let results = futures_util::future::join_all(attempts).await;
    let evaluated = results
        .iter()
        .filter(|r| code(r) == "UNAUTHENTICATED")
        .count();
    assert_eq!(evaluated, 10, "{results:?}");
}

#[tokio::test]
async fn a_right_password_does_not_count_as_a_failure() {
    let app = TestApp::spawn().await;
    app.customer("fine@example.com").await;
    for _ in 0..15 {
        let r = app.login("fine@example.com", PASSWORD).await;
        assert!(r["data"]["login"]["accessToken"].is_string(), "{r}");
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_address_has_its_own_window() {
    let app =
        TestApp::spawn_with(&[("TRUST_FORWARDED_FOR", "true"), ("LOGIN_MAX_FAILURES", "2")]).await;
    let attempt = |email: &'static str, from: &'static str| {
        let app = &app;
        async move {
            let response = app
                .client
                .post(format!("{}/graphql", app.base))
                .header("x-forwarded-for", format!("203.0.113.99, {from}"))
                .json(&json!({ "query": format!("mutation {{ login(email: \"{email}\", password: \"nope\") {{ accessToken }} }}") }))
                .send()
                .await
                .unwrap();
            let body: serde_json::Value = response.json().await.unwrap();
            code(&body).to_string()
        }
    };
    let steps = [
        // Two failures from one address (on two accounts) use up that address's window…
        ("a@example.com", "198.51.100.1", "UNAUTHENTICATED"),
        ("b@example.com", "198.51.100.1", "UNAUTHENTICATED"),
        ("c@example.com", "198.51.100.1", "RATE_LIMITED"),
        // …but not another client's, although the first (client-claimed) entry is the same.
        ("c@example.com", "198.51.100.2", "UNAUTHENTICATED"),
    ];
    for (email, from, expected) in steps {
        assert_eq!(attempt(email, from).await, expected, "{email} from {from}");
    }
}
