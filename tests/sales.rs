//! Sales: SOLD and unlisted afterwards, commission, private sales, deletion, the summary, staff
//! metrics, and one sale per unit under concurrency.

use serde_json::{json, Value};

use crate::common::{code, field, Actor, TestApp};

const RECORD: &str = "mutation($i: RecordSaleInput!) { recordSale(input: $i) { id price commissionRate commissionAmount salesperson { id } buyer { id } unit { status isListed } } }";

fn sale(unit: &str, price: &str, sold_on: &str) -> Value {
    json!({ "unitId": unit, "price": price, "soldOn": sold_on, "buyerName": "Grace Buyer",
            "buyerEmail": "Grace@Example.com", "paymentMethod": "BANK_TRANSFER" })
}

async fn listed_unit(app: &TestApp, staff: &Actor) -> String {
    app.create_unit(
        &staff.access,
        json!({ "isListed": true, "listPrice": "20000" }),
    )
    .await
}

#[tokio::test]
async fn a_dealership_sale_sells_unlists_and_earns_commission() {
    let app = TestApp::spawn_with(&[("COMMISSION_RATE", "0.025")]).await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let unit = listed_unit(&app, &staff).await;
    let r = app
        .gql_as(
            &staff.access,
            RECORD,
            json!({ "i": sale(&unit, "18500.50", "2026-03-04") }),
        )
        .await;
    let s = &r["data"]["recordSale"];
    assert_eq!(s["unit"]["status"], "SOLD", "{r}");
    assert_eq!(s["unit"]["isListed"], false);
    assert_eq!(s["price"], "18500.50");
    assert_eq!(s["commissionRate"], "0.0250");
    assert_eq!(
        s["commissionAmount"], "462.51",
        "18500.50 × 2.5% = 462.5125, to the cent"
    );
    assert_eq!(
        s["salesperson"]["id"],
        staff.id.as_str(),
        "defaults to the recorder"
    );
    // A sold unit: no second sale, no listing, no edits but notes.
    let r = app
        .gql_as(
            &admin.access,
            RECORD,
            json!({ "i": sale(&unit, "1", "2026-03-04") }),
        )
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    let update =
        "mutation($id: ID!, $i: UpdateUnitInput!) { updateUnit(id: $id, input: $i) { notes } }";
    let r = app
        .gql_as(
            &staff.access,
            update,
            json!({ "id": unit, "i": { "isListed": true } }),
        )
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    let r = app
        .gql_as(
            &staff.access,
            update,
            json!({ "id": unit, "i": { "notes": "Delivered" } }),
        )
        .await;
    assert_eq!(r["data"]["updateUnit"]["notes"], "Delivered", "{r}");
    let r = app
        .gql_as(
            &staff.access,
            "mutation($id: ID!) { deleteUnit(id: $id) }",
            json!({ "id": unit }),
        )
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    // Bad input changes nothing.
    let other = listed_unit(&app, &staff).await;
    for (input, field) in [
        (sale(&other, "0", "2026-01-01"), "price"),
        (sale(&other, "-5", "2026-01-01"), "price"),
        (sale(&other, "10", "2999-01-01"), "soldOn"),
        (
            json!({ "unitId": other, "price": "10", "soldOn": "2026-01-01", "buyerName": "  ", "paymentMethod": "CASH" }),
            "buyerName",
        ),
    ] {
        let r = app
            .gql_as(&staff.access, RECORD, json!({ "i": input }))
            .await;
        assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
        assert_eq!(r["errors"][0]["extensions"]["field"], field, "{r}");
    }
    let r = app
        .gql_as(
            &staff.access,
            "query($id: ID!) { unit(id: $id) { status } }",
            json!({ "id": other }),
        )
        .await;
    assert_eq!(r["data"]["unit"]["status"], "ACTIVE");
}

#[tokio::test]
async fn a_private_sale_has_no_commission_and_an_admin_can_undo_a_sale() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let owner = app.customer("seller@example.com").await;
    let other = app.customer("nosy@example.com").await;
    let unit = app.create_unit(&owner.access, json!({})).await;
    let r = app
        .gql_as(&owner.access, RECORD, json!({ "i": { "unitId": unit, "price": "5000", "soldOn": "2026-02-01", "buyerName": "Neighbour", "paymentMethod": "CASH", "salespersonId": staff.id } }))
        .await;
    assert_eq!(
        code(&r),
        "FORBIDDEN",
        "no salesperson on a private sale: {r}"
    );
    let r = app
        .gql_as(
            &owner.access,
            RECORD,
            json!({ "i": sale(&unit, "5000", "2026-02-01") }),
        )
        .await;
    let s = &r["data"]["recordSale"];
    assert!(
        s["commissionAmount"].is_null() && s["salesperson"].is_null(),
        "{r}"
    );
    let id = s["id"].as_str().unwrap().to_string();
    // Visible to the owner and staff, not to other customers.
    let q = "query($id: ID!) { sale(id: $id) { id } }";
    assert_eq!(
        app.gql_as(&owner.access, q, json!({ "id": id })).await["data"]["sale"]["id"],
        id.as_str()
    );
    assert!(app.gql_as(&other.access, q, json!({ "id": id })).await["data"]["sale"].is_null());
    let r = app
        .gql_as(&other.access, "{ sales { totalCount } }", json!({}))
        .await;
    assert_eq!(r["data"]["sales"]["totalCount"], 0);
    // Only an admin deletes; the unit returns to ACTIVE.
    let delete = "mutation($id: ID!) { deleteSale(id: $id) }";
    assert_eq!(
        code(&app.gql_as(&staff.access, delete, json!({ "id": id })).await),
        "FORBIDDEN"
    );
    assert_eq!(
        app.gql_as(&admin.access, delete, json!({ "id": id })).await["data"]["deleteSale"],
        true
    );
    let r = app
        .gql_as(
            &owner.access,
            "query($id: ID!) { unit(id: $id) { status sale { id } } }",
            json!({ "id": unit }),
        )
        .await;
    assert_eq!(r["data"]["unit"]["status"], "ACTIVE", "{r}");
    assert!(r["data"]["unit"]["sale"].is_null());
}

#[tokio::test]
async fn no_sale_for_a_unit_in_service_or_inactive() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let unit = app.create_unit(&admin.access, json!({})).await;
    let r = app
        .gql_as(&admin.access, "mutation($u: ID!) { createServiceRecord(input: { unitId: $u, description: \"x\" }) { id } }", json!({ "u": unit }))
        .await;
    let record = r["data"]["createServiceRecord"]["id"].clone();
    app.gql_as(
        &admin.access,
        "mutation($id: ID!) { setServiceStatus(id: $id, status: IN_PROGRESS) { id } }",
        json!({ "id": record }),
    )
    .await;
    let r = app
        .gql_as(
            &admin.access,
            RECORD,
            json!({ "i": sale(&unit, "10", "2026-01-01") }),
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
            RECORD,
            json!({ "i": sale(&inactive, "10", "2026-01-01") }),
        )
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
}

#[tokio::test]
async fn twenty_sales_of_one_unit_at_once_make_exactly_one() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    for round in 0..3 {
        let unit = listed_unit(&app, &staff).await;
        let attempts = (0..20).map(|i| {
            let who = if i % 2 == 0 { &admin } else { &staff };
            app.gql_as(
                &who.access,
                RECORD,
                json!({ "i": sale(&unit, &format!("{}", 1000 + i), "2026-01-01") }),
            )
        });
        let results = futures_util::future::join_all(attempts).await;
        let ok = results
            .iter()
            .filter(|r| r["data"]["recordSale"]["id"].is_string())
            .count();
        let conflicts = results
            .iter()
            .filter(|r| r["errors"][0]["extensions"]["code"] == "CONFLICT")
            .count();
        assert_eq!((ok, conflicts), (1, 19), "round {round}: {results:?}");
        let r = app
            .gql_as(
                &admin.access,
                "query($u: ID!) { sales(filter: { unitId: $u }) { totalCount } }",
                json!({ "u": unit }),
            )
            .await;
        assert_eq!(r["data"]["sales"]["totalCount"], 1);
    }
}

#[tokio::test]
async fn the_summary_and_staff_metrics_add_up() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ann = app.staff(&admin).await;
    let bob = app.staff(&admin).await;
    let sales = [
        (&ann, "1000.00", "2026-01-05"),
        (&ann, "2000.00", "2026-01-06"),
        (&bob, "3000.00", "2026-01-20"),
        (&ann, "4000.50", "2026-02-02"),
        (&bob, "5000.00", "2026-03-31"),
        (&ann, "9999.00", "2025-12-31"), // outside the range
    ];
    for (who, price, day) in sales {
        let unit = listed_unit(&app, who).await;
        let r = app
            .gql_as(&who.access, RECORD, json!({ "i": sale(&unit, price, day) }))
            .await;
        assert!(r["errors"].is_null(), "{r}");
    }
    // Ann also completes two services, one in the range.
    let unit = app.create_unit(&admin.access, json!({})).await;
    for _ in 0..2 {
        let r = app
            .gql_as(&ann.access, "mutation($u: ID!, $t: ID!) { createServiceRecord(input: { unitId: $u, description: \"x\", technicianId: $t }) { id } }", json!({ "u": unit, "t": ann.id }))
            .await;
        let id = r["data"]["createServiceRecord"]["id"].clone();
        for s in ["IN_PROGRESS", "COMPLETED"] {
            app.gql_as(&ann.access, "mutation($id: ID!, $s: ServiceStatus!) { setServiceStatus(id: $id, status: $s) { id } }", json!({ "id": id, "s": s }))
                .await;
        }
    }

    let q = "query($g: Period!) { salesSummary(from: \"2026-01-01\", to: \"2026-03-31\", groupBy: $g) { count revenue averagePrice commissionTotal buckets { periodStart count revenue } } }";
    for (group, buckets) in [("MONTH", 3), ("WEEK", 14), ("DAY", 90)] {
        let r = app.gql_as(&admin.access, q, json!({ "g": group })).await;
        let s = &r["data"]["salesSummary"];
        assert_eq!(s["count"], 5, "{r}");
        assert_eq!(s["revenue"], "15000.50");
        assert_eq!(s["averagePrice"], "3000.10");
        assert_eq!(s["commissionTotal"], "300.01", "2% of each, to the cent");
        let b = s["buckets"].as_array().unwrap();
        assert_eq!(b.len(), buckets, "{group}");
        let count: i64 = b.iter().map(|b| b["count"].as_i64().unwrap()).sum();
        let revenue: f64 = b
            .iter()
            .map(|b| b["revenue"].as_str().unwrap().parse::<f64>().unwrap())
            .sum();
        assert_eq!(count, 5, "{group}");
        assert!((revenue - 15000.50).abs() < 0.001, "{group}: {revenue}");
    }
    let r = app.gql_as(&admin.access, q, json!({ "g": "MONTH" })).await;
    assert_eq!(
        r["data"]["salesSummary"]["buckets"][0]["revenue"],
        "6000.00"
    );
    assert_eq!(code(&app.gql_as(&ann.access, "{ salesSummary(from: \"2026-02-01\", to: \"2026-01-01\", groupBy: DAY) { count } }", json!({})).await), "BAD_USER_INPUT");

    let m = "query($u: ID!) { staffMetrics(userId: $u, from: \"2026-01-01\", to: \"2026-12-31\") { user { id } salesCount revenue commissionTotal servicesCompleted bookingsHandled } }";
    let r = app.gql_as(&admin.access, m, json!({ "u": ann.id })).await;
    let s = &r["data"]["staffMetrics"];
    assert_eq!(s["salesCount"], 3, "{r}");
    assert_eq!(s["revenue"], "7000.50");
    assert_eq!(s["commissionTotal"], "140.01");
    assert_eq!(s["servicesCompleted"], 2);
    let r = app.gql_as(&ann.access, m, json!({ "u": ann.id })).await;
    assert_eq!(r["data"]["staffMetrics"]["salesCount"], 3, "their own: {r}");
    let r = app.gql_as(&ann.access, m, json!({ "u": bob.id })).await;
    assert_eq!(code(&r), "FORBIDDEN", "not another's: {r}");
    let r = app.gql_as(&admin.access, m, json!({ "u": bob.id })).await;
    assert_eq!(r["data"]["staffMetrics"]["revenue"], "8000.00", "{r}");
    let r = app
        .gql_as(&admin.access, "{ staff { totalCount } }", json!({}))
        .await;
    assert_eq!(
        r["data"]["staff"]["totalCount"], 3,
        "two staff and the admin: {r}"
    );
}

/// "In the future" is counted in the shop's days (`SHOWROOM_TIMEZONE`), not in UTC's: a sale
/// recorded just after the shop's midnight is dated that day. The zone is chosen so that its day
/// differs from UTC's whenever the test runs: 14 hours ahead from 10:00 UTC on (its today is
/// UTC's tomorrow), 12 hours behind before (its tomorrow is UTC's today).
#[tokio::test]
async fn a_date_in_the_future_means_after_the_shops_today_not_utcs() {
    use chrono::{Days, Timelike, Utc};
    let now = Utc::now();
    let zone = if now.hour() >= 10 {
        chrono_tz::Pacific::Kiritimati
    } else {
        chrono_tz::Etc::GMTPlus12
    };
    let today = now.with_timezone(&zone).date_naive();
    assert_ne!(today, now.date_naive());
    let tomorrow = today + Days::new(1);
    let app = TestApp::spawn_with(&[("SHOWROOM_TIMEZONE", zone.name())]).await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;

    let unit = listed_unit(&app, &staff).await;
    let sold_on = |day: chrono::NaiveDate| json!({ "i": sale(&unit, "100", &day.to_string()) });
    let r = app.gql_as(&staff.access, RECORD, sold_on(tomorrow)).await;
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "soldOn"), "{r}");
    let r = app.gql_as(&staff.access, RECORD, sold_on(today)).await;
    assert_eq!(r["data"]["recordSale"]["unit"]["status"], "SOLD", "{r}");

    let bought_on = |day| json!({ "purchaseDate": day });
    let r = app
        .try_create_unit(&staff.access, bought_on(tomorrow))
        .await;
    assert_eq!(
        (code(&r), field(&r)),
        ("BAD_USER_INPUT", "purchaseDate"),
        "{r}"
    );
    let r = app.try_create_unit(&staff.access, bought_on(today)).await;
    assert!(r["data"]["createUnit"]["id"].is_string(), "{r}");
}
