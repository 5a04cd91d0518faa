//! Referrals, second half: the first completed service or purchase of a referred user credits
//! the referrer once, and a self-purchase does not.

use serde_json::json;

use crate::common::{Actor, TestApp, PASSWORD};

/// A referrer and a verified customer who signed up with their code.
pub(crate) async fn referred_pair(app: &TestApp, name: &str) -> (Actor, Actor) {
    let referrer = app.customer(&format!("{name}-referrer@example.com")).await;
    let r = app
        .gql_as(&referrer.access, "{ me { referralCode } }", json!({}))
        .await;
    let code = r["data"]["me"]["referralCode"]
        .as_str()
        .unwrap()
        .to_string();
    let email = format!("{name}-friend@example.com");
    let r = app
        .gql("mutation($i: RegisterInput!) { register(input: $i) { id } }", json!({ "i": {
            "email": email, "password": PASSWORD, "firstName": "F", "lastName": "F", "acceptTerms": true, "referralCode": code } }))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let code = app.mailed_code(&email);
    let r = app
        .gql("mutation($e: String!, $c: String!) { verifyEmail(email: $e, code: $c) { accessToken refreshToken user { id } } }", json!({ "e": email, "c": code }))
        .await;
    (
        referrer,
        crate::common::actor(&email, &r["data"]["verifyEmail"]),
    )
}

async fn balance_and_status(app: &TestApp, referrer: &Actor) -> (i64, String) {
    let r = app
        .gql_as(
            &referrer.access,
            "{ me { rewardsBalance } myReferrals { referrals { status creditedAt } totalEarned } }",
            json!({}),
        )
        .await;
    (
        r["data"]["me"]["rewardsBalance"]
            .as_i64()
            .unwrap_or_else(|| panic!("{r}")),
        r["data"]["myReferrals"]["referrals"][0]["status"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

async fn complete_service(app: &TestApp, staff: &Actor, unit: &str) {
    let r = app
        .gql_as(&staff.access, "mutation($u: ID!) { createServiceRecord(input: { unitId: $u, description: \"Service\" }) { id } }", json!({ "u": unit }))
        .await;
    let id = r["data"]["createServiceRecord"]["id"].clone();
    for s in ["IN_PROGRESS", "COMPLETED"] {
        let r = app
            .gql_as(&staff.access, "mutation($id: ID!, $s: ServiceStatus!) { setServiceStatus(id: $id, status: $s) { id } }", json!({ "id": id, "s": s }))
            .await;
        assert!(r["errors"].is_null(), "{r}");
    }
}

const SALE: &str = "mutation($u: ID!, $b: ID) { recordSale(input: { unitId: $u, price: \"1000\", soldOn: \"2026-01-01\", buyerName: \"B\", buyerId: $b, paymentMethod: CASH }) { id } }";

#[tokio::test]
async fn the_first_completed_service_credits_the_referrer_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (referrer, friend) = referred_pair(&app, "svc").await;
    assert_eq!(
        balance_and_status(&app, &referrer).await,
        (0, "QUALIFIED".into())
    );
    let unit = app.create_unit(&friend.access, json!({})).await;
    // A cancelled service does not count; past history the customer adds does not either.
    let r = app
        .gql_as(&friend.access, "mutation($u: ID!) { createServiceRecord(input: { unitId: $u, description: \"Old\", isPastHistory: true }) { id } }", json!({ "u": unit }))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    assert_eq!(balance_and_status(&app, &referrer).await.0, 0);
    complete_service(&app, &admin, &unit).await;
    assert_eq!(
        balance_and_status(&app, &referrer).await,
        (500, "CREDITED".into())
    );
    complete_service(&app, &admin, &unit).await;
    let sold = app.create_unit(&admin.access, json!({})).await;
    app.gql_as(&admin.access, SALE, json!({ "u": sold, "b": friend.id }))
        .await;
    assert_eq!(balance_and_status(&app, &referrer).await.0, 500, "once");
}

#[tokio::test]
async fn the_first_purchase_credits_but_a_self_purchase_does_not() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (referrer, friend) = referred_pair(&app, "buy").await;
    // The friend "sells" their own unit to themselves: no credit.
    let own = app.create_unit(&friend.access, json!({})).await;
    let r = app
        .gql_as(&friend.access, SALE, json!({ "u": own, "b": friend.id }))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    assert_eq!(
        balance_and_status(&app, &referrer).await,
        (0, "QUALIFIED".into())
    );
    // A dealership sale to the friend: credited.
    let stock = app.create_unit(&admin.access, json!({})).await;
    let r = app
        .gql_as(&admin.access, SALE, json!({ "u": stock, "b": friend.id }))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    assert_eq!(
        balance_and_status(&app, &referrer).await,
        (500, "CREDITED".into())
    );
}
