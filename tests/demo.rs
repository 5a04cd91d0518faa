//! `autohub seed-demo` fills an empty database with a dealership GraphiQL can explore, and
//! refuses a database that has users.

use serde_json::json;

use crate::common::{actor, TestApp};

#[tokio::test]
async fn seed_demo_fills_an_empty_database_once() {
    let app = TestApp::spawn().await;
    let media = app.dir.join("media").display().to_string();
    let output = app
        .cli(&["seed-demo"], &[("MEDIA_DIR", media.as_str())])
        .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("200 units"), "{stdout}");
    assert!(stdout.contains("admin@demo.autohub.local"), "{stdout}");

    let r = app
        .login("admin@demo.autohub.local", autohub::demo::DEMO_PASSWORD)
        .await;
    let admin = actor("admin", &r["data"]["login"]);
    let r = app
        .gql_as(&admin.access, "{ units(first: 1, filter: { isListed: true }) { totalCount edges { node { primaryPhoto { url } } } } all: units { totalCount } sales { totalCount } serviceRecords(filter: { statuses: [COMPLETED] }) { totalCount } staff { totalCount } }", json!({}))
        .await;
    let d = &r["data"];
    assert_eq!(d["all"]["totalCount"], 200, "{r}");
    assert!(d["units"]["totalCount"].as_i64().unwrap() > 50, "{r}");
    assert!(d["sales"]["totalCount"].as_i64().unwrap() > 5, "{r}");
    assert!(
        d["serviceRecords"]["totalCount"].as_i64().unwrap() > 20,
        "{r}"
    );
    assert_eq!(d["staff"]["totalCount"], 4);
    // Bookings in every status, two locations, a catalog; list prices a dealer would ask.
    let r = app
        .gql_as(&admin.access, "{ bookings(first: 100) { totalCount edges { node { status kind estimatedPrice } } } serviceLocations { openingHours { weekday } } serviceCatalog { modelPrices { make } } units(first: 100, filter: { isListed: true }) { edges { node { listPrice year } } } }", json!({}))
        .await;
    let b = &r["data"]["bookings"];
    let statuses: std::collections::BTreeSet<&str> = b["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        [
            "CANCELLED",
            "COMPLETED",
            "CONFIRMED",
            "DECLINED",
            "IN_PROGRESS",
            "NO_SHOW",
            "PENDING"
        ],
        "{r}"
    );
    assert_eq!(
        r["data"]["serviceLocations"].as_array().map(Vec::len),
        Some(2),
        "{r}"
    );
    assert!(
        r["data"]["serviceCatalog"].as_array().unwrap().len() >= 5,
        "{r}"
    );
    let mut prices: Vec<f64> = r["data"]["units"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["listPrice"].as_str().unwrap().parse().unwrap())
        .collect();
    prices.sort_by(f64::total_cmp);
    let median = prices[prices.len() / 2];
    assert!(
        (5_000.0..40_000.0).contains(&median),
        "median list price {median}"
    );
    assert!(
        prices[prices.len() - 1] < 80_000.0,
        "no used car above a new X5: {prices:?}"
    );
    let url = d["units"]["edges"][0]["node"]["primaryPhoto"]["url"]
        .as_str()
        .unwrap();
    let response = app
        .client
        .get(url.replace("http://autohub.test", &app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.unwrap().starts_with(b"\x89PNG"));

    // Offers by tier, make and location; documents with the second terms in effect; the shop.
    let r = app
        .gql_as(&admin.access, "{ allOffers { totalCount edges { node { eligibleTiers makes locations { id } } } } terms: document(kind: TERMS) { version contentHtml } privacy: document(kind: PRIVACY_POLICY) { version } shopInfo { name socialLinks openingHours { weekday } } }", json!({}))
        .await;
    let d = &r["data"];
    assert_eq!(d["allOffers"]["totalCount"], 5, "{r}");
    let offers = d["allOffers"]["edges"].as_array().unwrap();
    let has = |key: &str| {
        offers
            .iter()
            .any(|o| o["node"][key].as_array().is_some_and(|a| !a.is_empty()))
    };
    assert!(
        has("eligibleTiers") && has("makes") && has("locations"),
        "{r}"
    );
    assert_eq!(d["terms"]["version"], 2, "{r}");
    assert!(d["terms"]["contentHtml"]
        .as_str()
        .unwrap()
        .contains("<strong>24 hours</strong>"));
    assert_eq!(d["privacy"]["version"], 1, "{r}");
    assert_eq!(d["shopInfo"]["name"], "AutoHub Demo Motors", "{r}");
    assert_eq!(
        d["shopInfo"]["openingHours"].as_array().map(Vec::len),
        Some(6)
    );

    // Payments of bookings and sales, one refunded in part; the stats add them up.
    let r = app
        .gql_as(&admin.access, "{ payments(first: 100) { totalCount edges { node { refundedAmount booking { paymentStatus } sale { amountPaid } } } } }", json!({}))
        .await;
    let payments = r["data"]["payments"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"));
    assert!(payments.len() >= 3, "{r}");
    let some = |f: &dyn Fn(&serde_json::Value) -> bool| payments.iter().any(|p| f(&p["node"]));
    // The completed appointment was paid in full, then 10.00 came back as goodwill.
    assert!(
        some(&|p| p["refundedAmount"] == "10.00"
            && p["booking"]["paymentStatus"] == "PARTIALLY_PAID"),
        "{r}"
    );
    assert!(
        some(
            &|p| p["refundedAmount"] == "0.00" && p["booking"]["paymentStatus"] == "PARTIALLY_PAID"
        ),
        "{r}"
    );
    assert!(some(&|p| p["sale"]["amountPaid"].is_string()), "{r}");
    assert!(
        stdout.contains(&format!("{} payments", payments.len())),
        "{stdout}"
    );

    let again = app
        .cli(&["seed-demo"], &[("MEDIA_DIR", media.as_str())])
        .await;
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already has"), "{stderr}");
}
