//! Accounts figures, measured against the release binary over real HTTP on loopback:
//!
//! - cold start: from spawning `autohub` on an empty directory (SQLite file created, migrations
//!   run) to the first `200` from `/health`;
//! - idle memory: the server's resident set after start and one request;
//! - one Argon2id hash (the library's `PasswordHashing`, 19 MiB, t = 2, p = 1);
//! - `me` latency (p50/p99) while 100 logins hash at once, against `me` alone.
//!
//! Run: `cargo bench --bench accounts` (add `-- --storm 200` to change the storm size).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

const PASSWORD: &str = "Blue-Tractor-42";

#[tokio::main]
async fn main() {
    let storm: usize = std::env::args()
        .skip_while(|a| a != "--storm")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);

    let hashing = autohub::auth::password::PasswordHashing::new(1);
    let mut hash_times = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let _ = hashing.hash(PASSWORD).await;
        hash_times.push(started.elapsed());
    }
    hash_times.sort();
    println!("argon2id hash (median of 10): {:.1} ms", ms(hash_times[5]));

    let dir = std::env::temp_dir().join(format!("autohub-bench-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let started = Instant::now();
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_autohub"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", port.to_string())
        .env("RUST_LOG", "error")
        // The storm signs in one account 100 times at once from one address: every attempt
        // in flight holds a place in the login throttle, so lift it to measure hashing alone.
        .env("LOGIN_MAX_FAILURES", "100000")
        .current_dir(&dir)
        .kill_on_drop(true)
        .spawn()
        .expect("the release binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");
    loop {
        if let Ok(r) = client.get(format!("{base}/health")).send().await {
            if r.status() == 200 {
                break;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no start");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    println!(
        "cold start to first /health (empty SQLite, migrations): {:.0} ms",
        ms(started.elapsed())
    );

    let gql = |query: &str, variables: Value, token: Option<String>| {
        let mut request = client
            .post(format!("{base}/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.expect("sent");
            response.json::<Value>().await.expect("json")
        }
    };
    gql("{ me { id } }", json!({}), None).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = server.id().expect("pid");
    println!(
        "idle resident memory: {:.1} MiB",
        rss_kib(pid) as f64 / 1024.0
    );

    // One verified customer to sign in as.
    let email = "bench@example.com";
    gql(
        "mutation($i: RegisterInput!) { register(input: $i) { id } }",
        json!({ "i": { "email": email, "password": PASSWORD, "firstName": "Ben", "lastName": "Chmark", "acceptTerms": true } }),
        None,
    )
    .await;
    let code = mailed_code(&dir.join("data").join("mail"));
    let r = gql(
        "mutation($c: String!) { verifyEmail(email: \"bench@example.com\", code: $c) { accessToken } }",
        json!({ "c": code }),
        None,
    )
    .await;
    let token = r["data"]["verifyEmail"]["accessToken"]
        .as_str()
        .expect("signed in")
        .to_string();

    let me_latencies = |n: usize| {
        let token = token.clone();
        let gql = &gql;
        async move {
            let mut times = Vec::with_capacity(n);
            for _ in 0..n {
                let started = Instant::now();
                let r = gql("{ me { id email } }", json!({}), Some(token.clone())).await;
                assert!(r["data"]["me"]["id"].is_string(), "{r}");
                times.push(started.elapsed());
            }
            times
        }
    };
    let quiet = me_latencies(300).await;

    // The storm: every login is right (a wrong one would hit the throttle), so each one hashes.
    let storm_started = Instant::now();
    let logins = futures_util::future::join_all((0..storm).map(|_| {
        gql(
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
            json!({ "e": email, "p": PASSWORD }),
            None,
        )
    }));
    let (logins, during) = tokio::join!(logins, async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        me_latencies(200).await
    });
    let storm_took = storm_started.elapsed();
    let ok = logins
        .iter()
        .filter(|r| r["data"]["login"]["accessToken"].is_string())
        .count();

    println!(
        "me alone:               p50 {:.2} ms, p99 {:.2} ms (300 sequential)",
        ms(pct(&quiet, 50)),
        ms(pct(&quiet, 99))
    );
    println!(
        "me during {storm} logins:  p50 {:.2} ms, p99 {:.2} ms (200 sequential); {ok}/{storm} logins ok in {:.2} s",
        ms(pct(&during, 50)),
        ms(pct(&during, 99)),
        storm_took.as_secs_f64()
    );
    let _ = server.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn pct(times: &[Duration], p: usize) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[((sorted.len() * p) / 100).min(sorted.len() - 1)]
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn mailed_code(dir: &std::path::Path) -> String {
    let mail = std::fs::read_dir(dir)
        .expect("mail dir")
        .filter_map(Result::ok)
        .find(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .expect("a mail");
    let text = std::fs::read_to_string(mail.path()).expect("readable");
    let start = text.find("code is ").expect("a code") + 8;
    text[start..start + 6].to_string()
}
