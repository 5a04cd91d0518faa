//! The server as a newcomer starts it: no settings at all, SQLite under ./data, GraphiQL, probes,
//! metrics, and a clean stop on SIGTERM.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{free_port, TestApp};

#[tokio::test]
async fn the_binary_starts_with_no_settings_and_serves_graphiql_probes_and_metrics() {
    let dir = std::env::temp_dir().join(format!("autohub-fresh-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    // A fresh checkout: an empty directory and an environment with nothing of ours in it
    // (the port alone is chosen, so that tests can run side by side).
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_autohub"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", port.to_string())
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{base}/health")).send().await {
            if r.status() == 200 {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not come up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(dir.join("data").join("autohub.db").exists());

    let page = client.get(format!("{base}/graphql")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("graphiql") && html.contains("/graphql/ws"),
        "{html}"
    );
    assert_eq!(
        client
            .get(format!("{base}/ready"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let ok_queries = |text: &str| -> u64 {
        text.lines()
            .find(|l| {
                l.starts_with("autohub_graphql_operations_total{type=\"query\",outcome=\"ok\"}")
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap()
    };
    let before = ok_queries(
        &client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let r: serde_json::Value = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r["data"]["me"].is_null(), "{r}");
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(ok_queries(&metrics), before + 1, "{metrics}");
    assert!(metrics.contains("autohub_db_statements_total"));

    // SIGTERM: the server finishes and exits cleanly.
    let pid = child.id().unwrap().to_string();
    let killed = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_bad_setting_stops_the_start_with_one_line_naming_it() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_autohub"))
        .env_clear()
        .env("PORT", "not-a-port")
        .current_dir(std::env::temp_dir())
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("autohub: PORT:"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_autohub"))
        .env_clear()
        .env("APP_ENV", "production")
        .current_dir(std::env::temp_dir())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("JWT_SECRET"), "{stderr}");
}

#[tokio::test]
async fn health_ready_and_a_request_id_answer_on_a_test_server() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("x-request-id").is_some());
    let r = app
        .client
        .get(format!("{}/ready", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn graphiql_and_introspection_can_be_switched_off() {
    let app = TestApp::spawn_with(&[
        ("GRAPHIQL_ENABLED", "false"),
        ("INTROSPECTION_ENABLED", "false"),
    ])
    .await;
    let r = app
        .client
        .get(format!("{}/graphql", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = app
        .gql("{ __schema { queryType { name } } }", json!({}))
        .await;
    assert!(r["data"]["__schema"].is_null(), "{r}");
}

#[tokio::test]
async fn migrations_are_listed_rolled_back_and_applied_from_the_command_line() {
    let app = TestApp::spawn().await;
    let migrate = |action: &'static str| {
        let app = &app;
        async move {
            let output = app.cli(&["migrate", action], &[]).await;
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            String::from_utf8_lossy(&output.stdout).to_string()
        }
    };
    let status = migrate("status").await;
    assert!(
        status.contains("applied  m20261123_000001_accounts"),
        "{status}"
    );
    // `down` rolls back the newest migration only.
    migrate("down").await;
    let status = migrate("status").await;
    assert!(
        status.contains("applied  m20261203_000011_payments_and_devices")
            && status.contains("pending  m20261204_000012_units_listed_count"),
        "{status}"
    );
    migrate("up").await;
    let status = migrate("status").await;
    assert!(!status.contains("pending"), "{status}");
}

/// Pooled connections are not tested as they are taken (a round trip per statement saved), so
/// after PostgreSQL ends them (as a restart does) each answers one request with a retryable
/// error before it is replaced; never an error without `retryable`, and service comes back.
/// SQLite's connections cannot be ended from outside: there the test only checks the page.
#[tokio::test]
async fn after_the_database_ends_every_connection_requests_fail_retryably_then_succeed() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    let page = "{ units(first: 1) { totalCount } }";
    // Warm the pool: several connections in use at once.
    let warm = futures_util::future::join_all((0..8).map(|_| app.gql(page, json!({})))).await;
    for r in &warm {
        assert_eq!(r["data"]["units"]["totalCount"], 0, "{r}");
    }
    if !app.database_url.starts_with("postgres") {
        return;
    }
    let admin = sea_orm::Database::connect(app.database_url.as_str())
        .await
        .unwrap();
    admin
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await
        .unwrap();
    admin.close().await.ok();
    let mut failed = 0;
    let mut answered = 0;
    for _ in 0..20 {
        let r = app.gql(page, json!({})).await;
        if r["data"]["units"]["totalCount"] == 0 {
            answered += 1;
            if answered == 5 {
                break;
            }
            continue;
        }
        assert_eq!(answered, 0, "a failure after service came back: {r}");
        assert_eq!(r["errors"][0]["extensions"]["retryable"], true, "{r}");
        failed += 1;
    }
    assert_eq!(answered, 5, "service did not come back ({failed} failures)");
    // At most one failure per connection of the pool (DATABASE_MAX_CONNECTIONS=5 in tests).
    assert!(failed <= 5, "{failed} failures");
}
