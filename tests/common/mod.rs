//! `TestApp`: the real server on port 0 with a fresh database, and helpers to speak to it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use autohub::app::{App, AppState};
use autohub::config::Config;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use uuid::Uuid;

pub mod fake;
pub mod ws;

pub const PASSWORD: &str = "Blue-Tractor-42";

pub struct TestApp {
    pub base: String,
    pub dir: PathBuf,
    pub database_url: String,
    pub client: reqwest::Client,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
}

/// A signed-in user, as a test sees one.
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: String,
    pub access: String,
    pub refresh: String,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh database: a SQLite file in `dir`, or a new database on TEST_DATABASE_URL's server.
pub async fn fresh_database(dir: &Path) -> String {
    match std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        None => format!("sqlite://{}?mode=rwc", dir.join("autohub.db").display()),
        Some(admin_url) => {
            use sea_orm::ConnectionTrait;
            let name = format!("autohub_test_{}", Uuid::now_v7().simple());
            let admin = sea_orm::Database::connect(admin_url.as_str())
                .await
                .expect("connect to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
            url.set_path(&format!("/{name}"));
            url.to_string()
        }
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// Starts a server with the test defaults and these settings on top.
    pub async fn spawn_with(overrides: &[(&str, &str)]) -> Self {
        Self::spawn_on(None, overrides).await
    }

    /// Another server on this one's database: a restart, or a second instance.
    pub async fn spawn_beside(&self, overrides: &[(&str, &str)]) -> Self {
        Self::spawn_on(Some(self.database_url.clone()), overrides).await
    }

    /// Stops serving (the database stays, for a server started beside it).
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    async fn spawn_on(database_url: Option<String>, overrides: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!("autohub-test-{}", Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let database_url = match database_url {
            Some(url) => url,
            None => fresh_database(&dir).await,
        };
        let mut map: HashMap<String, String> = [
            ("DATABASE_URL", database_url.as_str()),
            ("HOST", "127.0.0.1"),
            ("PORT", "0"),
            ("JWT_SECRET", "test-secret-test-secret-test-secret-0123"),
            ("PUBLIC_URL", "http://autohub.test"),
            ("DATABASE_MAX_CONNECTIONS", "5"),
            // Reminders are swept at start and then hourly, so that no sweep lands inside a
            // test's count of statements; the reminder tests sweep often.
            ("BOOKING_REMINDER_SWEEP_MS", "3600000"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        map.insert("MAIL_DIR".into(), dir.join("mail").display().to_string());
        map.insert("MEDIA_DIR".into(), dir.join("media").display().to_string());
        // CI runs the suite a second time with every server's events going through Redis.
        if let Some(redis) = std::env::var("TEST_REDIS_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            map.insert("REDIS_URL".into(), redis);
        }
        for (k, v) in overrides {
            map.insert(k.to_string(), v.to_string());
        }
        let config = Config::from_map(&map).expect("test config");
        let app = App::build(config).await.expect("server builds");
        let addr = app.local_addr().expect("bound");
        let state = app.state();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.run(async move {
            let _ = stopped.await;
        }));
        Self {
            base: format!("http://{addr}"),
            dir,
            database_url,
            client: reqwest::Client::new(),
            state,
            stop: Some(stop),
        }
    }

    /// POSTs a raw body to /graphql; returns status and JSON (Null when the body is not JSON).
    pub async fn post(&self, body: String, token: Option<&str>) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body read");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.post(
            json!({ "query": query, "variables": variables }).to_string(),
            None,
        )
        .await
        .1
    }

    pub async fn gql_as(&self, token: &str, query: &str, variables: Value) -> Value {
        self.post(
            json!({ "query": query, "variables": variables }).to_string(),
            Some(token),
        )
        .await
        .1
    }

    /// Registers a customer and returns the new user's id.
    pub async fn register(&self, email: &str) -> String {
        let r = self
            .gql(
                "mutation($input: RegisterInput!) { register(input: $input) { id status } }",
                json!({ "input": {
                    "email": email, "password": PASSWORD, "firstName": "Test", "lastName": "Person",
                    "acceptTerms": true
                }}),
            )
            .await;
        assert_eq!(
            r["data"]["register"]["status"], "PENDING_VERIFICATION",
            "{r}"
        );
        r["data"]["register"]["id"]
            .as_str()
            .expect("id")
            .to_string()
    }

    /// Registers, verifies by the mailed code, and returns the signed-in customer.
    pub async fn customer(&self, email: &str) -> Actor {
        self.register(email).await;
        let code = self.mailed_code(email);
        let r = self
            .gql(
                "mutation($e: String!, $c: String!) { verifyEmail(email: $e, code: $c) { accessToken refreshToken user { id } } }",
                json!({ "e": email, "c": code }),
            )
            .await;
        actor(email, &r["data"]["verifyEmail"])
    }

    pub async fn login(&self, email: &str, password: &str) -> Value {
        self.gql(
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p, deviceName: \"test\") { accessToken refreshToken user { id role } } }",
            json!({ "e": email, "p": password }),
        )
        .await
    }

    pub async fn login_actor(&self, email: &str) -> Actor {
        let r = self.login(email, PASSWORD).await;
        actor(email, &r["data"]["login"])
    }

    /// An administrator, made as the command line makes one, then signed in over HTTP.
    pub async fn admin(&self) -> Actor {
        let email = format!("admin-{}@autohub.test", Uuid::now_v7().simple());
        autohub::accounts::service::create_admin(
            &self.state,
            autohub::accounts::service::NewAccount {
                email: email.clone(),
                password: PASSWORD.into(),
                first_name: "Ada".into(),
                last_name: "Admin".into(),
                phone: None,
            },
        )
        .await
        .expect("admin created");
        self.login_actor(&email).await
    }

    /// A STAFF member, made by an admin through `createStaff`.
    pub async fn staff(&self, admin: &Actor) -> Actor {
        let email = format!("staff-{}@autohub.test", Uuid::now_v7().simple());
        let r = self
            .gql_as(
                &admin.access,
                "mutation($i: CreateStaffInput!) { createStaff(input: $i) { id } }",
                json!({ "i": { "email": email, "password": PASSWORD, "firstName": "Sam", "lastName": "Staff", "role": "STAFF" } }),
            )
            .await;
        assert!(r["data"]["createStaff"]["id"].is_string(), "{r}");
        self.login_actor(&email).await
    }

    /// Mail files written to `email`, oldest first.
    pub fn mails_to(&self, email: &str) -> Vec<String> {
        read_messages(&self.dir.join("mail"), "eml", &format!("To: {email}"))
    }

    /// The code in the newest mail to `email`.
    pub fn mailed_code(&self, email: &str) -> String {
        let mails = self.mails_to(email);
        code_in(mails.last().unwrap_or_else(|| panic!("no mail to {email}")))
    }

    /// Runs the `autohub` binary against this server's database.
    pub async fn cli(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_autohub"));
        command
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env("MAIL_DIR", self.dir.join("mail"))
            .env("RUST_LOG", "warn")
            .current_dir(&self.dir);
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().await.expect("autohub runs")
    }

    pub fn texts_to(&self, phone: &str) -> Vec<String> {
        read_messages(
            &self.dir.join("mail").join("sms"),
            "txt",
            &format!("To: {phone}"),
        )
    }
}

pub fn actor(email: &str, payload: &Value) -> Actor {
    Actor {
        id: payload["user"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no sign-in for {email}: {payload}"))
            .to_string(),
        access: payload["accessToken"]
            .as_str()
            .expect("accessToken")
            .to_string(),
        refresh: payload["refreshToken"]
            .as_str()
            .expect("refreshToken")
            .to_string(),
    }
}

fn read_messages(dir: &Path, ext: &str, needle: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(std::time::SystemTime, String)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == ext))
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.path()).ok()?;
            let modified = e.metadata().ok()?.modified().ok()?;
            text.lines()
                .any(|l| l.trim() == needle)
                .then_some((modified, text))
        })
        .collect();
    found.sort_by_key(|(t, _)| *t);
    found.into_iter().map(|(_, text)| text).collect()
}

/// The six-digit code in a message ("… code is 123456").
pub fn code_in(text: &str) -> String {
    let start = text
        .find("code is ")
        .unwrap_or_else(|| panic!("no code in message: {text}"))
        + 8;
    let code: String = text[start..].chars().take(6).collect();
    assert!(
        code.chars().all(|c| c.is_ascii_digit()),
        "not a code: {code}"
    );
    code
}

/// The message of the first error, in lower case.
pub fn message(r: &Value) -> String {
    r["errors"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error in {r}"))
        .to_lowercase()
}

/// The `extensions.code` of the first error.
pub fn code(r: &Value) -> &str {
    r["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {r}"))
}

pub fn field(r: &Value) -> &str {
    r["errors"][0]["extensions"]["field"].as_str().unwrap_or("")
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A valid VIN, different on every call.
pub fn vin() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
    let mut n = Uuid::new_v4().as_u128();
    (0..17)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u128) as usize] as char;
            n /= ALPHABET.len() as u128;
            c
        })
        .collect()
}

/// The first bytes of each accepted format, then filler: enough for content sniffing.
pub fn png_bytes() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend(Uuid::new_v4().as_bytes());
    b
}

pub fn jpeg_bytes() -> Vec<u8> {
    let mut b = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00".to_vec();
    b.extend(Uuid::new_v4().as_bytes());
    b
}

pub fn webp_bytes() -> Vec<u8> {
    let mut b = b"RIFF\x24\x00\x00\x00WEBPVP8 ".to_vec();
    b.extend(Uuid::new_v4().as_bytes());
    b
}

impl TestApp {
    /// A GraphQL multipart request (the upload spec): `files` are (variable path, file name, bytes).
    pub async fn upload(
        &self,
        token: &str,
        query: &str,
        variables: Value,
        files: Vec<(&str, &str, Vec<u8>)>,
    ) -> (u16, Value) {
        let mut map = serde_json::Map::new();
        for (i, (path, _, _)) in files.iter().enumerate() {
            map.insert(i.to_string(), json!([format!("variables.{path}")]));
        }
        let mut form = reqwest::multipart::Form::new()
            .text(
                "operations",
                json!({ "query": query, "variables": variables }).to_string(),
            )
            .text("map", Value::Object(map).to_string());
        for (i, (_, name, bytes)) in files.into_iter().enumerate() {
            form = form.part(
                i.to_string(),
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
            );
        }
        let response = self
            .client
            .post(format!("{}/graphql", self.base))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("upload sent");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body read");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Creates a unit with these fields on top of valid defaults; returns its id.
    pub async fn create_unit(&self, token: &str, fields: Value) -> String {
        let r = self.try_create_unit(token, fields).await;
        r["data"]["createUnit"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("unit not created: {r}"))
            .to_string()
    }

    pub async fn try_create_unit(&self, token: &str, fields: Value) -> Value {
        let mut input = json!({
            "vin": vin(), "make": "Toyota", "model": "Corolla", "year": 2020, "mileage": 10000
        });
        if let (Some(input), Some(fields)) = (input.as_object_mut(), fields.as_object()) {
            for (k, v) in fields {
                input.insert(k.clone(), v.clone());
            }
        }
        self.gql_as(
            token,
            "mutation($i: CreateUnitInput!) { createUnit(input: $i) { id vin status isListed listPrice owner { id } } }",
            json!({ "i": input }),
        )
        .await
    }

    /// Files stored under the media directory, in a folder.
    pub fn media_files(&self, folder: &str) -> usize {
        std::fs::read_dir(self.dir.join("media").join(folder))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}
