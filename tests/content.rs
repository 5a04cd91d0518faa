//! Content: policy documents in versions with effective dates, their Markdown rendered safely,
//! terms acceptance, and the shop's information.

use autohub::content::entity::DocumentKind;
use serde_json::{json, Value};

use crate::bookings::{id_of, local_day};
use crate::common::{code, field, Actor, TestApp};

const PUBLISH: &str = "mutation($k: DocumentKind!, $c: String!, $d: NaiveDate!) { publishDocument(kind: $k, content: $c, effectiveDate: $d) { id version effectiveDate } }";
const UPDATE: &str = "mutation($id: ID!, $c: String, $d: NaiveDate) { updateDocument(id: $id, content: $c, effectiveDate: $d) { version content effectiveDate } }";
const DELETE: &str = "mutation($id: ID!) { deleteDocument(id: $id) }";
const CURRENT: &str = "query($k: DocumentKind!) { document(kind: $k) { version content } }";
const TERMS_STATE: &str = "query { me { acceptedTermsVersion mustAcceptTerms } }";

async fn publish(app: &TestApp, admin: &Actor, kind: &str, content: &str, in_days: i64) -> String {
    let r = app
        .gql_as(
            &admin.access,
            PUBLISH,
            json!({ "k": kind, "c": content, "d": local_day(in_days) }),
        )
        .await;
    id_of(&r, "publishDocument")
}

fn current_version(r: &Value) -> Value {
    r["data"]["document"]["version"].clone()
}

#[tokio::test]
async fn documents_take_effect_on_their_date_and_are_frozen_once_in_effect() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let alice = app.customer("alice-documents@example.com").await;

    // Nothing before the first version.
    let r = app.gql(CURRENT, json!({ "k": "PRIVACY_POLICY" })).await;
    assert!(
        r["data"]["document"].is_null() && r["errors"].is_null(),
        "{r}"
    );

    let v1 = publish(&app, &admin, "PRIVACY_POLICY", "First.", -10).await;
    let v2 = publish(&app, &admin, "PRIVACY_POLICY", "Second.", 0).await;
    let v3 = publish(&app, &admin, "PRIVACY_POLICY", "Third.", 3).await;
    // Another kind counts its own versions.
    publish(&app, &admin, "ABOUT_US", "About.", 0).await;

    // The newest in effect today is version 2; version 3 waits for its day (public).
    let r = app.gql(CURRENT, json!({ "k": "PRIVACY_POLICY" })).await;
    assert_eq!(
        r["data"]["document"],
        json!({ "version": 2, "content": "Second." }),
        "{r}"
    );
    let history =
        "query($k: DocumentKind!) { documentHistory(kind: $k) { version effectiveDate } }";
    let r = app
        .gql_as(&staff.access, history, json!({ "k": "PRIVACY_POLICY" }))
        .await;
    let versions: Vec<i64> = r["data"]["documentHistory"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .filter_map(|d| d["version"].as_i64())
        .collect();
    assert_eq!(versions, [3, 2, 1]);
    let r = app
        .gql_as(&alice.access, history, json!({ "k": "PRIVACY_POLICY" }))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");

    // In effect or past: never changed or deleted.
    for id in [&v1, &v2] {
        let r = app
            .gql_as(&admin.access, UPDATE, json!({ "id": id, "c": "Changed." }))
            .await;
        assert_eq!(code(&r), "CONFLICT", "{r}");
        let r = app.gql_as(&admin.access, DELETE, json!({ "id": id })).await;
        assert_eq!(code(&r), "CONFLICT", "{r}");
    }
    // Published no earlier than the version before it.
    let r = app
        .gql_as(
            &admin.access,
            PUBLISH,
            json!({ "k": "PRIVACY_POLICY", "c": "Early.", "d": local_day(1) }),
        )
        .await;
    assert_eq!(
        (code(&r), field(&r)),
        ("BAD_USER_INPUT", "effectiveDate"),
        "{r}"
    );
    // Only admins write.
    let r = app
        .gql_as(&staff.access, UPDATE, json!({ "id": v3, "c": "Staff." }))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let r = app
        .gql_as(
            &staff.access,
            PUBLISH,
            json!({ "k": "TERMS", "c": "x", "d": local_day(0) }),
        )
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");

    // A future version may change; moved to today, it is the one in effect (computed from the
    // dates: no job runs).
    let r = app
        .gql_as(
            &admin.access,
            UPDATE,
            json!({ "id": v3, "c": "Third, revised." }),
        )
        .await;
    assert_eq!(
        r["data"]["updateDocument"]["content"], "Third, revised.",
        "{r}"
    );
    let r = app
        .gql_as(
            &admin.access,
            UPDATE,
            json!({ "id": v3, "d": local_day(-1) }),
        )
        .await;
    assert_eq!(
        (code(&r), field(&r)),
        ("BAD_USER_INPUT", "effectiveDate"),
        "{r}"
    );
    let r = app.gql(CURRENT, json!({ "k": "PRIVACY_POLICY" })).await;
    assert_eq!(current_version(&r), 2, "{r}");
    let r = app
        .gql_as(
            &admin.access,
            UPDATE,
            json!({ "id": v3, "d": local_day(0) }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = app.gql(CURRENT, json!({ "k": "PRIVACY_POLICY" })).await;
    assert_eq!(
        r["data"]["document"],
        json!({ "version": 3, "content": "Third, revised." }),
        "{r}"
    );
    let r = app.gql_as(&admin.access, DELETE, json!({ "id": v3 })).await;
    assert_eq!(code(&r), "CONFLICT", "{r}");

    // A future version may be deleted; the number is then free again.
    let v4 = publish(&app, &admin, "PRIVACY_POLICY", "Fourth.", 5).await;
    let r = app.gql_as(&admin.access, DELETE, json!({ "id": v4 })).await;
    assert_eq!(r["data"]["deleteDocument"], true, "{r}");
    let r = app
        .gql_as(
            &admin.access,
            PUBLISH,
            json!({ "k": "PRIVACY_POLICY", "c": "Fourth again.", "d": local_day(5) }),
        )
        .await;
    assert_eq!(r["data"]["publishDocument"]["version"], 4, "{r}");
}

#[tokio::test]
async fn versions_published_at_once_get_distinct_numbers() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    // More at once than the five tries publication once allowed: the last of them loses to
    // every other before its number is free.
    let results = futures_util::future::join_all((0..12).map(|i| {
        app.gql_as(
            &admin.access,
            PUBLISH,
            json!({ "k": "ABOUT_US", "c": format!("Take {i}."), "d": local_day(0) }),
        )
    }))
    .await;
    let mut versions: Vec<i64> = results
        .iter()
        .map(|r| {
            r["data"]["publishDocument"]["version"]
                .as_i64()
                .unwrap_or_else(|| panic!("{r}"))
        })
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, (1..=12).collect::<Vec<i64>>());
}

#[tokio::test]
async fn content_html_has_no_script_no_event_handler_and_no_javascript_link() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let markdown = "# Terms\n\nWe **care**.\n\n<script>alert('x')</script>\n\n\
        <img src=\"a.png\" onerror=\"alert(1)\">\n\n[click me](javascript:alert(2)) and \
        <a href=\"JAVASCRIPT:alert(3)\">this</a> and [us](https://example.com).";
    publish(&app, &admin, "TERMS", markdown, 0).await;
    let r = app
        .gql(
            "query { document(kind: TERMS) { content contentHtml } }",
            json!({}),
        )
        .await;
    assert_eq!(r["data"]["document"]["content"], markdown, "{r}");
    let html = r["data"]["document"]["contentHtml"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"));
    let lower = html.to_lowercase();
    for bad in ["<script", "alert('x')", "onerror", "javascript:"] {
        assert!(!lower.contains(bad), "{bad} in {html}");
    }
    assert!(html.contains("<h1>Terms</h1>"), "{html}");
    assert!(html.contains("<strong>care</strong>"), "{html}");
    assert!(html.contains("href=\"https://example.com\""), "{html}");
    // Asked again (cached), the same.
    let again = app
        .gql("query { document(kind: TERMS) { contentHtml } }", json!({}))
        .await;
    assert_eq!(again["data"]["document"]["contentHtml"], html);
}

#[tokio::test]
async fn sign_up_records_the_terms_and_a_newer_version_must_be_accepted() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    // Before any terms: nothing to accept.
    let early = app.customer("early-terms@example.com").await;
    let r = app.gql_as(&early.access, TERMS_STATE, json!({})).await;
    assert_eq!(
        r["data"]["me"],
        json!({ "acceptedTermsVersion": null, "mustAcceptTerms": false }),
        "{r}"
    );

    publish(&app, &admin, "TERMS", "Terms one.", -1).await;
    let alice = app.customer("alice-terms@example.com").await;
    let r = app.gql_as(&alice.access, TERMS_STATE, json!({})).await;
    assert_eq!(
        r["data"]["me"],
        json!({ "acceptedTermsVersion": 1, "mustAcceptTerms": false }),
        "{r}"
    );
    // Who signed up before any terms existed must accept the ones now in effect.
    let r = app.gql_as(&early.access, TERMS_STATE, json!({})).await;
    assert_eq!(r["data"]["me"]["mustAcceptTerms"], true, "{r}");

    // Version 2 dated later changes nothing yet; on its day it must be accepted.
    let v2 = publish(&app, &admin, "TERMS", "Terms two.", 2).await;
    let r = app.gql_as(&alice.access, TERMS_STATE, json!({})).await;
    assert_eq!(r["data"]["me"]["mustAcceptTerms"], false, "{r}");
    let r = app
        .gql_as(
            &alice.access,
            "mutation { acceptTerms(version: 2) { id } }",
            json!({}),
        )
        .await;
    assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "version"), "{r}");
    // The version in effect on a day comes from the dates alone: version 2 on its day.
    let on = |days: i64| {
        autohub::content::service::in_effect(&app.state.db, DocumentKind::Terms, local_day(days))
    };
    assert_eq!(on(1).await.unwrap().map(|d| d.version), Some(1));
    assert_eq!(on(2).await.unwrap().map(|d| d.version), Some(2));
    // Moved to today, it is in effect now.
    let r = app
        .gql_as(
            &admin.access,
            UPDATE,
            json!({ "id": v2, "d": local_day(0) }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = app.gql_as(&alice.access, TERMS_STATE, json!({})).await;
    assert_eq!(
        r["data"]["me"],
        json!({ "acceptedTermsVersion": 1, "mustAcceptTerms": true }),
        "{r}"
    );
    // Staff see it on the user; other customers do not.
    let user = "query($id: ID!) { user(id: $id) { acceptedTermsVersion mustAcceptTerms } }";
    let r = app
        .gql_as(&staff.access, user, json!({ "id": alice.id }))
        .await;
    assert_eq!(
        r["data"]["user"],
        json!({ "acceptedTermsVersion": 1, "mustAcceptTerms": true }),
        "{r}"
    );
    let r = app
        .gql_as(&early.access, user, json!({ "id": alice.id }))
        .await;
    assert_eq!(
        r["data"]["user"],
        json!({ "acceptedTermsVersion": null, "mustAcceptTerms": false }),
        "{r}"
    );

    // Another version than the one in effect is refused; that one clears the flag.
    for wrong in [1, 3] {
        let r = app
            .gql_as(
                &alice.access,
                "mutation($v: Int!) { acceptTerms(version: $v) { id } }",
                json!({ "v": wrong }),
            )
            .await;
        assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", "version"), "{r}");
    }
    let r = app
        .gql_as(
            &alice.access,
            "mutation { acceptTerms(version: 2) { acceptedTermsVersion mustAcceptTerms } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r["data"]["acceptTerms"],
        json!({ "acceptedTermsVersion": 2, "mustAcceptTerms": false }),
        "{r}"
    );
    let r = app
        .gql("mutation { acceptTerms(version: 2) { id } }", json!({}))
        .await;
    assert_eq!(code(&r), "UNAUTHENTICATED", "{r}");
    // Who signs up now accepts version 2.
    let bob = app.customer("bob-terms@example.com").await;
    let r = app.gql_as(&bob.access, TERMS_STATE, json!({})).await;
    assert_eq!(r["data"]["me"]["acceptedTermsVersion"], 2, "{r}");
}

const SHOP: &str = "query { shopInfo { name tagline email website socialLinks openingHours { weekday opensAt closesAt } updatedAt } }";
const UPDATE_SHOP: &str = "mutation($i: ShopInfoInput!) { updateShopInfo(input: $i) { name email website socialLinks openingHours { weekday opensAt closesAt } } }";

#[tokio::test]
async fn shop_info_is_public_from_the_first_start_and_only_admins_change_it() {
    let app = TestApp::spawn().await;
    let r = app.gql(SHOP, json!({})).await;
    let info = &r["data"]["shopInfo"];
    assert!(info["name"].as_str().is_some_and(|n| !n.is_empty()), "{r}");
    assert_eq!(
        info["openingHours"][0],
        json!({ "weekday": 1, "opensAt": "08:00", "closesAt": "18:00" }),
        "{r}"
    );
    assert_eq!(info["socialLinks"], json!([]), "{r}");

    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let customer = app.customer("shop-customer@example.com").await;
    let good = json!({ "name": "Garage Nord", "email": "Hello@Garage.Example", "website": "https://garage.example",
        "socialLinks": ["https://social.example/garage"],
        "openingHours": [{ "weekday": 2, "opensAt": "09:00", "closesAt": "12:00" }, { "weekday": 1, "opensAt": "08:00", "closesAt": "17:00" }] });
    for who in [&staff, &customer] {
        let r = app
            .gql_as(&who.access, UPDATE_SHOP, json!({ "i": good }))
            .await;
        assert_eq!(code(&r), "FORBIDDEN", "{r}");
    }
    let r = app.gql(UPDATE_SHOP, json!({ "i": good })).await;
    assert_eq!(code(&r), "UNAUTHENTICATED", "{r}");

    // Opening hours are checked as a location's are.
    let bad_hours = [
        (
            json!([{ "weekday": 8, "opensAt": "08:00", "closesAt": "12:00" }]),
            "openingHours.0.weekday",
        ),
        (
            json!([{ "weekday": 1, "opensAt": "12:00", "closesAt": "08:00" }]),
            "openingHours.0.opensAt",
        ),
        (
            json!([{ "weekday": 1, "opensAt": "8am", "closesAt": "12:00" }]),
            "openingHours.0.opensAt",
        ),
        (
            json!([{ "weekday": 1, "opensAt": "08:00", "closesAt": "12:00" },
                { "weekday": 1, "opensAt": "11:00", "closesAt": "14:00" }]),
            "openingHours.1.opensAt",
        ),
    ];
    for (hours, name) in bad_hours {
        let mut input = good.clone();
        input["openingHours"] = hours;
        let r = app
            .gql_as(&admin.access, UPDATE_SHOP, json!({ "i": input }))
            .await;
        assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", name), "{r}");
    }
    for (key, value, name) in [
        ("website", json!("javascript:alert(1)"), "website"),
        ("email", json!("not-an-email"), "email"),
        ("socialLinks", json!(["ftp://x"]), "socialLinks.0"),
        ("name", json!(" "), "name"),
    ] {
        let mut input = good.clone();
        input[key] = value;
        let r = app
            .gql_as(&admin.access, UPDATE_SHOP, json!({ "i": input }))
            .await;
        assert_eq!((code(&r), field(&r)), ("BAD_USER_INPUT", name), "{r}");
    }
    // Nothing changed so far.
    let r = app.gql(SHOP, json!({})).await;
    assert_eq!(r["data"]["shopInfo"]["socialLinks"], json!([]), "{r}");

    let r = app
        .gql_as(&admin.access, UPDATE_SHOP, json!({ "i": good }))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let r = app.gql(SHOP, json!({})).await;
    let info = &r["data"]["shopInfo"];
    assert_eq!(info["name"], "Garage Nord");
    assert_eq!(info["email"], "hello@garage.example");
    assert_eq!(
        info["socialLinks"],
        json!(["https://social.example/garage"])
    );
    assert_eq!(
        info["openingHours"],
        json!([{ "weekday": 1, "opensAt": "08:00", "closesAt": "17:00" }, { "weekday": 2, "opensAt": "09:00", "closesAt": "12:00" }]),
        "{r}"
    );
}
