//! CSV exports: every kind parses with a real CSV parser and holds the rows the matching query
//! shows the staff member; formulas are quoted as text; the signed URL is the only way in.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;

use crate::bookings::{at, id_of, local_day, workshop_setup, BOOK_SERVICE};
use crate::common::{code, Actor, TestApp};

const EXPORT_URL: &str =
    "mutation($k: ExportKind!, $f: NaiveDate, $t: NaiveDate) { exportUrl(kind: $k, from: $f, to: $t) }";
const FORMULA: &str = "=HYPERLINK(\"https://evil.example\",\"click\")";

async fn export_url(app: &TestApp, who: &Actor, kind: &str, from: Option<String>) -> String {
    let r = app
        .gql_as(&who.access, EXPORT_URL, json!({ "k": kind, "f": from }))
        .await;
    r["data"]["exportUrl"]
        .as_str()
        .unwrap_or_else(|| panic!("{kind}: {r}"))
        .to_string()
}

/// GETs an export URL (given with the test's public URL) from the server; status and body.
async fn download(app: &TestApp, url: &str) -> (u16, String) {
    let path = url
        .strip_prefix("http://autohub.test")
        .unwrap_or_else(|| panic!("{url}"));
    let response = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// The header and the records of a CSV text, as a real parser reads them.
fn parse(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

async fn ids_of(app: &TestApp, who: &Actor, list: &str) -> BTreeSet<String> {
    let r = app
        .gql_as(
            &who.access,
            &format!("{{ {list}(first: 100) {{ edges {{ node {{ id }} }} }} }}"),
            json!({}),
        )
        .await;
    r["data"][list]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}: {r}"))
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect()
}

fn column<'a>(header: &[String], rows: &'a [Vec<String>], name: &str) -> Vec<&'a str> {
    let at = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no {name} in {header:?}"));
    rows.iter().map(|r| r[at].as_str()).collect()
}

#[tokio::test]
async fn every_kind_exports_what_its_query_shows_as_csv_without_formulas() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let alice = app.customer("alice-export@example.com").await;
    // Units: a staff one with a formula for a trim, a listed one that is sold, the customer's own.
    let evil = app
        .create_unit(&staff.access, json!({ "trim": FORMULA }))
        .await;
    let sold = app
        .create_unit(
            &staff.access,
            json!({ "isListed": true, "listPrice": "20000" }),
        )
        .await;
    let own = app
        .create_unit(&alice.access, json!({ "model": "Yaris" }))
        .await;
    let r = app
        .gql_as(&staff.access, "mutation($i: RecordSaleInput!) { recordSale(input: $i) { id } }", json!({ "i": {
            "unitId": sold, "price": "18500", "soldOn": local_day(0).to_string(), "buyerName": "+1 Buyer, \"Quoted\"", "paymentMethod": "CARD" } }))
        .await;
    let sale = id_of(&r, "recordSale");
    let r = app
        .gql_as(
            &staff.access,
            "mutation($i: CreateServiceRecordInput!) { createServiceRecord(input: $i) { id } }",
            json!({ "i": { "unitId": evil, "description": "@SUM(A1) check" } }),
        )
        .await;
    id_of(&r, "createServiceRecord");
    let (location, services) = workshop_setup(&app, &staff, 2).await;
    let r = app
        .gql_as(&alice.access, BOOK_SERVICE, json!({ "i": { "unitId": own, "locationId": location, "startsAt": at(local_day(2), 10, 0), "serviceIds": services } }))
        .await;
    let booking = id_of(&r, "bookServiceAppointment");
    let r = app
        .gql_as(&staff.access, "mutation($i: RecordPaymentInput!) { recordPayment(input: $i) { id } }", json!({ "i": { "bookingId": booking, "amount": "50", "method": "CASH", "reference": "-5 slip" } }))
        .await;
    id_of(&r, "recordPayment");
    let r = app
        .gql_as(
            &staff.access,
            "mutation($i: RecordPaymentInput!) { recordPayment(input: $i) { id } }",
            json!({ "i": { "saleId": sale, "amount": "1000", "method": "BANK_TRANSFER" } }),
        )
        .await;
    id_of(&r, "recordPayment");

    for (kind, list, first) in [
        ("UNITS", "units", "vin"),
        ("SALES", "sales", "unitId"),
        ("BOOKINGS", "bookings", "kind"),
        ("SERVICE_RECORDS", "serviceRecords", "unitId"),
        ("PAYMENTS", "payments", "bookingId"),
    ] {
        let url = export_url(&app, &staff, kind, None).await;
        let (status, text) = download(&app, &url).await;
        assert_eq!(status, 200, "{kind}: {text}");
        assert!(text.contains("\r\n"), "{kind}: RFC 4180 line ends");
        let (header, rows) = parse(&text);
        assert_eq!(&header[..2], ["id", first], "{kind}: {header:?}");
        let exported: BTreeSet<String> = column(&header, &rows, "id")
            .into_iter()
            .map(str::to_string)
            .collect();
        assert_eq!(exported, ids_of(&app, &staff, list).await, "{kind}");
        assert!(!exported.is_empty(), "{kind}");
        // No cell starts a formula.
        for row in &rows {
            for cell in row {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{kind}: {cell}"
                );
            }
        }
    }
    let (_, text) = download(&app, &export_url(&app, &staff, "UNITS", None).await).await;
    let (header, rows) = parse(&text);
    assert!(
        column(&header, &rows, "trim").contains(&format!("'{FORMULA}").as_str()),
        "{text}"
    );
    assert!(
        column(&header, &rows, "ownerEmail").contains(&"alice-export@example.com"),
        "{text}"
    );
    let (_, text) = download(&app, &export_url(&app, &staff, "SALES", None).await).await;
    let (header, rows) = parse(&text);
    assert_eq!(
        column(&header, &rows, "buyerName"),
        ["'+1 Buyer, \"Quoted\""]
    );
    assert_eq!(column(&header, &rows, "price"), ["18500.00"]);
    let (_, text) = download(&app, &export_url(&app, &staff, "BOOKINGS", None).await).await;
    let (header, rows) = parse(&text);
    assert_eq!(column(&header, &rows, "paymentStatus"), ["PARTIALLY_PAID"]);
    assert_eq!(column(&header, &rows, "amountPaid"), ["50.00"]);
    let (_, text) = download(
        &app,
        &export_url(&app, &staff, "SERVICE_RECORDS", None).await,
    )
    .await;
    let (header, rows) = parse(&text);
    assert_eq!(column(&header, &rows, "description"), ["'@SUM(A1) check"]);
    // Days narrow the rows: nothing was sold tomorrow.
    let tomorrow = Some(local_day(1).to_string());
    let (_, text) = download(&app, &export_url(&app, &staff, "SALES", tomorrow).await).await;
    let (header, rows) = parse(&text);
    assert_eq!((header.len(), rows.len()), (14, 0), "{text}");
}

#[tokio::test]
async fn only_staff_get_an_export_url_and_only_that_url_opens_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let alice = app.customer("alice-noexport@example.com").await;
    app.create_unit(&staff.access, json!({})).await;
    let r = app
        .gql_as(&alice.access, EXPORT_URL, json!({ "k": "UNITS" }))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let r = app.gql(EXPORT_URL, json!({ "k": "UNITS" })).await;
    assert_eq!(code(&r), "UNAUTHENTICATED", "{r}");
    let r = app
        .gql_as(
            &staff.access,
            EXPORT_URL,
            json!({ "k": "UNITS", "f": "2026-05-02", "t": "2026-05-01" }),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");

    let url = export_url(&app, &staff, "UNITS", None).await;
    assert_eq!(download(&app, &url).await.0, 200);
    // Altered: the signature, the grant, or the kind in the path.
    let mut altered = url.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == '0' { '1' } else { '0' });
    assert_eq!(download(&app, &altered).await.0, 403);
    let tampered = url.replacen("token=e", "token=f", 1);
    assert_ne!(tampered, url);
    assert_eq!(download(&app, &tampered).await.0, 403);
    assert_eq!(
        download(&app, &url.replace("/units.csv", "/payments.csv"))
            .await
            .0,
        403
    );
    assert_eq!(download(&app, url.split('?').next().unwrap()).await.0, 403);
    assert_eq!(
        download(&app, &url.replace("/units.csv", "/users.csv"))
            .await
            .0,
        404
    );
    // Signed out: the URL dies with the session.
    let r = app
        .gql_as(&staff.access, "mutation { logout }", json!({}))
        .await;
    assert_eq!(r["data"]["logout"], true, "{r}");
    assert_eq!(download(&app, &url).await.0, 403);
}

#[tokio::test]
async fn an_export_url_expires() {
    let app = TestApp::spawn_with(&[("EXPORT_URL_TTL_SECONDS", "1")]).await;
    let admin = app.admin().await;
    let url = export_url(&app, &admin, "PAYMENTS", None).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, text) = download(&app, &url).await;
    assert_eq!(status, 403, "{text}");
}
