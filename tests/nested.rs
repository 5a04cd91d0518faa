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

/// A page joins only its owners' cards (id, name, picture); a field beyond the card loads the
/// rest of the owners' rows in one batch, whatever the page size.
#[tokio::test]
async fn owners_fields_beyond_the_card_load_in_one_batch() {
    let app =
        TestApp::spawn_with(&[("DATALOADER_DELAY_MS", "25"), ("SESSION_CACHE_MS", "0")]).await;
    let admin = app.admin().await;
    let mut emails = Vec::new();
    for i in 0..12 {
        let owner = app.customer(&format!("card{i}@example.com")).await;
        app.create_unit(&admin.access, json!({ "ownerId": owner.id }))
            .await;
        emails.push(format!("card{i}@example.com"));
    }
    app.gql_as(&admin.access, "{ me { id } }", json!({})).await;
    let count = |query: &'static str, n: i64| {
        let app = &app;
        let token = admin.access.clone();
        async move {
            let before = app.state.metrics.statements();
            let r = app.gql_as(&token, query, json!({ "n": n })).await;
            let after = app.state.metrics.statements();
            assert!(r["errors"].is_null(), "{r}");
            (after - before, r)
        }
    };
    let card = "query($n: Int!) { units(first: $n) { edges { node { owner { id firstName lastName fullName } } } } }";
    let full = "query($n: Int!) { units(first: $n) { edges { node { owner { id email role createdAt } } } } }";
    // Fields beyond the units' cards: the page reads whole rows, in the same statement.
    let wide =
        "query($n: Int!) { units(first: $n) { edges { node { trim notes owner { id } } } } }";
    let (card_2, _) = count(card, 2).await;
    let (card_12, _) = count(card, 12).await;
    let (full_2, _) = count(full, 2).await;
    let (full_12, r) = count(full, 12).await;
    // session check and the page; then one statement for the owners' rows
    assert_eq!((card_2, card_12), (2, 2));
    assert_eq!((full_2, full_12), (3, 3));
    let (wide_12, wide_page) = count(wide, 12).await;
    assert_eq!(wide_12, 2, "{wide_page}");
    let mut seen: Vec<String> = r["data"]["units"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|e| {
            assert_eq!(e["node"]["owner"]["role"], "CUSTOMER");
            e["node"]["owner"]["email"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    seen.sort();
    emails.sort();
    assert_eq!(seen, emails);
}

const ROOMS: &str = "query($n: Int!) { myChatRooms(first: $n) { edges { node { id
  subject { __typename ... on Unit { id owner { id } } ... on ServiceRecord { id unit { id } } ... on Sale { id unit { id } } }
  members(first: 10) { edges { node { id isOnline } } } lastMessage { id } unreadCount } } } }";

/// A page of rooms with their subjects and their members' presence: SQL statements and Redis
/// commands do not grow with the number of rooms (each relation, and presence, is one batch).
#[tokio::test]
async fn rooms_with_subjects_and_presence_cost_the_same_for_5_and_50_rooms() {
    // A wide batching window: rooms resolve more relations per level than units do, and a level
    // of 50 rooms in a debug build on a loaded 2-core machine must still land in one batch.
    let app =
        TestApp::spawn_with(&[("DATALOADER_DELAY_MS", "500"), ("SESSION_CACHE_MS", "0")]).await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let customer = app.customer("rooms.nested@example.com").await;
    let kinds = ["UNIT", "SERVICE_RECORD", "SALE"];
    for i in 0..50 {
        let unit = app.create_unit(&customer.access, json!({})).await;
        let subject = match kinds[i % 3] {
            "UNIT" => unit.clone(),
            "SERVICE_RECORD" => {
                let r = app
                    .gql_as(&staff.access, "mutation($u: ID!) { createServiceRecord(input: { unitId: $u, description: \"Service\" }) { id } }", json!({ "u": unit }))
                    .await;
                r["data"]["createServiceRecord"]["id"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{r}"))
                    .to_string()
            }
            _ => {
                let r = app
                    .gql_as(&staff.access, "mutation($u: ID!) { recordSale(input: { unitId: $u, price: \"1000\", soldOn: \"2026-01-01\", buyerName: \"B\", paymentMethod: CASH }) { id } }", json!({ "u": unit }))
                    .await;
                r["data"]["recordSale"]["id"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{r}"))
                    .to_string()
            }
        };
        let r = app
            .gql_as(
                &customer.access,
                "mutation($i: OpenSupportRoomInput!) { openSupportRoom(input: $i) { id } }",
                json!({ "i": { "title": format!("Room {i}"), "subjectType": kinds[i % 3], "subjectId": subject } }),
            )
            .await;
        assert!(r["errors"].is_null(), "{r}");
        // Staff answer every room (and so join it).
        let room = &r["data"]["openSupportRoom"]["id"];
        let r = app
            .gql_as(
                &staff.access,
                "mutation($r: ID!) { sendMessage(roomId: $r, body: \"Hello\") { id } }",
                json!({ "r": room }),
            )
            .await;
        assert!(r["errors"].is_null(), "{r}");
    }
    // The customer is online (a socket of theirs is open here); the staff member is not, which
    // with Redis is asked of Redis.
    let _socket = app.live(crate::common::ws::NEW, &customer.access).await;
    app.gql_as(&customer.access, "{ me { id } }", json!({}))
        .await;
    let mut counts = Vec::new();
    for n in [5, 50] {
        // The fewest of three runs, should a batch be cut short on a loaded machine.
        let mut fewest = (u64::MAX, u64::MAX);
        for _ in 0..3 {
            let statements = app.state.metrics.statements();
            let commands = app.state.presence.redis_commands();
            let r = app.gql_as(&customer.access, ROOMS, json!({ "n": n })).await;
            let statements = app.state.metrics.statements() - statements;
            let commands = app.state.presence.redis_commands() - commands;
            let edges = r["data"]["myChatRooms"]["edges"]
                .as_array()
                .unwrap_or_else(|| panic!("{r}"));
            assert_eq!(edges.len(), n, "{r}");
            for kind in ["Unit", "ServiceRecord", "Sale"] {
                assert!(
                    edges
                        .iter()
                        .any(|e| e["node"]["subject"]["__typename"] == kind),
                    "{kind}: {r}"
                );
            }
            assert!(
                edges.iter().all(|e| {
                    let members = e["node"]["members"]["edges"].as_array();
                    members.is_some_and(|m| {
                        m.iter().any(|m| {
                            m["node"]["id"] == customer.id.as_str() && m["node"]["isOnline"] == true
                        })
                    })
                }),
                "{r}"
            );
            fewest = (fewest.0.min(statements), fewest.1.min(commands));
        }
        counts.push(fewest);
    }
    assert_eq!(
        counts[0], counts[1],
        "(statements, Redis commands) for 5 and 50 rooms: {counts:?}"
    );
    if std::env::var("TEST_REDIS_URL").is_ok() {
        assert_eq!(counts[0].1, 1, "one Redis command for presence: {counts:?}");
    }
}

/// Offers with their tiers, makes and locations (with hours), and users with their terms flag:
/// the same statements for a page of 5 and of 20.
#[tokio::test]
async fn offers_with_their_scope_and_users_with_their_terms_cost_the_same_for_5_and_20() {
    let app =
        TestApp::spawn_with(&[("DATALOADER_DELAY_MS", "25"), ("SESSION_CACHE_MS", "0")]).await;
    let admin = app.admin().await;
    let r = app
        .gql_as(&admin.access, "mutation { createServiceLocation(input: { name: \"N\", address: \"A\", latitude: 52.5, longitude: 13.4, timezone: \"Europe/Berlin\", bays: 1 }) { id } }", json!({}))
        .await;
    let location = r["data"]["createServiceLocation"]["id"].clone();
    let r = app
        .gql_as(&admin.access, "mutation { publishDocument(kind: TERMS, content: \"T\", effectiveDate: \"2020-01-01\") { id } }", json!({}))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    for i in 0..20 {
        let r = app
            .gql_as(&admin.access, "mutation($i: OfferInput!) { createOffer(input: $i) { id } }", json!({ "i": {
                "title": format!("Offer {i}"), "description": "D", "discountKind": "PERCENT", "discountValue": "5",
                "startsAt": "2020-01-01T00:00:00Z", "expiresAt": "2099-01-01T00:00:00Z",
                "eligibleTiers": ["PLUS"], "makes": ["BMW", "Audi"], "locationIds": [location] } }))
            .await;
        assert!(r["errors"].is_null(), "{r}");
        app.register(&format!("terms-{i}@example.com")).await;
    }
    app.gql_as(&admin.access, "{ me { id } }", json!({})).await;
    let query = "query($n: Int!) { allOffers(first: $n) { edges { node { eligibleTiers makes locations { name openingHours { weekday } } } } }
      users(first: $n) { edges { node { acceptedTermsVersion mustAcceptTerms } } } }";
    let mut counts = Vec::new();
    for n in [5, 20] {
        let mut fewest = u64::MAX;
        for _ in 0..3 {
            let before = app.state.metrics.statements();
            let r = app.gql_as(&admin.access, query, json!({ "n": n })).await;
            let after = app.state.metrics.statements();
            let offers = r["data"]["allOffers"]["edges"]
                .as_array()
                .unwrap_or_else(|| panic!("{r}"));
            assert_eq!(offers.len(), n);
            assert!(offers
                .iter()
                .all(|e| e["node"]["makes"] == json!(["Audi", "BMW"])
                    && e["node"]["locations"][0]["name"] == "N"));
            let users = r["data"]["users"]["edges"]
                .as_array()
                .unwrap_or_else(|| panic!("{r}"));
            assert!(users.iter().any(|e| e["node"]["acceptedTermsVersion"] == 1));
            fewest = fewest.min(after - before);
        }
        counts.push(fewest);
    }
    assert_eq!(counts[0], counts[1], "statements for 5 and 20: {counts:?}");
}

/// Units with their dongle and a telemetry summary: the same statements for 5 and 20 units.
#[tokio::test]
async fn units_with_their_dongle_and_telemetry_summary_cost_the_same_for_5_and_20() {
    let app =
        TestApp::spawn_with(&[("DATALOADER_DELAY_MS", "25"), ("SESSION_CACHE_MS", "0")]).await;
    let admin = app.admin().await;
    for i in 0..20 {
        let unit = app.create_unit(&admin.access, json!({})).await;
        let r = app
            .gql_as(&admin.access, "mutation($u: ID!, $d: String!) { linkDongle(unitId: $u, dongleId: $d, connectionType: BLE) { id } }", json!({ "u": unit, "d": format!("OBD-{i}") }))
            .await;
        assert!(r["errors"].is_null(), "{r}");
        let r = app
            .gql_as(&admin.access, "mutation($d: String!) { ingestTelemetry(dongleId: $d, samples: [{ recordedAt: \"2026-01-01T10:00:00Z\", speedKph: 50, odometerKm: 20000 }, { recordedAt: \"2026-01-01T10:00:10Z\", speedKph: 70, fuelRateLph: 6, odometerKm: 20000.2 }]) { accepted } }", json!({ "d": format!("OBD-{i}") }))
            .await;
        assert_eq!(r["data"]["ingestTelemetry"]["accepted"], 2, "{r}");
    }
    app.gql_as(&admin.access, "{ me { id } }", json!({})).await;
    let query = "query($n: Int!) { units(first: $n) { edges { node { dongle { dongleId lastSampleAt } telemetrySummary(from: \"2026-01-01T00:00:00Z\", to: \"2026-01-02T00:00:00Z\") { samples maxSpeedKph } } } } }";
    let mut counts = Vec::new();
    for n in [5, 20] {
        let mut fewest = u64::MAX;
        for _ in 0..3 {
            let before = app.state.metrics.statements();
            let r = app.gql_as(&admin.access, query, json!({ "n": n })).await;
            let after = app.state.metrics.statements();
            let edges = r["data"]["units"]["edges"]
                .as_array()
                .unwrap_or_else(|| panic!("{r}"));
            assert_eq!(edges.len(), n);
            assert!(
                edges
                    .iter()
                    .all(|e| e["node"]["telemetrySummary"]["samples"] == 2
                        && e["node"]["telemetrySummary"]["maxSpeedKph"] == 70.0
                        && e["node"]["dongle"]["dongleId"].is_string()),
                "{r}"
            );
            fewest = fewest.min(after - before);
        }
        counts.push(fewest);
    }
    assert_eq!(counts[0], counts[1], "statements for 5 and 20: {counts:?}");
}
