//! Payments: at the counter (partial, full, over, concurrent, refunds, stats), and online through
//! a fake provider on loopback (the order, the signed webhook, replays, failures, a timeout).

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};

use crate::bookings::{at, id_of, local_day, workshop_setup, BOOK_SERVICE};
use crate::common::fake::Fake;
use crate::common::{code, field, message, Actor, TestApp};

const RECORD: &str = "mutation($i: RecordPaymentInput!) { recordPayment(input: $i) { id amount method status refundedAmount recordedBy { id } booking { id } } }";
const REFUND: &str = "mutation($id: ID!, $a: Decimal) { refundPayment(id: $id, amount: $a, reason: \"goodwill\") { id status refundedAmount } }";
const PAID: &str = "query($id: ID!) { booking(id: $id) { estimatedPrice amountPaid paymentStatus payments { id amount status refundedAmount method } } }";
const START: &str = "mutation($b: ID!) { startOnlinePayment(bookingId: $b) { checkoutUrl payment { id amount status method provider providerReference } } }";
const SECRET: &str = "whsec-test-0123456789";

/// A workshop (its location and services), set up once per test.
type Workshop = (String, Vec<String>);

/// A service appointment of `who` priced 220.00 (oil 170.00 for a Corolla, wash 50.00).
async fn priced_booking(
    app: &TestApp,
    (location, services): &Workshop,
    who: &Actor,
    hour: u32,
) -> String {
    let unit = app.create_unit(&who.access, json!({})).await;
    let r = app
        .gql_as(
            &who.access,
            BOOK_SERVICE,
            json!({ "i": { "unitId": unit, "locationId": location, "startsAt": at(local_day(3), hour, 0), "serviceIds": services } }),
        )
        .await;
    assert_eq!(
        r["data"]["bookServiceAppointment"]["estimatedPrice"], "220.00",
        "{r}"
    );
    id_of(&r, "bookServiceAppointment")
}

async fn pay(app: &TestApp, who: &Actor, booking: &str, amount: &str, method: &str) -> Value {
    app.gql_as(
        &who.access,
        RECORD,
        json!({ "i": { "bookingId": booking, "amount": amount, "method": method, "reference": "slip 7" } }),
    )
    .await
}

async fn paid(app: &TestApp, who: &Actor, booking: &str) -> Value {
    let r = app
        .gql_as(&who.access, PAID, json!({ "id": booking }))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    r["data"]["booking"].clone()
}

#[tokio::test]
async fn counter_payments_and_refunds_add_up_and_never_exceed_the_price() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let alice = app.customer("alice-pays@example.com").await;
    let workshop = workshop_setup(&app, &staff, 3).await;
    let booking = priced_booking(&app, &workshop, &alice, 9).await;
    assert_eq!(
        paid(&app, &alice, &booking).await["paymentStatus"],
        "UNPAID"
    );

    // Customers do not record payments; signed out is not signed in.
    let r = pay(&app, &alice, &booking, "10", "CASH").await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let r = app
        .gql(
            RECORD,
            json!({ "i": { "bookingId": booking, "amount": "10", "method": "CASH" } }),
        )
        .await;
    assert_eq!(code(&r), "UNAUTHENTICATED", "{r}");
    // Bad input names its field and changes nothing.
    for (amount, method, bad) in [
        ("0", "CASH", "amount"),
        ("-5", "CASH", "amount"),
        ("1.001", "CASH", "amount"),
        ("5", "ONLINE", "method"),
    ] {
        let r = pay(&app, &staff, &booking, amount, method).await;
        assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", bad), "{r}");
    }
    let r = app
        .gql_as(
            &staff.access,
            RECORD,
            json!({ "i": { "amount": "5", "method": "CASH" } }),
        )
        .await;
    assert_eq!(
        (code(&r), field(&r)),
        ("BAD_USER_INPUT", "bookingId"),
        "{r}"
    );
    assert_eq!(paid(&app, &alice, &booking).await["amountPaid"], "0.00");

    // Partial, then an overpayment refused, then the rest.
    let r = pay(&app, &staff, &booking, "100", "CASH").await;
    assert_eq!(r["data"]["recordPayment"]["status"], "SUCCEEDED", "{r}");
    assert_eq!(
        r["data"]["recordPayment"]["recordedBy"]["id"],
        staff.id.as_str(),
        "{r}"
    );
    let cash = r["data"]["recordPayment"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let state = paid(&app, &alice, &booking).await;
    assert_eq!(
        (
            state["amountPaid"].as_str(),
            state["paymentStatus"].as_str()
        ),
        (Some("100.00"), Some("PARTIALLY_PAID"))
    );
    let r = pay(&app, &staff, &booking, "120.01", "CARD").await;
    assert_eq!((code(&r), field(&r)), ("CONFLICT", "amount"), "{r}");
    assert!(message(&r).contains("120.00"), "{r}");
    let r = pay(&app, &staff, &booking, "120", "CARD").await;
    let card = r["data"]["recordPayment"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_string();
    let state = paid(&app, &alice, &booking).await;
    assert_eq!(
        (
            state["amountPaid"].as_str(),
            state["paymentStatus"].as_str()
        ),
        (Some("220.00"), Some("PAID"))
    );
    // The customer sees their payments on the booking.
    assert_eq!(
        state["payments"].as_array().map(Vec::len),
        Some(2),
        "{state}"
    );
    let r = pay(&app, &staff, &booking, "0.01", "CASH").await;
    assert_eq!(code(&r), "CONFLICT", "{r}");

    // Six payments of 50.00 at once on 220.00: four fit, two are refused.
    let second = priced_booking(&app, &workshop, &alice, 13).await;
    let tries: Vec<_> = (0..6)
        .map(|_| pay(&app, &staff, &second, "50", "CARD"))
        .collect();
    let results = futures_util::future::join_all(tries).await;
    let ok = results.iter().filter(|r| r["errors"].is_null()).count();
    let refused = results
        .iter()
        .filter(|r| !r["errors"].is_null() && code(r) == "CONFLICT")
        .count();
    assert_eq!((ok, refused), (4, 2), "{results:?}");
    assert_eq!(paid(&app, &alice, &second).await["amountPaid"], "200.00");

    // Refunds: admins only, partial then the rest, never more than paid.
    let r = app
        .gql_as(&staff.access, REFUND, json!({ "id": cash, "a": "10" }))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let r = app
        .gql_as(&admin.access, REFUND, json!({ "id": cash, "a": "50" }))
        .await;
    assert_eq!(
        r["data"]["refundPayment"],
        json!({ "id": cash, "status": "SUCCEEDED", "refundedAmount": "50.00" }),
        "{r}"
    );
    let r = app
        .gql_as(&admin.access, REFUND, json!({ "id": cash, "a": "50.01" }))
        .await;
    assert_eq!((code(&r), field(&r)), ("CONFLICT", "amount"), "{r}");
    let state = paid(&app, &alice, &booking).await;
    assert_eq!(
        (
            state["amountPaid"].as_str(),
            state["paymentStatus"].as_str()
        ),
        (Some("170.00"), Some("PARTIALLY_PAID"))
    );
    let r = app
        .gql_as(&admin.access, REFUND, json!({ "id": cash }))
        .await;
    assert_eq!(r["data"]["refundPayment"]["status"], "REFUNDED", "{r}");
    let r = app
        .gql_as(&admin.access, REFUND, json!({ "id": cash }))
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    // Two refunds of 80.00 of the 120.00 at once: one is refused.
    let both = futures_util::future::join_all(
        (0..2).map(|_| app.gql_as(&admin.access, REFUND, json!({ "id": card, "a": "80" }))),
    )
    .await;
    assert_eq!(
        both.iter().filter(|r| r["errors"].is_null()).count(),
        1,
        "{both:?}"
    );
    assert_eq!(
        both.iter()
            .filter(|r| !r["errors"].is_null() && code(r) == "CONFLICT")
            .count(),
        1,
        "{both:?}"
    );
    let r = app
        .gql_as(&admin.access, REFUND, json!({ "id": card, "a": "40" }))
        .await;
    assert_eq!(r["data"]["refundPayment"]["status"], "REFUNDED", "{r}");
    let state = paid(&app, &alice, &booking).await;
    assert_eq!(
        (
            state["amountPaid"].as_str(),
            state["paymentStatus"].as_str()
        ),
        (Some("0.00"), Some("REFUNDED"))
    );

    // The stats add up: 220.00 + 200.00 received in 6 payments, 220.00 refunded.
    let today = local_day(0).to_string();
    let r = app
        .gql_as(&staff.access, "query($d: NaiveDate!) { paymentStats(from: $d, to: $d) { count received refunded byMethod { method count amount } } }", json!({ "d": today }))
        .await;
    assert_eq!(
        r["data"]["paymentStats"],
        json!({ "count": 6, "received": "420.00", "refunded": "220.00", "byMethod": [
            { "method": "CARD", "count": 5, "amount": "320.00" },
            { "method": "CASH", "count": 1, "amount": "100.00" } ] }),
        "{r}"
    );
    let r = app
        .gql_as(
            &alice.access,
            "query($d: NaiveDate!) { paymentStats(from: $d, to: $d) { count } }",
            json!({ "d": today }),
        )
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let r = app
        .gql_as(
            &staff.access,
            "{ payments(first: 3) { totalCount edges { node { amount booking { id } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(r["data"]["payments"]["totalCount"], 6, "{r}");
    assert_eq!(
        r["data"]["payments"]["edges"].as_array().map(Vec::len),
        Some(3),
        "{r}"
    );
    let r = app
        .gql_as(&alice.access, "{ payments { totalCount } }", json!({}))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
}

#[tokio::test]
async fn sales_take_payments_too_and_keep_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let unit = app
        .create_unit(
            &staff.access,
            json!({ "isListed": true, "listPrice": "20000" }),
        )
        .await;
    let r = app
        .gql_as(&staff.access, "mutation($i: RecordSaleInput!) { recordSale(input: $i) { id } }", json!({ "i": {
            "unitId": unit, "price": "18500", "soldOn": local_day(0).to_string(), "buyerName": "Bo Buyer", "paymentMethod": "FINANCING" } }))
        .await;
    let sale = id_of(&r, "recordSale");
    let r = app
        .gql_as(
            &staff.access,
            RECORD,
            json!({ "i": { "saleId": sale, "amount": "5000", "method": "BANK_TRANSFER" } }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = app
        .gql_as(
            &staff.access,
            RECORD,
            json!({ "i": { "saleId": sale, "amount": "13500.01", "method": "BANK_TRANSFER" } }),
        )
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    let r = app
        .gql_as(
            &staff.access,
            "query($id: ID!) { sale(id: $id) { amountPaid payments { amount method } } }",
            json!({ "id": sale }),
        )
        .await;
    assert_eq!(
        r["data"]["sale"],
        json!({ "amountPaid": "5000.00", "payments": [{ "amount": "5000.00", "method": "BANK_TRANSFER" }] }),
        "{r}"
    );
    // The price cannot drop below what is paid, and the sale stays on the books.
    let r = app
        .gql_as(
            &staff.access,
            "mutation($id: ID!) { updateSale(id: $id, input: { price: \"4999.99\" }) { price } }",
            json!({ "id": sale }),
        )
        .await;
    assert_eq!((code(&r), field(&r)), ("CONFLICT", "price"), "{r}");
    let r = app
        .gql_as(
            &admin.access,
            "mutation($id: ID!) { deleteSale(id: $id) }",
            json!({ "id": sale }),
        )
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    // Both ids, or a test drive (no price), are refused.
    let r = app
        .gql_as(
            &staff.access,
            RECORD,
            json!({ "i": { "saleId": sale, "bookingId": sale, "amount": "1", "method": "CASH" } }),
        )
        .await;
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "saleId"), "{r}");
    let r = app
        .gql_as(&staff.access, RECORD, json!({ "i": { "saleId": uuid::Uuid::now_v7().to_string(), "amount": "1", "method": "CASH" } }))
        .await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");
}

fn sign(body: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn webhook(app: &TestApp, body: &str, signature: Option<&str>) -> u16 {
    let mut request = app
        .client
        .post(format!("{}/webhooks/payments", app.base))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(signature) = signature {
        request = request.header("X-Signature", signature);
    }
    request.send().await.unwrap().status().as_u16()
}

fn event(id: &str, order: &str, status: &str) -> String {
    json!({ "eventId": id, "orderId": order, "status": status }).to_string()
}

async fn system_titles(app: &TestApp, who: &Actor) -> Vec<String> {
    let r = app
        .gql_as(
            &who.access,
            "{ notifications(first: 50) { edges { node { kind title } } } }",
            json!({}),
        )
        .await;
    r["data"]["notifications"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .filter(|e| e["node"]["kind"] == "SYSTEM")
        .filter_map(|e| e["node"]["title"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn online_payments_go_through_the_provider_and_its_signed_events() {
    let (provider, url) = Fake::start().await;
    let app = TestApp::spawn_with(&[
        ("PAYMENT_PROVIDER_URL", url.as_str()),
        ("PAYMENT_WEBHOOK_SECRET", SECRET),
        ("PAYMENT_PROVIDER_TIMEOUT_MS", "700"),
        ("CURRENCY", "EUR"),
    ])
    .await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let alice = app.customer("alice-online@example.com").await;
    let bob = app.customer("bob-online@example.com").await;
    let workshop = workshop_setup(&app, &staff, 3).await;
    let booking = priced_booking(&app, &workshop, &alice, 9).await;

    // Only the booking's customer pays it online.
    let r = app
        .gql_as(&staff.access, START, json!({ "b": booking }))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let r = app
        .gql_as(&bob.access, START, json!({ "b": booking }))
        .await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");

    let r = app
        .gql_as(&alice.access, START, json!({ "b": booking }))
        .await;
    let started = &r["data"]["startOnlinePayment"];
    assert_eq!(started["payment"]["status"], "PENDING", "{r}");
    assert_eq!(started["payment"]["amount"], "220.00", "{r}");
    assert_eq!(started["payment"]["method"], "ONLINE", "{r}");
    assert_eq!(
        started["checkoutUrl"], "https://pay.example/checkout/ord-0",
        "{r}"
    );
    let payment = started["payment"]["id"].as_str().unwrap().to_string();
    let order = provider.seen();
    assert_eq!(order.len(), 1);
    assert_eq!(
        order[0].body,
        json!({ "amount": "220.00", "currency": "EUR", "reference": payment })
    );
    assert_eq!(order[0].headers["idempotency-key"], payment.as_str());
    // Asked again while under way: the same payment, no second order.
    let r = app
        .gql_as(&alice.access, START, json!({ "b": booking }))
        .await;
    assert_eq!(
        r["data"]["startOnlinePayment"]["payment"]["id"],
        payment.as_str(),
        "{r}"
    );
    assert_eq!(provider.seen().len(), 1);
    // The held amount is not taken at the counter meanwhile.
    let r = pay(&app, &staff, &booking, "10", "CASH").await;
    assert_eq!(code(&r), "CONFLICT", "{r}");

    // A bad or missing signature is 401 and changes nothing.
    let succeeded = event("evt-1", "ord-0", "succeeded");
    assert_eq!(webhook(&app, &succeeded, None).await, 401);
    assert_eq!(webhook(&app, &succeeded, Some(&sign("{}"))).await, 401);
    assert_eq!(webhook(&app, &succeeded, Some("zz")).await, 401);
    let state = paid(&app, &alice, &booking).await;
    assert_eq!(
        (
            state["paymentStatus"].as_str(),
            state["payments"][0]["status"].as_str()
        ),
        (Some("UNPAID"), Some("PENDING"))
    );
    // Signed but not an event: 400.
    assert_eq!(
        webhook(&app, "{\"eventId\":1}", Some(&sign("{\"eventId\":1}"))).await,
        400
    );

    // A good signature: SUCCEEDED, PAID, and the customer is told.
    assert_eq!(
        webhook(&app, &succeeded, Some(&sign(&succeeded))).await,
        200
    );
    let state = paid(&app, &alice, &booking).await;
    assert_eq!(
        (
            state["paymentStatus"].as_str(),
            state["amountPaid"].as_str()
        ),
        (Some("PAID"), Some("220.00"))
    );
    assert_eq!(state["payments"][0]["status"], "SUCCEEDED");
    assert_eq!(system_titles(&app, &alice).await, ["Payment received"]);
    // The same event again, twice at once: 200, nothing changes.
    let signature = sign(&succeeded);
    let again =
        futures_util::future::join_all((0..2).map(|_| webhook(&app, &succeeded, Some(&signature))))
            .await;
    assert_eq!(again, [200, 200]);
    // A later "failed" for the settled order changes nothing either.
    let late = event("evt-2", "ord-0", "failed");
    assert_eq!(webhook(&app, &late, Some(&sign(&late))).await, 200);
    let state = paid(&app, &alice, &booking).await;
    assert_eq!(
        (
            state["paymentStatus"].as_str(),
            state["payments"][0]["status"].as_str()
        ),
        (Some("PAID"), Some("SUCCEEDED"))
    );
    assert_eq!(system_titles(&app, &alice).await.len(), 1);

    // A FAILED event leaves the booking UNPAID; the customer may start again.
    let second = priced_booking(&app, &workshop, &alice, 13).await;
    let r = app
        .gql_as(&alice.access, START, json!({ "b": second }))
        .await;
    let first_try = r["data"]["startOnlinePayment"]["payment"]["providerReference"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_string();
    let failed = event("evt-3", &first_try, "failed");
    assert_eq!(webhook(&app, &failed, Some(&sign(&failed))).await, 200);
    let state = paid(&app, &alice, &second).await;
    assert_eq!(
        (
            state["paymentStatus"].as_str(),
            state["payments"][0]["status"].as_str()
        ),
        (Some("UNPAID"), Some("FAILED"))
    );
    assert_eq!(
        system_titles(&app, &alice).await[0],
        "Online payment failed"
    );

    // The provider timing out is a clear error; the amount is not held.
    provider.delay(Duration::from_millis(1500));
    let r = app
        .gql_as(&alice.access, START, json!({ "b": second }))
        .await;
    assert_eq!(code(&r), "INTERNAL_SERVER_ERROR", "{r}");
    assert!(message(&r).contains("payment provider"), "{r}");
    assert_eq!(r["errors"][0]["extensions"]["retryable"], true, "{r}");
    let state = paid(&app, &alice, &second).await;
    assert_eq!(state["payments"][1]["status"], "FAILED", "{state}");
    let r = pay(&app, &staff, &second, "220", "CARD").await;
    assert!(r["errors"].is_null(), "{r}");
}

#[tokio::test]
async fn without_a_secret_every_webhook_is_refused() {
    let app = TestApp::spawn().await;
    let body = event("evt-x", "ord-x", "succeeded");
    assert_eq!(webhook(&app, &body, Some(&sign(&body))).await, 401);
}
