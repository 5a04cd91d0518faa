//! A resolver cannot obtain a row its viewer may not see: the loaders apply the rules. Another
//! customer's unit is reached through every path a query offers and is absent or null on each,
//! while its owner (and staff) reach it through the same paths.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{json, Value};
use uuid::Uuid;

use autohub::chat::entity::room;

use crate::common::{Actor, TestApp};

const SUPPORT: &str = "mutation($i: OpenSupportRoomInput!) { openSupportRoom(input: $i) { id } }";
const SUBJECT: &str = "query($r: ID!) { chatRoom(id: $r) { id subject { __typename
  ... on Unit { id } ... on ServiceRecord { id unit { id } } ... on Sale { id unit { id } } } } }";

fn id_at(r: &Value, path: &[&str]) -> String {
    let mut v = &r["data"];
    for key in path {
        v = &v[key];
    }
    v.as_str()
        .unwrap_or_else(|| panic!("{path:?}: {r}"))
        .to_string()
}

/// Points a room's subject somewhere else in the database (as an ownership change would).
async fn point_subject(app: &TestApp, room_id: &str, kind: &str, id: &str) {
    let room_id = Uuid::parse_str(room_id).unwrap();
    let model = room::Entity::find_by_id(room_id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let mut active: room::ActiveModel = model.into();
    active.subject_type = Set(Some(kind.to_string()));
    active.subject_id = Set(Some(Uuid::parse_str(id).unwrap()));
    active.update(&app.state.db).await.unwrap();
}

async fn ids_in(app: &TestApp, who: &Actor, query: &str, field: &str) -> Vec<String> {
    let r = app.gql_as(&who.access, query, json!({})).await;
    assert!(r["errors"].is_null(), "{r}");
    r["data"][field]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn another_customers_unit_is_unreachable_through_every_path() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let ann = app.customer("ann.vis@example.com").await;
    let bob = app.customer("bob.vis@example.com").await;
    let dan = app.customer("dan.vis@example.com").await;
    let anns = app.create_unit(&ann.access, json!({})).await;
    let bobs = app.create_unit(&bob.access, json!({})).await;
    let r = app
        .gql_as(
            &staff.access,
            "mutation($i: CreateServiceRecordInput!) { createServiceRecord(input: $i) { id } }",
            json!({ "i": { "unitId": bobs, "description": "Brakes" } }),
        )
        .await;
    let record = id_at(&r, &["createServiceRecord", "id"]);
    let r = app
        .gql_as(
            &staff.access,
            "mutation($i: RecordSaleInput!) { recordSale(input: $i) { id } }",
            json!({ "i": { "unitId": bobs, "price": "9000", "soldOn": "2026-05-01",
                "buyerName": "Dan", "buyerId": dan.id, "paymentMethod": "CASH" } }),
        )
        .await;
    let sale = id_at(&r, &["recordSale", "id"]);
    // Ann's support room about her own unit, then about Bob's unit, record and sale.
    let r = app
        .gql_as(
            &ann.access,
            SUPPORT,
            json!({ "i": { "title": "Mine", "subjectType": "UNIT", "subjectId": anns } }),
        )
        .await;
    let room = id_at(&r, &["openSupportRoom", "id"]);

    // unit(id)
    let unit_q = "query($id: ID!) { unit(id: $id) { id } }";
    let r = app.gql_as(&ann.access, unit_q, json!({ "id": bobs })).await;
    assert!(r["data"]["unit"].is_null() && r["errors"].is_null(), "{r}");
    let r = app.gql_as(&bob.access, unit_q, json!({ "id": bobs })).await;
    assert_eq!(r["data"]["unit"]["id"], bobs.as_str(), "{r}");
    // units
    let units_q = "{ units(first: 100) { edges { node { id } } } }";
    assert!(!ids_in(&app, &ann, units_q, "units").await.contains(&bobs));
    assert!(ids_in(&app, &bob, units_q, "units").await.contains(&bobs));
    // ServiceRecord.unit (and the records' page)
    let record_q = "query($id: ID!) { serviceRecord(id: $id) { id unit { id } } }";
    let r = app
        .gql_as(&ann.access, record_q, json!({ "id": record }))
        .await;
    assert!(r["data"]["serviceRecord"].is_null(), "{r}");
    let records_q = "{ serviceRecords(first: 100) { edges { node { id } } } }";
    assert!(!ids_in(&app, &ann, records_q, "serviceRecords")
        .await
        .contains(&record));
    let r = app
        .gql_as(&bob.access, record_q, json!({ "id": record }))
        .await;
    assert_eq!(
        r["data"]["serviceRecord"]["unit"]["id"],
        bobs.as_str(),
        "{r}"
    );
    // Sale.unit (and the sales' page): the buyer sees the unit they bought, Ann nothing.
    let sale_q = "query($id: ID!) { sale(id: $id) { id unit { id } } }";
    let r = app.gql_as(&ann.access, sale_q, json!({ "id": sale })).await;
    assert!(r["data"]["sale"].is_null(), "{r}");
    let sales_q = "{ sales(first: 100) { edges { node { id } } } }";
    assert!(!ids_in(&app, &ann, sales_q, "sales").await.contains(&sale));
    for who in [&bob, &dan] {
        let r = app.gql_as(&who.access, sale_q, json!({ "id": sale })).await;
        assert_eq!(r["data"]["sale"]["unit"]["id"], bobs.as_str(), "{r}");
    }
    // ChatRoom.subject: Ann's own unit shows; Bob's unit, record and sale are null to her and
    // shown to staff.
    let r = app.gql_as(&ann.access, SUBJECT, json!({ "r": room })).await;
    assert_eq!(r["data"]["chatRoom"]["subject"]["id"], anns.as_str(), "{r}");
    for (kind, id) in [("Unit", &bobs), ("ServiceRecord", &record), ("Sale", &sale)] {
        point_subject(&app, &room, kind, id).await;
        let r = app.gql_as(&ann.access, SUBJECT, json!({ "r": room })).await;
        assert!(r["errors"].is_null(), "{r}");
        assert_eq!(r["data"]["chatRoom"]["id"], room.as_str(), "{r}");
        assert!(r["data"]["chatRoom"]["subject"].is_null(), "{kind}: {r}");
        let r = app
            .gql_as(&staff.access, SUBJECT, json!({ "r": room }))
            .await;
        assert_eq!(r["data"]["chatRoom"]["subject"]["__typename"], kind, "{r}");
        assert_eq!(r["data"]["chatRoom"]["subject"]["id"], id.as_str(), "{r}");
    }
}
