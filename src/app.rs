//! `AppState` (everything a request needs) and `App::build`, which connects the database, runs
//! the migrations, binds the listener (port 0 allowed) and serves until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use tokio::net::TcpListener;

use crate::accounts::entity::user;
use crate::auth::jwt::JwtKeys;
use crate::auth::limiter::Limiter;
use crate::auth::password::PasswordHashing;
use crate::auth::sessions::SessionCache;
use crate::chat::entity::message;
use crate::config::Config;
use crate::events::Events;
use crate::mail::Mailer;
use crate::media::MediaStore;
use crate::metrics::Metrics;
use crate::presence::Presence;
use crate::sms::SmsSender;
use crate::units::entity::unit;

pub struct Services {
    pub db: DatabaseConnection,
    pub config: Config,
    pub jwt: JwtKeys,
    pub hashing: PasswordHashing,
    pub limiter: Limiter,
    pub sessions: SessionCache,
    pub mailer: Mailer,
    pub sms: SmsSender,
    pub media: MediaStore,
    pub events: Events,
    pub chat: crate::chat::service::ChatState,
    pub presence: crate::presence::Presence,
    pub metrics: Arc<Metrics>,
}

/// Cheap to clone: one shared set of services.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

impl AppState {
    /// The shop's calendar day (`SHOWROOM_TIMEZONE`): what "today", "in the future" and "in the
    /// past" mean for every date a user enters.
    pub fn today(&self) -> chrono::NaiveDate {
        crate::clock::today(self.config.bookings.showroom_timezone)
    }

    /// Connects and migrates the database and sets up every service (no listener).
    pub async fn new(config: Config) -> Result<Self, String> {
        let metrics = Arc::new(Metrics::new());
        let db = connect(&config, Some(metrics.clone())).await?;
        let (events, presence, limiter) = match &config.redis_url {
            Some(url) => {
                let events = Events::with_redis(config.event_buffer, url).await?;
                crate::auth::sessions::announce_session_changes(&events);
                (
                    events,
                    Presence::with_redis(url, config.presence_lease).await?,
                    Limiter::shared(redis_connection(url).await?, &deployment(&config)),
                )
            }
            None => (
                Events::in_process(config.event_buffer),
                Presence::in_process(),
                Limiter::new(),
            ),
        };
        under_migration_lock(&config.database_url, &db, Migrator::up(&db, None))
            .await
            .map_err(|e| format!("database migration failed: {e}"))?;
        fill_search_columns(&db)
            .await
            .map_err(|e| format!("filling the search columns failed: {e}"))?;
        Ok(Self(Arc::new(Services {
            jwt: JwtKeys::new(config.jwt_secret.expose()),
            hashing: PasswordHashing::new(config.password_hash_concurrency),
            limiter,
            sessions: SessionCache::new(config.session_cache_ttl),
            mailer: Mailer::from_config(&config)?,
            sms: SmsSender::from_config(&config)?,
            media: MediaStore::new(
                config.media_dir.clone(),
                &config.public_url,
                config.jwt_secret.expose(),
                config.uploads.signed_url_ttl,
                config.uploads.max_image_bytes,
                config.uploads.max_file_bytes,
            ),
            events,
            chat: crate::chat::service::ChatState::default(),
            presence,
            metrics,
            db,
            config,
        })))
    }
}

/// What names this deployment among others that may share a Redis server: the instances of
/// one deployment share a database. A digest, so the URL (and any password in it) stays out of
/// Redis.
fn deployment(config: &Config) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(config.database_url.as_bytes());
    hex::encode(&digest[..8])
}

/// A connection to Redis that reconnects by itself (for the shared throttles).
async fn redis_connection(url: &str) -> Result<redis::aio::ConnectionManager, String> {
    let client = redis::Client::open(url).map_err(|e| format!("REDIS_URL: cannot use it: {e}"))?;
    client
        .get_connection_manager()
        .await
        .map_err(|e| format!("Redis is not reachable: {e}"))
}

/// Opens the pool: SQLite in WAL mode with a busy timeout and several connections (one
/// connection would serialise every request), or PostgreSQL. Counts statements when given metrics.
pub async fn connect(
    config: &Config,
    metrics: Option<Arc<Metrics>>,
) -> Result<DatabaseConnection, String> {
    let url = &config.database_url;
    if let Some(path) = sqlite_file(url) {
        if let Some(dir) = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("DATABASE_URL: cannot create {}: {e}", dir.display()))?;
        }
    }
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(config.database_max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        // sqlx tests every connection as it goes back to the pool (a ping); testing it again as
        // it is taken out cost each statement a second round trip to PostgreSQL (on SQLite, a
        // second hop to the connection's thread). A connection the database ended meanwhile
        // fails its next statement instead, retryably (`error::unreachable_database`).
        .test_before_acquire(false)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    let started = std::time::Instant::now();
    let mut db = loop {
        match Database::connect(options.clone()).await {
            Ok(db) => break db,
            // Instances started together on one new SQLite file: switching it to WAL can meet a
            // lock its busy handler does not wait for. Try again for as long as a busy wait.
            Err(e)
                if sqlite_file(url).is_some()
                    && e.to_string().contains("database is locked")
                    && started.elapsed() < Duration::from_secs(10) =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            // The URL may hold a password: name the variable, not the value.
            Err(e) => return Err(format!("DATABASE_URL: cannot connect: {e}")),
        }
    };
    if let Some(metrics) = metrics {
        db.set_metric_callback(move |info| metrics.record_statement(info.failed));
    }
    Ok(db)
}

/// Rows saved before their table had a search column (or written in bulk) get it now; a fresh
/// or up-to-date database has none to fill.
async fn fill_search_columns(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    use crate::search::fill_missing;
    let filled = fill_missing::<user::Entity, _>(db, user::Column::SearchText).await?
        + fill_missing::<unit::Entity, _>(db, unit::Column::SearchText).await?
        + fill_missing::<message::Entity, _>(db, message::Column::SearchText).await?;
    if filled > 0 {
        tracing::info!(filled, "search columns filled");
    }
    Ok(())
}

/// Runs `work` (migrating) while this process holds the database's migration lock, so that
/// instances started together, and `autohub migrate`, migrate one after the other: each later
/// one finds the migrations applied. PostgreSQL: an advisory lock held by a transaction of its
/// own while `work` runs on the pool's other connections. SQLite: an exclusive lock on a file
/// beside the database (a database transaction would lock out the migration itself); an
/// in-memory database belongs to one process and needs none.
pub async fn under_migration_lock<T>(
    url: &str,
    db: &DatabaseConnection,
    work: impl Future<Output = Result<T, sea_orm::DbErr>>,
) -> Result<T, String> {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    /// Any fixed number: the lock's name among the database's advisory locks.
    const MIGRATION_LOCK: i64 = 0x0041_5554_4f48_5542;
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let lock = db.begin().await.map_err(|e| e.to_string())?;
            lock.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
                .await
                .map_err(|e| e.to_string())?;
            let outcome = work.await.map_err(|e| e.to_string());
            lock.commit().await.map_err(|e| e.to_string())?;
            outcome
        }
        _ => {
            let Some(path) = sqlite_file(url) else {
                return work.await.map_err(|e| e.to_string());
            };
            let path = format!("{path}.migrate-lock");
            let file = tokio::task::spawn_blocking(move || {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)?;
                file.lock()?;
                Ok::<_, std::io::Error>(file)
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("cannot lock the database for migrations: {e}"))?;
            let outcome = work.await.map_err(|e| e.to_string());
            drop(file);
            outcome
        }
    }
}

/// The file behind a `sqlite:` URL, if it names one.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// A built server: state ready, listener bound.
pub struct App {
    state: AppState,
    listener: TcpListener,
    /// When the first queued push is due (read before serving).
    pushes_due: Option<chrono::DateTime<chrono::Utc>>,
}

impl App {
    pub async fn build(config: Config) -> Result<Self, String> {
        let address = SocketAddr::new(config.host, config.port);
        let state = AppState::new(config).await?;
        crate::bookings::service::send_reminders_due_at_start(&state).await;
        crate::uploads::service::sweep_at_start(&state).await;
        let pushes_due = crate::devices::service::next_push_due(&state.db)
            .await
            .map_err(|e| format!("reading the push queue failed: {e:?}"))?;
        let listener = TcpListener::bind(address)
            .await
            .map_err(|e| format!("PORT: cannot listen on {address}: {e}"))?;
        Ok(Self {
            state,
            listener,
            pushes_due,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serves until `shutdown` completes, then lets requests in flight finish.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        use axum::serve::ListenerExt;
        let router = crate::http::router(self.state.clone());
        // Reminders of confirmed bookings, while this instance serves.
        let reminders = crate::bookings::service::spawn_reminder_sweeps(self.state.clone());
        // Uploads nobody attached (swept once in `build`, before serving).
        let uploads = crate::uploads::service::spawn_sweeps(self.state.clone());
        // Pushes waiting for the gateway (also from before a restart).
        let pushes = crate::devices::service::spawn_pushes(self.state.clone(), self.pushes_due);
        // Small writes (a GraphQL response, a subscription event) go out at once instead of
        // waiting for the peer's delayed acknowledgement (Nagle's algorithm).
        let listener = self.listener.tap_io(|stream| {
            if let Err(err) = stream.set_nodelay(true) {
                tracing::debug!(%err, "TCP_NODELAY not set");
            }
        });
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        reminders.abort();
        uploads.abort();
        pushes.abort();
        self.state.db.clone().close().await.ok();
        Ok(())
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    use super::sqlite_file;

    #[test]
    fn finds_the_file_of_a_sqlite_url() {
        assert_eq!(
            sqlite_file("sqlite://data/a.db?mode=rwc"),
            Some("data/a.db")
        );
        assert_eq!(sqlite_file("sqlite:/tmp/x.db"), Some("/tmp/x.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://u@h/db"), None);
    }
}
