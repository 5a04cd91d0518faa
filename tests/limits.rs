//! Limits and bad input: each refused clearly (a 4xx, or a GraphQL error with a code), never a 500.

use serde_json::{json, Value};

use crate::common::{code, field, message, TestApp};

#[tokio::test]
async fn a_query_deeper_than_the_limit_is_refused() {
    let app = TestApp::spawn_with(&[("QUERY_MAX_DEPTH", "3")]).await;
    let r = app
        .gql(
            "{ myReferrals { referrals { referrer { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    assert_eq!(field(&r), "query");
    assert!(message(&r).contains("nested too deep"), "{r}");
    assert!(r.get("data").is_none_or(Value::is_null));
}

#[tokio::test]
async fn a_batch_larger_than_the_cap_is_a_400() {
    let app = TestApp::spawn_with(&[("QUERY_MAX_BATCH", "3")]).await;
    let batch: Vec<_> = (0..4)
        .map(|_| json!({ "query": "{ me { id } }" }))
        .collect();
    let (status, r) = app.post(Value::Array(batch).to_string(), None).await;
    assert_eq!(status, 400, "{r}");
    assert!(r["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("at most 3"));
    let batch: Vec<_> = (0..3)
        .map(|_| json!({ "query": "{ me { id } }" }))
        .collect();
    let (status, r) = app.post(Value::Array(batch).to_string(), None).await;
    assert_eq!(status, 200);
    assert_eq!(r.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = TestApp::spawn().await;
    for body in ["{\"query\": ", "not json at all", "[1, 2", ""] {
        let (status, _) = app.post(body.to_string(), None).await;
        assert_eq!(status, 400, "{body:?}");
    }
}

#[tokio::test]
async fn an_unknown_field_is_a_validation_error() {
    let app = TestApp::spawn().await;
    let (status, r) = app
        .post(
            json!({ "query": "{ me { id shoeSize } }" }).to_string(),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    assert!(r["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("shoeSize"));
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_before_it_is_parsed() {
    let app = TestApp::spawn_with(&[("MAX_BODY_BYTES", "2048")]).await;
    let padding = "x".repeat(4096);
    let (status, _) = app
        .post(
            json!({ "query": format!("{{ me {{ id }} }} # {padding}") }).to_string(),
            None,
        )
        .await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn a_streamed_body_without_a_length_is_cut_at_the_limit() {
    let app = TestApp::spawn_with(&[("MAX_BODY_BYTES", "2048")]).await;
    let body = json!({ "query": format!("{{ me {{ id }} }} # {}", "x".repeat(8192)) }).to_string();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = body
        .into_bytes()
        .chunks(1024)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn bad_inputs_get_codes_and_change_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            "mutation { login(email: \"x@example.com\") { accessToken } }",
            "BAD_USER_INPUT",
        ),
        ("{ user(id: 42) { id } }", "BAD_USER_INPUT"),
        (
            "mutation { verifyEmail(email: \"nobody\", code: \"1\") { accessToken } }",
            "BAD_USER_INPUT",
        ),
        ("{ units(after: \"%%%\") { totalCount } }", "BAD_USER_INPUT"),
        ("query { nope }", "BAD_USER_INPUT"),
        ("subscription { me }", "BAD_USER_INPUT"),
    ];
    for (query, expected) in cases {
        let (status, r) = app.post(json!({ "query": query }).to_string(), None).await;
        assert!(status == 200 || status == 400, "{query}: {status}");
        assert_eq!(code(&r), expected, "{query}: {r}");
    }
}

#[tokio::test]
async fn a_query_more_complex_than_the_limit_is_refused() {
    let app = TestApp::spawn_with(&[("QUERY_MAX_COMPLEXITY", "5")]).await;
    let r = app
        .gql(
            "{ me { id email firstName lastName fullName phone bio } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    assert!(message(&r).contains("complex"), "{r}");
    let r = app.gql("{ me { id } }", json!({})).await;
    assert!(r.get("errors").is_none(), "{r}");
}

/// A request that repeats one that passed skips the full validation (see `Documents`); the
/// same text with other variables is checked in full again, and answered as the first time.
#[tokio::test]
async fn a_query_repeated_with_other_variables_is_validated_in_full() {
    let app = TestApp::spawn().await;
    let query = "query($n: Int, $listed: Boolean) { units(first: $n, filter: { isListed: $listed }) { edges { node { id } } } }";
    let bad = json!({ "n": "many", "listed": true });
    let first = app.gql(query, bad.clone()).await;
    assert_eq!(code(&first), "BAD_USER_INPUT", "{first}");
    assert!(first.get("data").is_none_or(Value::is_null), "{first}");
    for _ in 0..3 {
        let r = app.gql(query, json!({ "n": 2, "listed": true })).await;
        assert!(r.get("errors").is_none(), "{r}");
        assert!(r["data"]["units"]["edges"].is_array(), "{r}");
    }
    assert_eq!(app.gql(query, bad).await, first);
    let r = app.gql(query, json!({ "n": 2, "listed": "yes" })).await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
}
