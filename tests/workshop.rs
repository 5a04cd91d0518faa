//! Service records: the transition table, the unit's IN_SERVICE status, and who may do what.

use serde_json::{json, Value};

use crate::common::{code, field, message, Actor, TestApp};

const CREATE: &str = "mutation($i: CreateServiceRecordInput!) { createServiceRecord(input: $i) { id status completedAt isPastHistory } }";
const SET: &str = "mutation($id: ID!, $s: ServiceStatus!) { setServiceStatus(id: $id, status: $s) { id status completedAt } }";
const UNIT_STATUS: &str = "query($id: ID!) { unit(id: $id) { status } }";

async fn record(app: &TestApp, who: &Actor, unit: &str) -> String {
    let r = app
        .gql_as(
            &who.access,
            CREATE,
            json!({ "i": { "unitId": unit, "description": "Oil change" } }),
        )
        .await;
    assert_eq!(
        r["data"]["createServiceRecord"]["status"], "SCHEDULED",
        "{r}"
    );
    r["data"]["createServiceRecord"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Moves a fresh record to `status` by allowed steps.
async fn record_in(app: &TestApp, staff: &Actor, unit: &str, status: &str) -> String {
    let id = record(app, staff, unit).await;
    let path: &[&str] = match status {
        "SCHEDULED" => &[],
        "IN_PROGRESS" => &["IN_PROGRESS"],
        "COMPLETED" => &["IN_PROGRESS", "COMPLETED"],
        _ => &["CANCELLED"],
    };
    for step in path {
        let r = app
            .gql_as(&staff.access, SET, json!({ "id": id, "s": step }))
            .await;
        assert_eq!(r["data"]["setServiceStatus"]["status"], *step, "{r}");
    }
    id
}

async fn unit_status(app: &TestApp, who: &Actor, unit: &str) -> Value {
    app.gql_as(&who.access, UNIT_STATUS, json!({ "id": unit }))
        .await["data"]["unit"]["status"]
        .clone()
}

#[tokio::test]
async fn the_whole_transition_table() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let unit = app.create_unit(&admin.access, json!({})).await;
    let all = ["SCHEDULED", "IN_PROGRESS", "COMPLETED", "CANCELLED"];
    let allowed = [
        ("SCHEDULED", "IN_PROGRESS"),
        ("SCHEDULED", "CANCELLED"),
        ("IN_PROGRESS", "COMPLETED"),
        ("IN_PROGRESS", "CANCELLED"),
    ];
    for from in all {
        for to in all {
            let id = record_in(&app, &admin, &unit, from).await;
            let r = app
                .gql_as(&admin.access, SET, json!({ "id": id, "s": to }))
                .await;
            if allowed.contains(&(from, to)) {
                assert_eq!(
                    r["data"]["setServiceStatus"]["status"], to,
                    "{from} → {to}: {r}"
                );
                let completed = &r["data"]["setServiceStatus"]["completedAt"];
                assert_eq!(
                    completed.is_string(),
                    to == "COMPLETED",
                    "{from} → {to}: {r}"
                );
            } else {
                assert_eq!(code(&r), "CONFLICT", "{from} → {to}: {r}");
                let m = message(&r);
                assert!(
                    m.contains(&from.to_lowercase()) && m.contains(&to.to_lowercase()),
                    "{from} → {to}: {m}"
                );
            }
            // Leave nothing in progress for the next case.
            let r = app
                .gql_as(
                    &admin.access,
                    "query($id: ID!) { serviceRecord(id: $id) { status } }",
                    json!({ "id": id }),
                )
                .await;
            if r["data"]["serviceRecord"]["status"] == "IN_PROGRESS" {
                app.gql_as(&admin.access, SET, json!({ "id": id, "s": "CANCELLED" }))
                    .await;
            }
        }
    }
    assert_eq!(unit_status(&app, &admin, &unit).await, "ACTIVE");
}

#[tokio::test]
async fn the_unit_is_in_service_while_any_record_is_in_progress() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let unit = app.create_unit(&admin.access, json!({})).await;
    let a = record_in(&app, &admin, &unit, "IN_PROGRESS").await;
    assert_eq!(unit_status(&app, &admin, &unit).await, "IN_SERVICE");
    let b = record_in(&app, &admin, &unit, "IN_PROGRESS").await;
    app.gql_as(&admin.access, SET, json!({ "id": a, "s": "COMPLETED" }))
        .await;
    assert_eq!(
        unit_status(&app, &admin, &unit).await,
        "IN_SERVICE",
        "b still runs"
    );
    // While in service: not deletable, status not set by hand.
    let r = app
        .gql_as(
            &admin.access,
            "mutation($id: ID!) { deleteUnit(id: $id) }",
            json!({ "id": unit }),
        )
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    let r = app
        .gql_as(
            &admin.access,
            "mutation($id: ID!) { updateUnit(id: $id, input: { status: INACTIVE }) { id } }",
            json!({ "id": unit }),
        )
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    let r = app
        .gql_as(
            &admin.access,
            "mutation($id: ID!) { deleteServiceRecord(id: $id) }",
            json!({ "id": b }),
        )
        .await;
    assert_eq!(code(&r), "CONFLICT", "work in progress is not deleted: {r}");
    app.gql_as(&admin.access, SET, json!({ "id": b, "s": "CANCELLED" }))
        .await;
    assert_eq!(unit_status(&app, &admin, &unit).await, "ACTIVE");
}

#[tokio::test]
async fn customers_request_and_cancel_but_never_start_or_complete() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let ann = app.customer("ann@example.com").await;
    let bob = app.customer("bob@example.com").await;
    let unit = app.create_unit(&ann.access, json!({})).await;

    let id = record(&app, &ann, &unit).await;
    for status in ["IN_PROGRESS", "COMPLETED"] {
        let r = app
            .gql_as(&ann.access, SET, json!({ "id": id, "s": status }))
            .await;
        assert!(
            ["FORBIDDEN", "CONFLICT"].contains(&code(&r)),
            "{status}: {r}"
        );
    }
    let r = app
        .gql_as(&ann.access, SET, json!({ "id": id, "s": "IN_PROGRESS" }))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    // Customers do not price work.
    let r = app
        .gql_as(
            &ann.access,
            CREATE,
            json!({ "i": { "unitId": unit, "description": "Brakes", "cost": "100" } }),
        )
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    // Another customer sees nothing of it.
    let r = app
        .gql_as(&bob.access, SET, json!({ "id": id, "s": "CANCELLED" }))
        .await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");
    let r = app
        .gql_as(&bob.access, "{ serviceRecords { totalCount } }", json!({}))
        .await;
    assert_eq!(r["data"]["serviceRecords"]["totalCount"], 0, "{r}");
    let r = app
        .gql_as(
            &bob.access,
            CREATE,
            json!({ "i": { "unitId": unit, "description": "x" } }),
        )
        .await;
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "unitId"), "{r}");
    // Staff start and complete; the owner cancels their own SCHEDULED request.
    let r = app
        .gql_as(&staff.access, SET, json!({ "id": id, "s": "IN_PROGRESS" }))
        .await;
    assert_eq!(
        r["data"]["setServiceStatus"]["status"], "IN_PROGRESS",
        "{r}"
    );
    let r = app
        .gql_as(&ann.access, SET, json!({ "id": id, "s": "CANCELLED" }))
        .await;
    assert_eq!(
        code(&r),
        "FORBIDDEN",
        "only a SCHEDULED request is the customer's to cancel: {r}"
    );
    let r = app
        .gql_as(&staff.access, SET, json!({ "id": id, "s": "COMPLETED" }))
        .await;
    assert!(
        r["data"]["setServiceStatus"]["completedAt"].is_string(),
        "{r}"
    );
    let other = record(&app, &ann, &unit).await;
    let r = app
        .gql_as(&ann.access, SET, json!({ "id": other, "s": "CANCELLED" }))
        .await;
    assert_eq!(r["data"]["setServiceStatus"]["status"], "CANCELLED", "{r}");

    // Past history: COMPLETED at once, in the past only.
    let r = app
        .gql_as(&ann.access, CREATE, json!({ "i": { "unitId": unit, "description": "Tyres", "isPastHistory": true, "completedAt": "2024-05-01T10:00:00Z" } }))
        .await;
    assert_eq!(
        r["data"]["createServiceRecord"]["status"], "COMPLETED",
        "{r}"
    );
    assert_eq!(
        r["data"]["createServiceRecord"]["completedAt"],
        "2024-05-01T10:00:00+00:00"
    );
    let r = app
        .gql_as(&ann.access, CREATE, json!({ "i": { "unitId": unit, "description": "Tyres", "isPastHistory": true, "completedAt": "2999-01-01T00:00:00Z" } }))
        .await;
    assert_eq!(
        (code(&r), field(&r)),
        ("BAD_USER_INPUT", "completedAt"),
        "{r}"
    );
    let r = app
        .gql_as(&ann.access, "query($id: ID!) { unit(id: $id) { serviceRecords(first: 10) { totalCount edges { node { status createdBy { id } } } } } }", json!({ "id": unit }))
        .await;
    assert_eq!(r["data"]["unit"]["serviceRecords"]["totalCount"], 3, "{r}");
}

#[tokio::test]
async fn no_record_for_a_sold_or_inactive_unit() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let sold = app.create_unit(&admin.access, json!({})).await;
    let r = app
        .gql_as(&admin.access, "mutation($u: ID!) { recordSale(input: { unitId: $u, price: \"1000\", soldOn: \"2026-01-02\", buyerName: \"B\", paymentMethod: CASH }) { id } }", json!({ "u": sold }))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = app
        .gql_as(
            &admin.access,
            CREATE,
            json!({ "i": { "unitId": sold, "description": "x" } }),
        )
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    let inactive = app.create_unit(&admin.access, json!({})).await;
    app.gql_as(
        &admin.access,
        "mutation($id: ID!) { updateUnit(id: $id, input: { status: INACTIVE }) { id } }",
        json!({ "id": inactive }),
    )
    .await;
    let r = app
        .gql_as(
            &admin.access,
            CREATE,
            json!({ "i": { "unitId": inactive, "description": "x" } }),
        )
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    let r = app
        .gql_as(
            &admin.access,
            "{ serviceRecords { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r["data"]["serviceRecords"]["totalCount"], 0);
}
