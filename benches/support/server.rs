//! The release binary started for a load generator: a fresh database (a SQLite file, or a new
//! database on the PostgreSQL server of `--pg`), an administrator made by the command line, the
//! server on a free loopback port, and a GraphQL client.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const PASSWORD: &str = "Blue-Tractor-42";
pub const ADMIN_EMAIL: &str = "bench.admin@example.com";

/// The value after `name` on the command line.
pub fn arg(name: &str) -> Option<String> {
    std::env::args().skip_while(|a| a != name).nth(1)
}

pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    pub dir: PathBuf,
    /// The database it serves (a bench may fill it directly).
    #[allow(dead_code, reason = "not every bench fills its database directly")]
    pub database_url: String,
    #[allow(
        dead_code,
        reason = "kept to kill the server on drop; its pid for the memory readings"
    )]
    child: tokio::process::Child,
}

impl Server {
    /// Starts the binary with `env` on top of the defaults; waits until it answers `/health`.
    pub async fn start(binary: &str, env: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!("autohub-bench-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let database_url = match arg("--pg") {
            Some(admin) => fresh_pg(&admin).await,
            None => format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
        };
        let made = std::process::Command::new(binary)
            .args([
                "create-admin",
                "--email",
                ADMIN_EMAIL,
                "--first-name",
                "B",
                "--last-name",
                "A",
            ])
            .env("DATABASE_URL", &database_url)
            .env("AUTOHUB_ADMIN_PASSWORD", PASSWORD)
            .env("RUST_LOG", "error")
            .current_dir(&dir)
            .status()
            .expect("create-admin runs");
        assert!(made.success(), "create-admin failed");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut command = tokio::process::Command::new(binary);
        command
            .env("DATABASE_URL", &database_url)
            .env("PORT", port.to_string())
            .env("RUST_LOG", "error")
            .env("LOGIN_MAX_FAILURES", "100000")
            .current_dir(&dir)
            .kill_on_drop(true);
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().expect("the release binary starts");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .expect("client");
        let started = Instant::now();
        while client.get(format!("{base}/health")).send().await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "server did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            base,
            client,
            dir,
            database_url,
            child,
        }
    }

    /// The server's resident memory now, in KiB (Linux `/proc`); `None` elsewhere.
    #[allow(dead_code, reason = "not every bench reads the server's memory")]
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()?)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// One GraphQL request as `token` (empty: anonymous).
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        request
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    }

    /// Signs in with the bench password; the access token.
    pub async fn login(&self, email: &str) -> String {
        let r = self
            .gql(
                "",
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
                json!({ "e": email, "p": PASSWORD }),
            )
            .await;
        r["data"]["login"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login: {r}"))
            .to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A new database on the server of `admin_url`; its URL.
pub async fn fresh_pg(admin_url: &str) -> String {
    use sea_orm::ConnectionTrait;
    let name = format!("autohub_bench_{}", uuid::Uuid::now_v7().simple());
    let admin = sea_orm::Database::connect(admin_url)
        .await
        .expect("connect to --pg");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create the bench database");
    let mut url = url::Url::parse(admin_url).expect("--pg is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}
