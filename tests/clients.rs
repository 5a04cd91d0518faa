//! GraphQL as every client speaks it: the introspection query tools send, GET requests and the
//! GraphQL-over-HTTP media types, input values that do not coerce, what a query may cost, and
//! the same error model over WebSocket.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::ws::{NEW, OLD};
use crate::common::{code, field, free_port, message, TestApp};

/// graphql-js's `getIntrospectionQuery` with every option on (descriptions, specifiedByUrl,
/// directiveIsRepeatable, schemaDescription, inputValueDeprecation), as GraphiQL sends it.
const INTROSPECTION: &str = include_str!("introspection_query.graphql");

/// `Type.field(arg: T, …): R` and `Input.field: T` lines, from the committed SDL.
fn signatures_from_sdl(sdl: &str) -> BTreeSet<String> {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let document = async_graphql::parser::parse_schema(sdl).unwrap();
    let mut lines = BTreeSet::new();
    for definition in document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let name = ty.node.name.node.to_string();
        lines.insert(format!("type {name}"));
        let fields = match ty.node.kind {
            TypeKind::Object(o) => o.fields,
            TypeKind::Interface(i) => i.fields,
            TypeKind::InputObject(i) => {
                for f in i.fields {
                    lines.insert(format!("{name}.{}: {}", f.node.name.node, f.node.ty.node));
                }
                continue;
            }
            TypeKind::Enum(e) => {
                for v in e.values {
                    lines.insert(format!("{name}::{}", v.node.value.node));
                }
                continue;
            }
            _ => continue,
        };
        for f in fields {
            let args: Vec<String> = f
                .node
                .arguments
                .iter()
                .map(|a| format!("{}: {}", a.node.name.node, a.node.ty.node))
                .collect();
            lines.insert(format!(
                "{name}.{}({}): {}",
                f.node.name.node,
                args.join(", "),
                f.node.ty.node
            ));
        }
    }
    lines
}

/// The same lines from an introspection result (introspection's own types left out).
fn signatures_from_introspection(schema: &Value) -> BTreeSet<String> {
    fn type_ref(t: &Value) -> String {
        match t["kind"].as_str().unwrap() {
            "NON_NULL" => format!("{}!", type_ref(&t["ofType"])),
            "LIST" => format!("[{}]", type_ref(&t["ofType"])),
            _ => t["name"].as_str().unwrap().to_string(),
        }
    }
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let mut lines = BTreeSet::new();
    for ty in schema["types"].as_array().unwrap() {
        let name = ty["name"].as_str().unwrap();
        if name.starts_with("__") || builtin.contains(&name) {
            continue;
        }
        lines.insert(format!("type {name}"));
        for f in ty["fields"].as_array().into_iter().flatten() {
            let args: Vec<String> = f["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| format!("{}: {}", a["name"].as_str().unwrap(), type_ref(&a["type"])))
                .collect();
            lines.insert(format!(
                "{name}.{}({}): {}",
                f["name"].as_str().unwrap(),
                args.join(", "),
                type_ref(&f["type"])
            ));
        }
        for f in ty["inputFields"].as_array().into_iter().flatten() {
            lines.insert(format!(
                "{name}.{}: {}",
                f["name"].as_str().unwrap(),
                type_ref(&f["type"])
            ));
        }
        for v in ty["enumValues"].as_array().into_iter().flatten() {
            lines.insert(format!("{name}::{}", v["name"].as_str().unwrap()));
        }
    }
    lines
}

#[tokio::test]
async fn graphiqls_introspection_query_returns_the_committed_schema() {
    let app = TestApp::spawn().await;
    let r = app.gql(INTROSPECTION, json!({})).await;
    assert!(r.get("errors").is_none(), "{r}");
    let schema = &r["data"]["__schema"];
    assert_eq!(schema["queryType"]["name"], "Query");
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert_eq!(
        signatures_from_introspection(schema),
        signatures_from_sdl(&committed)
    );
    // Deeper ofType chains than graphql-js's default pass too.
    let deeper = INTROSPECTION.replace(
        "ofType {\n                      name\n                      kind",
        "ofType {\n                      name\n                      kind\n                      ofType { name kind ofType { name kind ofType { name kind } } }",
    );
    assert_ne!(deeper, INTROSPECTION, "the deeper variant differs");
    let r = app.gql(&deeper, json!({})).await;
    assert!(r.get("errors").is_none(), "{r}");
}

#[tokio::test]
async fn introspection_nested_past_the_limits_is_refused() {
    let app = TestApp::spawn().await;
    for query in [
        // Lists inside themselves: the schema many times over.
        "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
        // Four lists deep.
        "{ __schema { types { interfaces { fields { args { name } } } } } }",
    ] {
        let r = app.gql(query, json!({})).await;
        assert_eq!(code(&r), "BAD_USER_INPUT", "{query}: {r}");
        assert_eq!(field(&r), "query");
    }
    // Depth still bounds an ordinary selection.
    let deep = format!(
        "{{ __schema {{ queryType {{ {} name {} }} }} }}",
        "ofType { ".repeat(40),
        "}".repeat(40)
    );
    let r = app.gql(&deep, json!({})).await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
}

async fn get(app: &TestApp, query: &[(&str, &str)], accept: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(format!("{}/graphql", app.base)).query(query);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    request.send().await.unwrap()
}

fn content_type(r: &reqwest::Response) -> String {
    r.headers()["content-type"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn queries_run_by_get_and_mutations_are_refused_there() {
    let app = TestApp::spawn().await;
    let r = get(&app, &[("query", "{ __typename }")], None).await;
    assert_eq!(r.status(), 200);
    assert!(content_type(&r).starts_with("application/json"));
    assert_eq!(
        r.json::<Value>().await.unwrap()["data"]["__typename"],
        "Query"
    );

    let r = get(
        &app,
        &[
            (
                "query",
                "query Units($n: Int) { units(first: $n) { totalCount } }",
            ),
            ("variables", r#"{"n": 2}"#),
            ("operationName", "Units"),
        ],
        Some("application/json"),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["data"]["units"]["totalCount"],
        0
    );

    let r = get(&app, &[("query", "mutation { logout }")], None).await;
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");

    let r = get(
        &app,
        &[("query", "{ __typename }"), ("variables", "[1]")],
        None,
    )
    .await;
    assert_eq!(r.status(), 400);

    // A browser without a query gets GraphiQL.
    let r = get(&app, &[], Some("text/html,application/xhtml+xml,*/*;q=0.8")).await;
    assert_eq!(r.status(), 200);
    assert!(content_type(&r).starts_with("text/html"));
    assert!(r.text().await.unwrap().contains("graphiql"));
}

#[tokio::test]
async fn responses_follow_the_accept_header() {
    let app = TestApp::spawn().await;
    let post = |accept: Option<&'static str>, query: &'static str| {
        let app = &app;
        async move {
            let mut request = app
                .client
                .post(format!("{}/graphql", app.base))
                .header("content-type", "application/json")
                .body(json!({ "query": query }).to_string());
            if let Some(accept) = accept {
                request = request.header("accept", accept);
            }
            request.send().await.unwrap()
        }
    };
    let graphql_response = "application/graphql-response+json";
    for (accept, expected) in [
        (Some(graphql_response), graphql_response),
        // Apollo Client's header.
        (
            Some("application/graphql-response+json,application/json;q=0.9"),
            graphql_response,
        ),
        (Some("application/json"), "application/json"),
        (Some("*/*"), "application/json"),
        (None, "application/json"),
    ] {
        let r = post(accept, "{ __typename }").await;
        assert_eq!(r.status(), 200, "{accept:?}");
        assert!(
            content_type(&r).starts_with(expected),
            "{accept:?}: {}",
            content_type(&r)
        );
        // A document that does not parse, or does not validate: 400 without data with the
        // new media type, 200 with errors with application/json.
        for bad in ["{", "{ nope }"] {
            let r = post(accept, bad).await;
            let status = r.status();
            let body: Value = r.json().await.unwrap();
            assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
            if expected == graphql_response {
                assert_eq!(status, 400, "{accept:?} {bad}");
                assert!(body.get("data").is_none(), "{body}");
            } else {
                assert_eq!(status, 200, "{accept:?} {bad}");
            }
        }
    }
    // A field error is still a 200 with data.
    let r = post(Some(graphql_response), "{ me { id } }").await;
    assert_eq!(r.status(), 200);

    // POST without a content type, or with one we do not read.
    for content in [None, Some("text/plain")] {
        let mut request = app
            .client
            .post(format!("{}/graphql", app.base))
            .body(json!({ "query": "{ __typename }" }).to_string());
        if let Some(content) = content {
            request = request.header("content-type", content);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), 415, "{content:?}");
    }
}

#[tokio::test]
async fn values_that_do_not_coerce_are_the_clients_mistake() {
    let app = TestApp::spawn().await;
    let customer = app.customer("coerce@example.com").await;
    let units_before = app
        .gql_as(&customer.access, "{ units { totalCount } }", json!({}))
        .await;
    let cases: Vec<(&str, Value, &str)> = vec![
        // In an argument.
        ("{ units(first: 99999999999) { totalCount } }", json!({}), "first"),
        (r#"{ unit(id: true) { id } }"#, json!({}), "id"),
        (r#"{ units(orderBy: { field: SHOE_SIZE, direction: ASC }) { totalCount } }"#, json!({}), "orderBy.field"),
        // Inside an input object.
        (r#"{ units(filter: { priceMin: "abc" }) { totalCount } }"#, json!({}), "filter.priceMin"),
        ("{ units(filter: { yearMin: 3000000000 }) { totalCount } }", json!({}), "filter.yearMin"),
        (r#"{ serviceRecords(filter: { from: "2024-13-45" }) { totalCount } }"#, json!({}), "filter.from"),
        (r#"mutation { register(input: { email: "a@example.com", password: "Blue-Tractor-42", acceptTerms: true }) { id } }"#, json!({}), "input.firstName"),
        // As a variable.
        ("query($f: UnitFilter) { units(filter: $f) { totalCount } }", json!({ "f": { "priceMin": "12,5.0" } }), "f.priceMin"),
        ("query($f: UnitFilter) { units(filter: $f) { totalCount } }", json!({ "f": { "yearMin": 2147483648i64 } }), "f.yearMin"),
        ("query($d: NaiveDate) { serviceRecords(filter: { from: $d }) { totalCount } }", json!({ "d": "yesterday" }), "d"),
        ("query($id: ID!) { unit(id: $id) { id } }", json!({ "id": null }), "id"),
        ("query($id: ID!) { unit(id: $id) { id } }", json!({}), "id"),
        ("query($id: ID!) { unit(id: $id) { id } }", json!({ "id": [1, 2] }), "id"),
        ("query($o: UnitOrder) { units(orderBy: $o) { totalCount } }", json!({ "o": { "field": "NOPE", "direction": "ASC" } }), "o.field"),
        ("query($r: ID!, $s: DateTime) { chatRoom(id: $r) { messages(since: $s) { totalCount } } }", json!({ "r": "0190c0de-0000-7000-8000-000000000000", "s": "last tuesday" }), "s"),
        ("mutation($f: Upload!) { uploadAvatar(file: $f) { id } }", json!({ "f": "#__graphql_file__:x" }), "f"),
        ("mutation($f: Upload!) { uploadAvatar(file: $f) { id } }", json!({ "f": 42 }), "f"),
    ];
    for (query, variables, path) in cases {
        let r = app.gql_as(&customer.access, query, variables.clone()).await;
        assert_eq!(code(&r), "BAD_USER_INPUT", "{query} {variables}: {r}");
        assert_eq!(field(&r), path, "{query} {variables}: {r}");
        assert!(!message(&r).contains("on our side"), "{r}");
        assert!(r.get("data").is_none_or(Value::is_null), "{r}");
    }
    let units_after = app
        .gql_as(&customer.access, "{ units { totalCount } }", json!({}))
        .await;
    assert_eq!(units_before, units_after);
}

#[tokio::test]
async fn cost_counts_page_sizes_and_is_refused_before_any_sql() {
    let app = TestApp::spawn().await;
    let nested = "{ units(first: 100) { edges { node { serviceRecords(first: 100) { edges { node { unit { serviceRecords(first: 100) { edges { node { id } } } } } } } } } } }";
    let aliases: String = (0..1000).map(|i| format!("a{i}: me {{ id }} ")).collect();
    let aliases = format!("{{ {aliases} }}");
    for (query, words) in [(nested, "complex"), (aliases.as_str(), "aliases")] {
        let before = app.state.metrics.statements();
        let r = app.gql(query, json!({})).await;
        assert_eq!(app.state.metrics.statements(), before, "no SQL ran");
        assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
        assert_eq!(field(&r), "query");
        assert!(message(&r).contains(words), "{r}");
    }
    let r = app.gql(nested, json!({})).await;
    assert!(message(&r).contains("limit of 20000"), "{r}");
    // The same shape with the page sizes a screen uses passes.
    let r = app
        .gql(
            "{ units(first: 20) { edges { node { id make model photos { url } serviceRecords(first: 10) { edges { node { id description } } } } } } }",
            json!({}),
        )
        .await;
    assert!(r.get("errors").is_none(), "{r}");
}

#[tokio::test]
async fn subscriptions_share_the_error_model_in_both_protocols() {
    let app = TestApp::spawn().await;
    let customer = app.customer("ws-errors@example.com").await;
    for protocol in [NEW, OLD] {
        let mut socket = app.live(protocol, &customer.access).await;
        // An unknown field: the protocol's error, with a code, and no complete after it.
        socket
            .subscribe(
                "a",
                "subscription { notificationAdded { shoeSize } }",
                json!({}),
            )
            .await;
        let error = socket.next().await;
        assert_eq!(error["type"], "error", "{protocol}: {error}");
        assert_eq!(error["id"], "a");
        let first = if protocol == NEW {
            &error["payload"][0]
        } else {
            &error["payload"]
        };
        assert_eq!(first["extensions"]["code"], "BAD_USER_INPUT", "{error}");
        // A variable of the wrong type.
        socket
            .subscribe(
                "b",
                "subscription($r: ID!) { chatRoomEvents(roomId: $r) { __typename } }",
                json!({ "r": { "no": 1 } }),
            )
            .await;
        let error = socket.next().await;
        assert_eq!(error["type"], "error", "{protocol}: {error}");
        assert_eq!(error["id"], "b", "no complete for a came first: {error}");
        let first = if protocol == NEW {
            &error["payload"][0]
        } else {
            &error["payload"]
        };
        assert_eq!(first["extensions"]["code"], "BAD_USER_INPUT", "{error}");
        assert_eq!(first["extensions"]["field"], "r", "{error}");
        // A room the viewer cannot read: NOT_FOUND.
        socket
            .subscribe(
                "c",
                "subscription($r: ID!) { chatRoomEvents(roomId: $r) { __typename } }",
                json!({ "r": "0190c0de-0000-7000-8000-000000000000" }),
            )
            .await;
        let payload = socket.data("c").await;
        assert_eq!(
            payload["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{payload}"
        );
        socket.close().await;
    }
}

/// Starts the binary on `database_url` with its own port, its log (JSON lines) written to
/// `log`; returns the child and its base URL.
fn start_instance(
    dir: &std::path::Path,
    database_url: &str,
    log: &std::path::Path,
) -> (tokio::process::Child, String) {
    let port = free_port();
    let log = std::fs::File::create(log).unwrap();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_autohub"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", port.to_string())
        .env("DATABASE_URL", database_url)
        .env("MAIL_DIR", dir.join("mail"))
        .env("MEDIA_DIR", dir.join("media"))
        .env("LOG_FORMAT", "json")
        .current_dir(dir)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    (child, format!("http://127.0.0.1:{port}"))
}

/// Waits for `/ready`; panics when the instance exits or takes a minute.
async fn wait_ready(child: &mut tokio::process::Child, base: &str) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{base}/ready")).send().await {
            if r.status() == 200 {
                return;
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("an instance exited: {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{base} did not come up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A client's bad values are logged below ERROR: the log of the real binary is read.
#[tokio::test]
async fn values_that_do_not_coerce_log_no_error() {
    let dir = std::env::temp_dir().join(format!("autohub-coerce-log-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let database_url = crate::common::fresh_database(&dir).await;
    let log = dir.join("server.log");
    let (mut child, base) = start_instance(&dir, &database_url, &log);
    wait_ready(&mut child, &base).await;
    let client = reqwest::Client::new();
    for (query, variables) in [
        (
            r#"{ units(filter: { priceMin: "abc" }) { totalCount } }"#,
            json!({}),
        ),
        (
            "{ units(filter: { yearMin: 3000000000 }) { totalCount } }",
            json!({}),
        ),
        (
            r#"{ serviceRecords(filter: { from: "2024-13-45" }) { totalCount } }"#,
            json!({}),
        ),
        (
            "query($d: NaiveDate) { serviceRecords(filter: { from: $d }) { totalCount } }",
            json!({ "d": "2024-02-30" }),
        ),
        (
            "query($p: Decimal) { units(filter: { priceMax: $p }) { totalCount } }",
            json!({ "p": "ten" }),
        ),
        ("{ unit(id: true) { id } }", json!({})),
    ] {
        let r: Value = client
            .post(format!("{base}/graphql"))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(code(&r), "BAD_USER_INPUT", "{query}: {r}");
    }
    let _ = child.kill().await;
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("\"INFO\""), "the log was captured: {text}");
    let errors: Vec<&str> = text.lines().filter(|l| l.contains("\"ERROR\"")).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn instances_started_together_on_an_empty_database_all_come_up() {
    let dir = std::env::temp_dir().join(format!("autohub-together-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let database_url = crate::common::fresh_database(&dir).await;
    let instances: Vec<_> = (0..3)
        .map(|i| start_instance(&dir, &database_url, &dir.join(format!("server-{i}.log"))))
        .collect();
    for (mut child, base) in instances {
        wait_ready(&mut child, &base).await;
        let _ = child.kill().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}
