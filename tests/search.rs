//! Search folds text beyond ASCII alike on SQLite and PostgreSQL: "émile" finds "Émile Zola" and
//! "ÉMILE" among people, units and messages, and a change of a searched field is found at once.

use serde_json::{json, Value};

use crate::common::TestApp;

fn names(r: &Value, field: &str, key: &str) -> Vec<String> {
    let mut found: Vec<String> = r["data"][field]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|e| e["node"][key].as_str().unwrap_or_default().to_string())
        .collect();
    found.sort();
    found
}

#[tokio::test]
async fn a_search_for_emile_finds_every_case_of_it_on_either_database() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let profile = "mutation($f: String!, $l: String!) { updateProfile(input: { firstName: $f, lastName: $l }) { id } }";
    for (email, first, last) in [
        ("zola@example.com", "Émile", "Zola"),
        ("upper@example.com", "ÉMILE", "Durand"),
        ("other@example.com", "Emil", "Nolde"),
    ] {
        let who = app.customer(email).await;
        let r = app
            .gql_as(&who.access, profile, json!({ "f": first, "l": last }))
            .await;
        assert!(r["errors"].is_null(), "{r}");
    }
    let users =
        "query($s: String!) { users(filter: { search: $s }) { edges { node { fullName } } } }";
    for search in ["émile", "ÉMILE", "Émile"] {
        let r = app
            .gql_as(&admin.access, users, json!({ "s": search }))
            .await;
        assert_eq!(
            names(&r, "users", "fullName"),
            ["ÉMILE Durand", "Émile Zola"],
            "{search}: {r}"
        );
    }
    // Units: a trim; messages: a body. Both found by any case of the word.
    for (model, trim) in [("Zoé", "Émile Zola"), ("Zoe", "ÉMILE"), ("Clio", "Emil")] {
        app.create_unit(&staff.access, json!({ "model": model, "trim": trim }))
            .await;
    }
    let units = "query($s: String!) { units(first: 50, filter: { search: $s }) { edges { node { trim } } } }";
    let r = app
        .gql_as(&staff.access, units, json!({ "s": "émile" }))
        .await;
    assert_eq!(names(&r, "units", "trim"), ["ÉMILE", "Émile Zola"], "{r}");
    let r = app
        .gql_as(&staff.access, units, json!({ "s": "zoé" }))
        .await;
    assert_eq!(names(&r, "units", "trim"), ["Émile Zola"], "{r}");
    let r = app
        .gql_as(
            &staff.access,
            "mutation { createGroupRoom(input: { title: \"Readers\" }) { id } }",
            json!({}),
        )
        .await;
    let room = r["data"]["createGroupRoom"]["id"].clone();
    for body in ["Émile Zola wrote Germinal", "ÉMILE called", "Emil is here"] {
        let r = app
            .gql_as(
                &staff.access,
                "mutation($r: ID!, $b: String!) { sendMessage(roomId: $r, body: $b) { id } }",
                json!({ "r": room, "b": body }),
            )
            .await;
        assert!(r["errors"].is_null(), "{r}");
    }
    let messages = "query($r: ID!, $s: String!) { chatRoom(id: $r) { messages(first: 50, search: $s) { edges { node { body } } } } }";
    let r = app
        .gql_as(&staff.access, messages, json!({ "r": room, "s": "émile" }))
        .await;
    let mut bodies: Vec<String> = r["data"]["chatRoom"]["messages"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|e| e["node"]["body"].as_str().unwrap_or_default().to_string())
        .collect();
    bodies.sort();
    assert_eq!(bodies, ["ÉMILE called", "Émile Zola wrote Germinal"], "{r}");
}
