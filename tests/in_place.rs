//! The fast path (plain fields filled in place) and the resolvers answer every shape a client
//! sends alike: two servers on one database, one with `GRAPHQL_IN_PLACE=false`, asked the same
//! pages of units with their owners and photos; and the fast path runs the same statements.

use serde_json::{json, Value};

use crate::common::{png_bytes, Actor, TestApp};

const ADD_PHOTO: &str =
    "mutation($u: ID!, $f: Upload!) { addUnitPhoto(unitId: $u, file: $f, altText: \"Front\") { id } }";

/// The two servers, a staff member, and `n` units: customers' with a photo, and stock.
async fn servers(n: usize) -> (TestApp, TestApp, Actor) {
    let fast =
        TestApp::spawn_with(&[("DATALOADER_DELAY_MS", "25"), ("SESSION_CACHE_MS", "0")]).await;
    let admin = fast.admin().await;
    for i in 0..n {
        if i % 3 == 2 {
            fast.create_unit(
                &admin.access,
                json!({ "isListed": true, "listPrice": "15000" }),
            )
            .await;
            continue;
        }
        let owner = fast.customer(&format!("fast-owner-{i}@example.com")).await;
        let unit = fast
            .create_unit(&owner.access, json!({ "trim": "LE", "color": "Blue" }))
            .await;
        let (status, r) = fast
            .upload(
                &owner.access,
                ADD_PHOTO,
                json!({ "u": unit, "f": null }),
                vec![("f", "a.png", png_bytes())],
            )
            .await;
        assert_eq!(status, 200, "{r}");
    }
    let slow = fast
        .spawn_beside(&[
            ("GRAPHQL_IN_PLACE", "false"),
            ("DATALOADER_DELAY_MS", "25"),
            ("SESSION_CACHE_MS", "0"),
        ])
        .await;
    (fast, slow, admin)
}

/// Asks both servers; both answer without errors and alike, the fast one with every object in
/// place (unless `merged`: a relation asked twice goes to the resolvers). Returns the answer.
async fn answer(
    fast: &TestApp,
    slow: &TestApp,
    who: &Actor,
    query: &str,
    variables: Value,
    merged: bool,
) -> Value {
    let (filled, resolved) = fast.state.metrics.in_place();
    let a = fast.gql_as(&who.access, query, variables.clone()).await;
    let (filled_after, resolved_after) = fast.state.metrics.in_place();
    let b = slow.gql_as(&who.access, query, variables).await;
    assert!(a["errors"].is_null(), "{query}: {a}");
    assert_eq!(a, b, "{query}");
    assert!(filled_after > filled, "{query}: nothing in place");
    assert_eq!(
        resolved_after > resolved,
        merged,
        "{query}: objects went to the resolvers"
    );
    a
}

async fn alike(
    fast: &TestApp,
    slow: &TestApp,
    who: &Actor,
    query: &str,
    variables: Value,
) -> Value {
    answer(fast, slow, who, query, variables, false).await
}

fn nodes(r: &Value) -> &Vec<Value> {
    r["data"]["units"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
}

#[tokio::test]
async fn every_shape_a_client_sends_is_answered_alike_by_both_paths() {
    let (fast, slow, admin) = servers(6).await;
    let page = |node: &str| format!("{{ units(first: 10) {{ edges {{ node {{ {node} }} }} }} }}");

    // __typename on every object.
    let r = alike(&fast, &slow, &admin, "{ units(first: 10) { __typename edges { __typename node { __typename id make owner { __typename id fullName } primaryPhoto { __typename url } } } pageInfo { __typename hasNextPage } } }", json!({})).await;
    assert_eq!(nodes(&r)[0]["node"]["__typename"], "Unit");
    assert!(nodes(&r)
        .iter()
        .any(|n| n["node"]["owner"]["__typename"] == "User"));
    assert!(nodes(&r)
        .iter()
        .any(|n| n["node"]["primaryPhoto"]["__typename"] == "UnitPhoto"));

    // Aliases, also of one field twice.
    let r = alike(&fast, &slow, &admin, &page("key: id brand: make again: make model owner { who: fullName email } pic: primaryPhoto { link: url alt: altText }"), json!({})).await;
    let node = &nodes(&r)[0]["node"];
    assert!(
        node["key"].is_string() && node["brand"] == node["again"],
        "{node}"
    );

    // Inline fragments, with and without a type condition.
    let r = alike(&fast, &slow, &admin, &page("... on Unit { id make owner { ... on User { id email } } } ... { year } primaryPhoto { ... on UnitPhoto { url isPrimary } }"), json!({})).await;
    assert!(nodes(&r)[0]["node"]["year"].is_number());

    // Named fragments as Apollo and Relay colocate them, with the fields they repeat.
    let apollo = "query Units($n: Int) { units(first: $n) { __typename edges { __typename cursor node { __typename id ...UnitCard } } pageInfo { __typename endCursor hasNextPage } } }
        fragment UnitCard on Unit { __typename id vin make model year mileage listPrice status isListed createdAt ...Owner primaryPhoto { ...Photo } }
        fragment Owner on Unit { owner { __typename id ...Person } }
        fragment Person on User { id firstName lastName fullName avatarUrl }
        fragment Photo on UnitPhoto { __typename id url altText }";
    let r = alike(&fast, &slow, &admin, apollo, json!({ "n": 10 })).await;
    assert_eq!(nodes(&r).len(), 6);
    assert!(
        nodes(&r)
            .iter()
            .any(|n| n["node"]["owner"]["firstName"] == "Test"),
        "{r}"
    );

    // A relation asked twice with different selections (merged by the resolvers).
    answer(
        &fast,
        &slow,
        &admin,
        &format!(
            "{} fragment F on Unit {{ id owner {{ fullName }} }}",
            page("id ...F owner { id } make")
        ),
        json!({}),
        true,
    )
    .await;

    // @include and @skip, literal and by variables, on fields and fragments.
    for (with, without) in [(true, false), (false, true)] {
        let r = alike(&fast, &slow, &admin, "query($with: Boolean!, $without: Boolean!) { units(first: 10) { edges { node {
            id make @include(if: $with) model @skip(if: $with) vin @include(if: true) notes @skip(if: true)
            owner @include(if: $without) { id } ... on Unit @include(if: $with) { year }
            ...Extra @skip(if: $without) } } } } fragment Extra on Unit { color trim }", json!({ "with": with, "without": without })).await;
        let node = &nodes(&r)[0]["node"];
        assert_eq!(node.get("make").is_some(), with, "{node}");
        assert_eq!(node.get("model").is_some(), !with, "{node}");
        assert_eq!(node.get("year").is_some(), with, "{node}");
        assert_eq!(node.get("color").is_some(), with, "{node}");
        assert_eq!(node.get("owner").is_some(), without, "{node}");
        assert!(
            node.get("notes").is_none() && node.get("vin").is_some(),
            "{node}"
        );
    }

    // The connection, its edges and pageInfo: aliases, fragments on their types, `nodes`, and
    // every pageInfo field; a list asked twice under two keys goes to the resolvers.
    let r = alike(&fast, &slow, &admin, "query($n: Int) { units(first: $n) { count: totalCount __typename
        ...Page all: nodes { id make } items: edges { ... on UnitEdge { at: cursor __typename } node { id } }
        info: pageInfo { ...Info endCursor } } }
        fragment Page on UnitConnection { totalCount }
        fragment Info on PageInfo { __typename hasNextPage hasPreviousPage startCursor }", json!({ "n": 4 })).await;
    let units = &r["data"]["units"];
    assert_eq!(units["items"][0]["at"], units["info"]["startCursor"], "{r}");
    assert_eq!(
        units["all"][3]["id"], units["items"][3]["node"]["id"],
        "{r}"
    );
    assert_eq!(units["count"], 6);
    answer(
        &fast,
        &slow,
        &admin,
        "{ units(first: 3) { a: edges { cursor } b: edges { node { id } } } }",
        json!({}),
        true,
    )
    .await;

    // A user's and a photo's own fields: everything the fast path fills.
    alike(&fast, &slow, &admin, &page("owner { id email firstName lastName fullName phone role status avatarUrl membershipTier createdAt updatedAt }
        photos { id url altText position isPrimary contentType } primaryPhoto { id url }"), json!({})).await;
}

#[tokio::test]
async fn the_fast_path_runs_the_statements_the_resolvers_run_whatever_the_page_size() {
    let (fast, slow, admin) = servers(21).await;
    let apollo = "query Units($n: Int) { units(first: $n) { edges { node { __typename ...Card } } } }
        fragment Card on Unit { id make listPrice owner { __typename id fullName } primaryPhoto { __typename url } }";
    let mut counts = Vec::new();
    for server in [&fast, &slow] {
        for n in [5, 20] {
            let mut fewest = u64::MAX;
            for _ in 0..3 {
                let before = server.state.metrics.statements();
                let r = server
                    .gql_as(&admin.access, apollo, json!({ "n": n }))
                    .await;
                let after = server.state.metrics.statements();
                assert_eq!(nodes(&r).len(), n, "{r}");
                fewest = fewest.min(after - before);
            }
            counts.push(fewest);
        }
    }
    assert!(
        counts.iter().all(|c| *c == counts[0]),
        "fast 5, 20; resolvers 5, 20: {counts:?}"
    );
}
