//! Nested queries stay cheap: every relation goes through a per-request DataLoader, so the number
//! of SQL statements does not grow with the page size.

use serde_json::json;

use crate::common::{png_bytes, TestApp};

const NESTED: &str = "query($n: Int!) { units(first: $n) { edges { node { owner { id } primaryPhoto { url } photos { id }
  sale { salesperson { id } } serviceRecords(first: 5) { edges { node { technician { id } } } } } } } }";

#[tokio::test]
async fn the_nested_units_query_runs_the_same_statements_for_5_and_50_units() {
    // A wide batching window: a debug build can take longer than the default 1 ms to resolve
    // 50 nodes, and a batch cut short would add a statement that says nothing about N+1.
    // The session is read on every request (no cache), so each count has the same parts.
    let app =
        TestApp::spawn_with(&[("DATALOADER_DELAY_MS", "25"), ("SESSION_CACHE_MS", "0")]).await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let owner = app.customer("nested@example.com").await;
    for i in 0..50 {
        let unit = app
            .create_unit(&staff.access, json!({ "ownerId": owner.id }))
            .await;
        let (_, r) = app
            .upload(
                &staff.access,
                "mutation($u: ID!, $f: Upload!) { addUnitPhoto(unitId: $u, file: $f) { id } }",
                json!({ "u": unit, "f": null }),
                vec![("f", "p.png", png_bytes())],
            )
            .await;
        assert!(r["errors"].is_null(), "{r}");
        let r = app
            .gql_as(&staff.access, "mutation($u: ID!, $t: ID!) { createServiceRecord(input: { unitId: $u, description: \"Service\", technicianId: $t }) { id } }", json!({ "u": unit, "t": staff.id }))
            .await;
        assert!(r["errors"].is_null(), "{r}");
        if i % 2 == 0 {
            let r = app
                .gql_as(&staff.access, "mutation($u: ID!) { recordSale(input: { unitId: $u, price: \"1000\", soldOn: \"2026-01-01\", buyerName: \"B\", paymentMethod: CASH }) { id } }", json!({ "u": unit }))
                .await;
            assert!(r["errors"].is_null(), "{r}");
        }
    }
    // Warm up the session check (it writes lastUsedAt at most once a minute).
    app.gql_as(&admin.access, "{ me { id } }", json!({})).await;
    let mut counts = Vec::new();
    for n in [5, 50] {
        // The fewest of three runs, should a batch still be cut short on a loaded machine.
        let mut fewest = u64::MAX;
        for _ in 0..3 {
            let before = app.state.metrics.statements();
            let r = app.gql_as(&admin.access, NESTED, json!({ "n": n })).await;
            let after = app.state.metrics.statements();
            let edges = r["data"]["units"]["edges"]
                .as_array()
                .unwrap_or_else(|| panic!("{r}"));
            assert_eq!(edges.len(), n);
            assert!(edges
                .iter()
                .all(|e| e["node"]["owner"]["id"] == owner.id.as_str()
                    && e["node"]["primaryPhoto"]["url"].is_string()
                    && e["node"]["serviceRecords"]["edges"][0]["node"]["technician"]["id"]
                        == staff.id.as_str()));
            assert!(edges
                .iter()
                .any(|e| e["node"]["sale"]["salesperson"]["id"] == staff.id.as_str()));
            fewest = fewest.min(after - before);
        }
        counts.push(fewest);
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 5 and 50 units: {counts:?}"
    );
    // session check, the page (with owners and primary photos), photos, records, sales,
    // salespeople, technicians
    assert_eq!(counts[0], 7, "{counts:?}");
}
