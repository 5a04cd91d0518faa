//! Roles and privacy: who may list and manage users, and who sees contact details.

use serde_json::json;

use crate::common::{code, field, TestApp, PASSWORD};

#[tokio::test]
async fn a_customer_may_not_list_users_but_staff_may_page_and_filter_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let customer = app.customer("cust@example.com").await;
    for i in 0..4 {
        app.register(&format!("pending{i}@example.com")).await;
    }

    let r = app
        .gql_as(&customer.access, "{ users { totalCount } }", json!({}))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let r = app.gql("{ users { totalCount } }", json!({})).await;
    assert_eq!(code(&r), "UNAUTHENTICATED", "{r}");

    let page = "query($f: UserFilter, $a: String) { users(filter: $f, first: 2, after: $a) { totalCount edges { cursor node { email } } pageInfo { hasNextPage endCursor } } }";
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let r = app
            .gql_as(
                &staff.access,
                page,
                json!({ "f": { "statuses": ["PENDING_VERIFICATION"] }, "a": after }),
            )
            .await;
        let users = &r["data"]["users"];
        assert_eq!(users["totalCount"], 4, "{r}");
        for edge in users["edges"].as_array().unwrap() {
            seen.push(edge["node"]["email"].as_str().unwrap().to_string());
        }
        if users["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = users["pageInfo"]["endCursor"].as_str().map(str::to_string);
    }
    assert_eq!(
        seen,
        [
            "pending3@example.com",
            "pending2@example.com",
            "pending1@example.com",
            "pending0@example.com"
        ]
    );

    let r = app
        .gql_as(
            &staff.access,
            "{ users(filter: { search: \"CUST@\" }) { totalCount edges { node { email } } } }",
            json!({}),
        )
        .await;
    assert_eq!(r["data"]["users"]["totalCount"], 1, "{r}");
    let r = app
        .gql_as(
            &staff.access,
            "{ users(filter: { roles: [ADMIN, STAFF] }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r["data"]["users"]["totalCount"], 2, "{r}");
    let r = app
        .gql_as(
            &staff.access,
            "{ users(first: 500) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    assert_eq!(field(&r), "first");
}

#[tokio::test]
async fn contact_details_are_private_to_the_user_and_staff() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.customer("alice@example.com").await;
    let bob = app.customer("bob@example.com").await;
    app.gql_as(&alice.access, "mutation { updateProfile(input: { phone: \"+15550100001\", address: \"1 Main St\", dateOfBirth: \"1990-05-01\" }) { id } }", json!({}))
        .await;
    let query = "query($id: ID!) { user(id: $id) { firstName role email phone address dateOfBirth referralCode } }";

    let r = app
        .gql_as(&bob.access, query, json!({ "id": alice.id }))
        .await;
    let seen = &r["data"]["user"];
    assert_eq!(seen["firstName"], "Test", "{r}");
    assert_eq!(seen["role"], "CUSTOMER");
    for private in ["email", "phone", "address", "dateOfBirth", "referralCode"] {
        assert!(seen[private].is_null(), "{private} leaked: {r}");
    }
    for viewer in [&alice, &admin] {
        let r = app
            .gql_as(&viewer.access, query, json!({ "id": alice.id }))
            .await;
        assert_eq!(r["data"]["user"]["email"], "alice@example.com", "{r}");
        assert_eq!(r["data"]["user"]["phone"], "+15550100001");
        assert_eq!(r["data"]["user"]["dateOfBirth"], "1990-05-01");
    }
}

#[tokio::test]
async fn only_an_admin_creates_staff_and_changes_roles_and_status() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let staff = app.staff(&admin).await;
    let customer = app.customer("c@example.com").await;
    let create = "mutation($i: CreateStaffInput!) { createStaff(input: $i) { id role status emailVerified } }";
    let input = json!({ "i": { "email": "new.staff@example.com", "password": PASSWORD, "firstName": "Nia", "lastName": "New", "role": "STAFF" } });
    for who in [&staff, &customer] {
        let r = app.gql_as(&who.access, create, input.clone()).await;
        assert_eq!(code(&r), "FORBIDDEN", "{r}");
    }
    let r = app.gql_as(&admin.access, create, input).await;
    assert_eq!(r["data"]["createStaff"]["status"], "ACTIVE", "{r}");
    assert_eq!(r["data"]["createStaff"]["role"], "STAFF");
    let r = app
        .gql_as(&admin.access, create, json!({ "i": { "email": "x@example.com", "password": PASSWORD, "firstName": "X", "lastName": "Y", "role": "CUSTOMER" } }))
        .await;
    assert_eq!(field(&r), "role", "{r}");

    let set_role = "mutation($u: ID!) { setUserRole(userId: $u, role: STAFF) { role } }";
    assert_eq!(
        code(
            &app.gql_as(&staff.access, set_role, json!({ "u": customer.id }))
                .await
        ),
        "FORBIDDEN"
    );
    let r = app
        .gql_as(&admin.access, set_role, json!({ "u": customer.id }))
        .await;
    assert_eq!(r["data"]["setUserRole"]["role"], "STAFF", "{r}");
    // The new role holds at once, on the same token.
    let r = app
        .gql_as(&customer.access, "{ users { totalCount } }", json!({}))
        .await;
    assert!(
        r["data"]["users"]["totalCount"].as_i64().unwrap() >= 3,
        "{r}"
    );

    let r = app
        .gql_as(
            &admin.access,
            "mutation($u: ID!) { setAccountStatus(userId: $u, status: SUSPENDED) { id } }",
            json!({ "u": admin.id }),
        )
        .await;
    assert_eq!(code(&r), "CONFLICT", "{r}");
    let tier = "mutation($u: ID!) { setMembershipTier(userId: $u, tier: PLUS) { membershipTier } }";
    let r = app
        .gql_as(&staff.access, tier, json!({ "u": customer.id }))
        .await;
    assert_eq!(
        r["data"]["setMembershipTier"]["membershipTier"], "PLUS",
        "{r}"
    );
    let r = app
        .gql_as(
            &admin.access,
            "mutation { setUserRole(userId: \"not-an-id\", role: STAFF) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
}

#[tokio::test]
async fn create_admin_on_the_command_line_makes_an_admin_who_can_sign_in() {
    let app = TestApp::spawn().await;
    let admin = [
        "create-admin",
        "--email",
        "Boss@Example.com",
        "--first-name",
        "Bo",
        "--last-name",
        "Boss",
    ];
    let output = app
        .cli(&admin, &[("AUTOHUB_ADMIN_PASSWORD", PASSWORD)])
        .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let r = app.login("boss@example.com", PASSWORD).await;
    assert_eq!(r["data"]["login"]["user"]["role"], "ADMIN", "{r}");

    // A weak password is one clear line and a non-zero exit, never a panic.
    let weak = [
        "create-admin",
        "--email",
        "b2@example.com",
        "--first-name",
        "B",
        "--last-name",
        "T",
        "--password",
        "123",
    ];
    let output = app.cli(&weak, &[]).await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("autohub: password:"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}
