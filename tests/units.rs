//! Units: VIN, year and mileage rules; who sees and changes what; search, filters and pages.

use serde_json::{json, Value};

use crate::common::{code, field, vin, TestApp};

const UPDATE: &str = "mutation($id: ID!, $i: UpdateUnitInput!) { updateUnit(id: $id, input: $i) { id mileage isListed status notes } }";

#[tokio::test]
async fn vins_follow_the_rules_and_are_stored_upper_case() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let cases = [
        ("1hgcm82633a004352", Some("1HGCM82633A004352")),
        ("JH4KA7561PC008269", Some("JH4KA7561PC008269")),
        ("  5YJ3E1EA7KF317000 ", Some("5YJ3E1EA7KF317000")),
        ("1HGCM82633A00435", None),   // 16 characters
        ("1HGCM82633A0043520", None), // 18 characters
        ("1HGCM82633I004352", None),  // I
        ("1HGCM82633O004352", None),  // O
        ("1HGCM82633Q004352", None),  // Q
        ("1HGCM82633A00435!", None),  // punctuation
        ("", None),
    ];
    for (given, stored) in cases {
        let r = app
            .try_create_unit(&admin.access, json!({ "vin": given }))
            .await;
        match stored {
            Some(v) => assert_eq!(r["data"]["createUnit"]["vin"], v, "{given}: {r}"),
            None => {
                assert_eq!(code(&r), "BAD_USER_INPUT", "{given}: {r}");
                assert_eq!(field(&r), "vin", "{given}");
            }
        }
    }
    // Duplicate, in any case.
    let r = app
        .try_create_unit(&admin.access, json!({ "vin": "jh4ka7561pc008269" }))
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    assert_eq!(field(&r), "vin");
    let r = app
        .gql_as(&admin.access, "{ units { totalCount } }", json!({}))
        .await;
    assert_eq!(
        r["data"]["units"]["totalCount"], 3,
        "nothing else was stored: {r}"
    );
}

#[tokio::test]
async fn year_and_mileage_have_bounds_and_mileage_only_goes_up_for_owners() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let owner = app.customer("owner@example.com").await;
    // The shop's year (`SHOWROOM_TIMEZONE`), which is not UTC's for an hour at New Year.
    let next_year = chrono::Datelike::year(&crate::bookings::local_day(0)) + 1;
    for (year, ok) in [
        (1885, false),
        (1886, true),
        (next_year, true),
        (next_year + 1, false),
    ] {
        let r = app
            .try_create_unit(&owner.access, json!({ "year": year }))
            .await;
        assert_eq!(r["errors"].is_null(), ok, "year {year}: {r}");
        if !ok {
            assert_eq!(field(&r), "year");
        }
    }
    let r = app
        .try_create_unit(&owner.access, json!({ "mileage": -1 }))
        .await;
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "mileage"));

    let id = app
        .create_unit(&owner.access, json!({ "mileage": 5000 }))
        .await;
    let r = app
        .gql_as(
            &owner.access,
            UPDATE,
            json!({ "id": id, "i": { "mileage": 6000 } }),
        )
        .await;
    assert_eq!(r["data"]["updateUnit"]["mileage"], 6000, "{r}");
    let r = app
        .gql_as(
            &owner.access,
            UPDATE,
            json!({ "id": id, "i": { "mileage": 5999 } }),
        )
        .await;
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "mileage"), "{r}");
    let staff = app.staff(&admin).await;
    let r = app
        .gql_as(
            &staff.access,
            UPDATE,
            json!({ "id": id, "i": { "mileage": 10 } }),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "staff are not admins: {r}");
    let r = app
        .gql_as(
            &admin.access,
            UPDATE,
            json!({ "id": id, "i": { "mileage": 10 } }),
        )
        .await;
    assert_eq!(
        r["data"]["updateUnit"]["mileage"], 10,
        "an admin corrects: {r}"
    );
}

#[tokio::test]
async fn customers_see_their_own_and_listed_units_and_cannot_list() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let ann = app.customer("ann@example.com").await;
    let bob = app.customer("bob@example.com").await;
    let anns = app.create_unit(&ann.access, json!({})).await;
    let bobs = app.create_unit(&bob.access, json!({})).await;
    let listed = app
        .create_unit(
            &staff.access,
            json!({ "isListed": true, "listPrice": "18500.00" }),
        )
        .await;
    let stock = app.create_unit(&staff.access, json!({})).await;

    let q = "query($id: ID!) { unit(id: $id) { id owner { id } } }";
    let r = app.gql_as(&ann.access, q, json!({ "id": anns })).await;
    assert_eq!(r["data"]["unit"]["owner"]["id"], ann.id.as_str());
    let r = app.gql_as(&ann.access, q, json!({ "id": bobs })).await;
    assert!(
        r["data"]["unit"].is_null() && r["errors"].is_null(),
        "invisible = null: {r}"
    );
    let r = app
        .gql_as(
            &ann.access,
            UPDATE,
            json!({ "id": bobs, "i": { "notes": "mine" } }),
        )
        .await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");
    let r = app
        .gql_as(
            &ann.access,
            "mutation($id: ID!) { deleteUnit(id: $id) }",
            json!({ "id": bobs }),
        )
        .await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");
    // A listed unit is seen but not changed by other customers.
    let r = app
        .gql_as(
            &ann.access,
            UPDATE,
            json!({ "id": listed, "i": { "notes": "x" } }),
        )
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");

    let ids = |r: &Value| -> Vec<String> {
        let mut v: Vec<String> = r["data"]["units"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{r}"))
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let list = "{ units { totalCount edges { node { id } } } }";
    let mut expected = vec![anns.clone(), listed.clone()];
    expected.sort();
    let r = app.gql_as(&ann.access, list, json!({})).await;
    assert_eq!(ids(&r), expected);
    assert_eq!(r["data"]["units"]["totalCount"], 2);
    let r = app.gql(list, json!({})).await;
    assert_eq!(ids(&r), vec![listed.clone()], "anonymous see the showroom");
    let r = app.gql_as(&staff.access, list, json!({})).await;
    assert_eq!(r["data"]["units"]["totalCount"], 4, "staff see all: {r}");

    // Customers cannot list, neither at creation nor later.
    let r = app
        .try_create_unit(&ann.access, json!({ "isListed": true, "listPrice": "100" }))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let r = app
        .gql_as(
            &ann.access,
            UPDATE,
            json!({ "id": anns, "i": { "isListed": true, "listPrice": "100" } }),
        )
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    // Staff manage every unit; a listing needs a price.
    let r = app
        .gql_as(
            &staff.access,
            UPDATE,
            json!({ "id": stock, "i": { "isListed": true } }),
        )
        .await;
    assert_eq!(
        (code(&r), field(&r)),
        ("BAD_USER_INPUT", "listPrice"),
        "{r}"
    );
    let r = app
        .gql_as(
            &staff.access,
            UPDATE,
            json!({ "id": anns, "i": { "isListed": true, "listPrice": "9000" } }),
        )
        .await;
    assert_eq!(r["data"]["updateUnit"]["isListed"], true, "{r}");
    let r = app
        .gql_as(
            &staff.access,
            UPDATE,
            json!({ "id": bobs, "i": { "status": "SOLD" } }),
        )
        .await;
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "status"), "{r}");
    let r = app
        .gql_as(
            &staff.access,
            UPDATE,
            json!({ "id": bobs, "i": { "status": "INACTIVE" } }),
        )
        .await;
    assert_eq!(r["data"]["updateUnit"]["status"], "INACTIVE", "{r}");
    let r = app
        .gql_as(
            &staff.access,
            "mutation($id: ID!) { deleteUnit(id: $id) }",
            json!({ "id": stock }),
        )
        .await;
    assert_eq!(r["data"]["deleteUnit"], true, "{r}");
}

const PAGE: &str = "query($o: UnitOrder, $f: Int, $a: String, $l: Int, $b: String) {
  units(orderBy: $o, first: $f, after: $a, last: $l, before: $b) {
    edges { cursor node { id createdAt listPrice year mileage } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";

fn sort_key(node: &Value, field: &str) -> (i64, String) {
    let k = match field {
        "PRICE" => node["listPrice"]
            .as_str()
            .map_or(-1, |p| (p.parse::<f64>().unwrap() * 100.0).round() as i64),
        "YEAR" => node["year"].as_i64().unwrap(),
        "MILEAGE" => node["mileage"].as_i64().unwrap(),
        _ => chrono::DateTime::parse_from_rfc3339(node["createdAt"].as_str().unwrap())
            .unwrap()
            .timestamp_micros(),
    };
    (k, node["id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn every_ordering_pages_forward_and_backward_over_all_units_exactly_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // 250 units with many equal keys, so the id tie-break matters.
    let mutation = "mutation($i: CreateUnitInput!) { createUnit(input: $i) { id } }";
    let mut pending = Vec::new();
    for i in 0..250 {
        let mut input = json!({ "vin": vin(), "make": "Ford", "model": "Focus",
            "year": 2000 + (i % 7), "mileage": (i % 13) * 1000 });
        if i % 3 != 0 {
            input["isListed"] = json!(true);
            input["listPrice"] = json!(format!("{}.50", 1000 + (i % 11) * 100));
        }
        pending.push(app.gql_as(&admin.access, mutation, json!({ "i": input })));
        if pending.len() == 25 {
            for r in futures_util::future::join_all(pending.drain(..)).await {
                assert!(r["errors"].is_null(), "{r}");
            }
        }
    }
    for field in ["CREATED_AT", "PRICE", "YEAR", "MILEAGE"] {
        for direction in ["ASC", "DESC"] {
            let order = json!({ "field": field, "direction": direction });
            // Forward, 40 at a time.
            let mut forward: Vec<Value> = Vec::new();
            let mut after = Value::Null;
            loop {
                let r = app
                    .gql_as(
                        &admin.access,
                        PAGE,
                        json!({ "o": order, "f": 40, "a": after }),
                    )
                    .await;
                let page = &r["data"]["units"];
                let edges = page["edges"].as_array().unwrap_or_else(|| panic!("{r}"));
                forward.extend(edges.iter().map(|e| e["node"].clone()));
                if page["pageInfo"]["hasNextPage"] != true {
                    break;
                }
                after = page["pageInfo"]["endCursor"].clone();
            }
            assert_eq!(forward.len(), 250, "{field} {direction}");
            let keys: Vec<(i64, String)> = forward.iter().map(|n| sort_key(n, field)).collect();
            let mut sorted = keys.clone();
            sorted.sort();
            if direction == "DESC" {
                sorted.reverse();
            }
            assert_eq!(keys, sorted, "{field} {direction} is in order");
            let mut unique = keys.iter().map(|k| k.1.clone()).collect::<Vec<_>>();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), 250, "{field} {direction}: each once");

            // Backward from the end, 33 at a time: the same sequence.
            let mut backward: Vec<Value> = Vec::new();
            let mut before = Value::Null;
            loop {
                let r = app
                    .gql_as(
                        &admin.access,
                        PAGE,
                        json!({ "o": order, "l": 33, "b": before }),
                    )
                    .await;
                let page = &r["data"]["units"];
                let edges = page["edges"].as_array().unwrap_or_else(|| panic!("{r}"));
                let mut chunk: Vec<Value> = edges.iter().map(|e| e["node"].clone()).collect();
                chunk.extend(backward);
                backward = chunk;
                if page["pageInfo"]["hasPreviousPage"] != true {
                    break;
                }
                before = page["pageInfo"]["startCursor"].clone();
            }
            let ids = |v: &[Value]| v.iter().map(|n| n["id"].clone()).collect::<Vec<_>>();
            assert_eq!(
                ids(&backward),
                ids(&forward),
                "{field} {direction} backward"
            );
        }
    }
    // A cursor of one ordering is refused by another.
    let r = app
        .gql_as(
            &admin.access,
            PAGE,
            json!({ "o": { "field": "YEAR", "direction": "ASC" }, "f": 1 }),
        )
        .await;
    let cursor = r["data"]["units"]["pageInfo"]["endCursor"].clone();
    let r = app
        .gql_as(
            &admin.access,
            PAGE,
            json!({ "o": { "field": "PRICE", "direction": "ASC" }, "a": cursor }),
        )
        .await;
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "after"), "{r}");
    // Page sizes over 100 are refused, not capped.
    let r = app
        .gql_as(
            &admin.access,
            "{ units(first: 500) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "first"), "{r}");
    let r = app
        .gql_as(
            &admin.access,
            "{ units(last: 101) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "last"), "{r}");
    let r = app
        .gql_as(
            &admin.access,
            "{ units(first: 100) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r["data"]["units"]["edges"].as_array().map(Vec::len),
        Some(100)
    );
}

/// make, year, mileage, fuel, listed, price, sport trim, owned by the customer
struct Row(&'static str, i64, i64, &'static str, bool, i64, bool, bool);

#[tokio::test]
async fn filters_combine_and_search_is_case_insensitive() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let owner = app.customer("filters@example.com").await;
    let makes = [
        ("Toyota", "Corolla"),
        ("Honda", "Civic"),
        ("Ford", "Ranger"),
    ];
    let fuels = ["GASOLINE", "DIESEL", "ELECTRIC"];
    let mut rows = Vec::new();
    for i in 0..30i64 {
        let (make, model) = makes[(i % 3) as usize];
        let listed = i % 2 == 0;
        let input = json!({
            "make": make, "model": model, "year": 2010 + i % 10, "mileage": i * 5000,
            "fuelType": fuels[(i % 3) as usize], "trim": if i % 5 == 0 { "Sport Line" } else { "Base" },
            "licensePlate": format!("AB-{i:03}"),
            "isListed": listed, "listPrice": format!("{}", 5000 + i * 1000),
            "ownerId": if i % 4 == 0 { Value::from(owner.id.clone()) } else { Value::Null },
        });
        app.create_unit(&admin.access, input).await;
        rows.push(Row(
            make,
            2010 + i % 10,
            i * 5000,
            fuels[(i % 3) as usize],
            listed,
            5000 + i * 1000,
            i % 5 == 0,
            i % 4 == 0,
        ));
    }
    let count = |filter: Value| {
        let app = &app;
        let token = admin.access.clone();
        async move {
            let r = app
                .gql_as(&token, "query($f: UnitFilter) { units(filter: $f, first: 100) { totalCount edges { node { id } } } }", json!({ "f": filter }))
                .await;
            let total = r["data"]["units"]["totalCount"]
                .as_i64()
                .unwrap_or_else(|| panic!("{r}"));
            assert_eq!(
                total as usize,
                r["data"]["units"]["edges"].as_array().unwrap().len()
            );
            total
        }
    };
    let direct = |pred: &dyn Fn(&Row) -> bool| rows.iter().filter(|r| pred(r)).count() as i64;
    assert_eq!(
        count(json!({ "make": "toyota", "yearMin": 2012, "yearMax": 2017 })).await,
        direct(&|r| r.0 == "Toyota" && (2012..=2017).contains(&r.1))
    );
    assert_eq!(
        count(json!({ "isListed": true, "priceMin": "10000", "priceMax": "25000", "mileageMax": 100000 })).await,
        direct(&|r| r.4 && (10000..=25000).contains(&r.5) && r.2 <= 100000)
    );
    assert_eq!(
        count(json!({ "fuelTypes": ["DIESEL", "ELECTRIC"], "search": "SPORT" })).await,
        direct(&|r| r.3 != "GASOLINE" && r.6)
    );
    assert_eq!(
        count(json!({ "ownerId": owner.id, "statuses": ["ACTIVE"] })).await,
        direct(&|r| r.7)
    );
    assert_eq!(
        count(json!({ "search": "ab-01" })).await,
        10,
        "plate search"
    );
    assert_eq!(
        count(json!({ "search": "100%" })).await,
        0,
        "wildcards are literal"
    );
    assert_eq!(
        count(json!({ "search": "civ" })).await,
        direct(&|r| r.0 == "Honda")
    );
}

/// The page reads its units, owners and primary photos by position from one joined statement;
/// `unit(id)` reads them by name through the loaders. Every field must agree, set or empty.
#[tokio::test]
async fn a_page_shows_every_field_exactly_as_the_unit_itself_does() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let owner = app.customer("positions@example.com").await;
    let r = app
        .gql_as(
            &owner.access,
            "mutation { updateProfile(input: { phone: \"+15550100007\", address: \"7 Elm St\", zipCode: \"90210\", bio: \"Drives a lot\", dateOfBirth: \"1985-02-03\" }) { id } }",
            json!({}),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let full = app
        .create_unit(
            &admin.access,
            json!({
                "trim": "XLE", "fuelType": "HYBRID", "bodyType": "SEDAN", "transmission": "AUTOMATIC",
                "color": "Blue", "licensePlate": "POS-123", "location": "North lot",
                "purchaseDate": "2021-06-15", "isListed": true, "listPrice": "18999.50",
                "notes": "One owner", "ownerId": owner.id,
            }),
        )
        .await;
    let (status, r) = app
        .upload(
            &admin.access,
            "mutation($u: ID!, $f: Upload!) { addUnitPhoto(unitId: $u, file: $f, altText: \"Front\") { id } }",
            json!({ "u": full, "f": null }),
            vec![("f", "front.png", crate::common::png_bytes())],
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert!(r["errors"].is_null(), "{r}");
    let (status, r) = app
        .upload(
            &owner.access,
            "mutation($f: Upload!) { uploadAvatar(file: $f) { avatarUrl } }",
            json!({ "f": null }),
            vec![("f", "me.png", crate::common::png_bytes())],
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert!(r["data"]["uploadAvatar"]["avatarUrl"].is_string(), "{r}");
    // Stock: no owner, no photo, every optional field empty.
    let bare = app.create_unit(&admin.access, json!({})).await;

    let fields = "id vin make model trim year mileage fuelType bodyType transmission color
        licensePlate location purchaseDate status isListed listPrice notes createdAt updatedAt
        owner { id email firstName lastName phone phoneVerified role status emailVerified
          dateOfBirth address zipCode bio avatarUrl membershipTier referralCode rewardsBalance
          lastSeenAt createdAt updatedAt }
        primaryPhoto { id url altText position isPrimary contentType }";
    // A page of the units with `shape` selected on each node (and `fragment` defined).
    let page = |shape: String, fragment: &'static str| {
        let app = &app;
        let token = admin.access.clone();
        async move {
            let r = app
                .gql_as(
                    &token,
                    &format!(
                        "{{ units(first: 10) {{ edges {{ node {{ {shape} }} }} }} }} {fragment}"
                    ),
                    json!({}),
                )
                .await;
            assert!(r["errors"].is_null(), "{shape}: {r}");
            r
        }
    };
    // The page's nodes, each checked against `unit(id)` asked for the same selection.
    let agree = |shape: &'static str, fragment: &'static str| {
        let app = &app;
        let token = admin.access.clone();
        let page = &page;
        async move {
            let page = page(shape.to_string(), fragment).await;
            let nodes: Vec<Value> = page["data"]["units"]["edges"]
                .as_array()
                .unwrap_or_else(|| panic!("{shape}: {page}"))
                .iter()
                .map(|e| e["node"].clone())
                .collect();
            assert_eq!(nodes.len(), 2, "{shape}: {page}");
            for node in &nodes {
                let one = app
                    .gql_as(
                        &token,
                        &format!("query($id: ID!) {{ unit(id: $id) {{ {shape} }} }} {fragment}"),
                        json!({ "id": node["id"] }),
                    )
                    .await;
                assert!(one["data"]["unit"].is_object(), "{shape}: {one}");
                assert_eq!(node, &one["data"]["unit"], "{shape}");
            }
            nodes
        }
    };
    let nodes = agree(fields, "").await;
    // Aliases, __typename, a key asked twice, fragments and directives: the page's nodes take
    // other ways through the resolvers, and still agree with `unit(id)`.
    let more = "fragment More on Unit { color location createdAt }";
    for (shape, fragment) in [
        (
            "__typename plate: licensePlate id price: listPrice owner { __typename id email } year",
            "",
        ),
        (
            "id one: primaryPhoto { url } two: primaryPhoto { altText } status owner { id }",
            "",
        ),
        ("id make make ... on Unit { model trim } ...More", more),
        // Only the card's fields: the page reads the cards alone.
        (
            "id vin make model year mileage listPrice status isListed createdAt
             owner { id firstName lastName } primaryPhoto { url }",
            "",
        ),
        (
            "id vin @include(if: true) mileage @skip(if: false) notes @skip(if: true)",
            "",
        ),
    ] {
        agree(shape, fragment).await;
    }
    let full_node = nodes.iter().find(|n| n["id"] == json!(full)).unwrap();
    assert_eq!(full_node["trim"], "XLE");
    assert_eq!(full_node["owner"]["phone"], "+15550100007");
    assert_eq!(full_node["owner"]["zipCode"], "90210");
    assert_eq!(full_node["primaryPhoto"]["altText"], "Front");
    assert!(full_node["owner"]["avatarUrl"].is_string());
    assert_eq!(full_node["listPrice"], "18999.50");
    let bare_node = nodes.iter().find(|n| n["id"] == json!(bare)).unwrap();
    assert!(bare_node["owner"].is_null() && bare_node["primaryPhoto"].is_null());
    assert!(bare_node["trim"].is_null() && bare_node["listPrice"].is_null());
}

/// A counted page reads its count in the page's own statement, and still counts right on the
/// last page, past the end (an empty page after a cursor) and when nothing matches.
#[tokio::test]
async fn a_counted_page_takes_one_statement_and_counts_on_every_page() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for _ in 0..5 {
        app.create_unit(
            &admin.access,
            json!({ "isListed": true, "listPrice": "100" }),
        )
        .await;
    }
    let page = "query($after: String, $count: Boolean!, $f: UnitFilter) {
        units(first: 2, after: $after, filter: $f) {
          totalCount @include(if: $count) edges { node { id } } pageInfo { endCursor } } }";
    let ask = |after: Value, count: bool, f: Value| {
        app.gql_as(
            &admin.access,
            page,
            json!({ "after": after, "count": count, "f": f }),
        )
    };
    let statements = || app.state.metrics.statements();

    // With and without the count: the same number of statements.
    let before = statements();
    let r = ask(Value::Null, false, Value::Null).await;
    let plain = statements() - before;
    let before = statements();
    let r2 = ask(Value::Null, true, Value::Null).await;
    let counted = statements() - before;
    assert_eq!(plain, counted, "{r} {r2}");
    assert_eq!(r2["data"]["units"]["totalCount"], 5, "{r2}");

    // Every page counts all five, the empty one past the end included.
    let mut after = Value::Null;
    let mut sizes = Vec::new();
    loop {
        let r = ask(after.clone(), true, Value::Null).await;
        assert_eq!(r["data"]["units"]["totalCount"], 5, "{r}");
        let edges = r["data"]["units"]["edges"].as_array().unwrap().len();
        sizes.push(edges);
        if edges == 0 {
            break;
        }
        after = r["data"]["units"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(sizes, vec![2, 2, 1, 0]);

    // Nothing matches: zero, with no cursor and past one.
    let none = json!({ "make": "No Such Make" });
    let r = ask(Value::Null, true, none.clone()).await;
    assert_eq!(r["data"]["units"]["totalCount"], 0, "{r}");
    let r = ask(after, true, none).await;
    assert_eq!(r["data"]["units"]["totalCount"], 0, "{r}");
}
