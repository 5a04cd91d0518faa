//! Configuration: every setting comes from the environment (and `.env` in development), is parsed
//! into a typed value at start, and a bad value stops the start with a message naming the variable.
//! This is the only module that reads environment variables.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

mod bookings;
mod payments;
mod social;

pub use bookings::BookingSettings;
pub use payments::PaymentSettings;
pub use social::SocialSettings;

/// A secret value: it can be used, never printed.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Which origins may call the API from a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    Any,
    List(Vec<String>),
}

/// How to limit what one HTTP request may ask for.
#[derive(Debug, Clone)]
pub struct QueryLimits {
    pub max_depth: usize,
    /// What one operation may cost: fields, with lists multiplied by their page size.
    pub max_cost: u64,
    pub max_aliases: usize,
    pub max_batch: usize,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
}

/// One-time codes (email verification, password reset, phone login).
#[derive(Debug, Clone)]
pub struct OtpSettings {
    pub ttl: Duration,
    pub max_attempts: i32,
    pub resend_interval: Duration,
    pub max_per_hour: usize,
}

/// Login throttling: failures allowed per account and per client address in a window.
/// What one upload request may carry.
#[derive(Debug, Clone)]
pub struct UploadLimits {
    /// A chat file (image or PDF).
    pub max_file_bytes: usize,
    /// A unit photo or an avatar.
    pub max_image_bytes: usize,
    pub max_files: usize,
    /// The whole multipart body: files and the operations together.
    pub max_body_bytes: usize,
    /// How long a signed media URL stays valid.
    pub signed_url_ttl: Duration,
    /// How long a presigned upload URL works.
    pub ticket_ttl: Duration,
    /// How long an uploaded file waits to be attached before the sweep removes it.
    pub retention: Duration,
    /// How often the sweep of unattached uploads runs.
    pub sweep_every: Duration,
}

#[derive(Debug, Clone)]
pub struct LoginThrottle {
    pub max_failures: usize,
    pub window: Duration,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub app_env: AppEnv,
    pub database_url: String,
    /// Redis for events across instances (and presence); `None`: events stay in this process.
    pub redis_url: Option<String>,
    pub database_max_connections: u32,
    pub host: IpAddr,
    pub port: u16,
    pub public_url: String,
    pub jwt_secret: Secret,
    /// True when no JWT_SECRET was given and a random one was made for this run.
    pub jwt_secret_generated: bool,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub mail_dir: PathBuf,
    pub smtp_url: Option<Secret>,
    pub mail_from: String,
    pub sms_gateway_url: Option<String>,
    pub cors_origins: CorsOrigins,
    /// Behind a reverse proxy: take the client address from the last `X-Forwarded-For` entry.
    pub trust_forwarded_for: bool,
    pub media_dir: PathBuf,
    pub graphiql_enabled: bool,
    pub graphiql_cdn_url: Option<String>,
    pub introspection_enabled: bool,
    /// Plain fields of the objects that opt in are filled in place (`graphql::in_place`); off,
    /// every field goes through its resolver (to compare the two, or to measure the gain).
    pub graphql_in_place: bool,
    pub limits: QueryLimits,
    pub log_format: LogFormat,
    /// Log filter in `RUST_LOG` syntax.
    pub rust_log: String,
    pub otp: OtpSettings,
    pub login_throttle: LoginThrottle,
    pub password_hash_concurrency: usize,
    /// How long a DataLoader gathers keys before it runs its batch.
    pub dataloader_delay: Duration,
    /// How long a session found live is trusted without reading it again (0 = always read).
    pub session_cache_ttl: Duration,
    pub referral_reward_points: i32,
    /// How many events a subscriber may fall behind before it misses some.
    pub event_buffer: usize,
    /// How often an open WebSocket checks that its session is still live.
    pub ws_session_check: Duration,
    /// With Redis: how long an instance's claim that a user is online lasts unless renewed (an
    /// instance that dies leaves its users online at most this long).
    pub presence_lease: Duration,
    /// How often the server sends a keep-alive on an open WebSocket.
    pub ws_keepalive: Duration,
    pub uploads: UploadLimits,
    /// Commission on dealership sales, in basis points of the price (200 = 2%).
    pub commission_rate_bp: i32,
    pub bookings: BookingSettings,
    pub social: SocialSettings,
    pub payments: PaymentSettings,
}

/// A setting that could not be used; the message names the variable.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Reads raw values by name: the process environment, or a map in tests.
struct Vars<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Vars<'_> {
    fn raw(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    fn parse<T: FromStr>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        match self.raw(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|e| ConfigError(format!("{name}: cannot use {v:?}: {e}"))),
        }
    }

    fn seconds(&self, name: &str, default: u64) -> Result<Duration, ConfigError> {
        Ok(Duration::from_secs(self.parse(name, default)?))
    }

    fn flag(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.raw(name).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
            Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
            Some(v) => Err(ConfigError(format!(
                "{name}: cannot use {v:?}: expected true or false"
            ))),
        }
    }

    fn positive<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + Default,
        T::Err: fmt::Display,
    {
        let value = self.parse(name, default)?;
        if value <= T::default() {
            return Err(ConfigError(format!("{name}: must be greater than zero")));
        }
        Ok(value)
    }
}

/// An outside service's URL (a sign-in provider, the payment provider, the push gateway): HTTPS,
/// or plain HTTP to a loopback address (the tests' fakes).
fn provider_url(vars: &Vars, name: &str, default: &str) -> Result<String, ConfigError> {
    let raw = vars.raw(name).unwrap_or_else(|| default.to_string());
    let bad = |why: &str| ConfigError(format!("{name}: cannot use {raw:?}: {why}"));
    let url = url::Url::parse(&raw).map_err(|e| bad(&e.to_string()))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => Ok(raw.trim_end_matches('/').to_string()),
        "http" if loopback => Ok(raw.trim_end_matches('/').to_string()),
        _ => Err(bad(
            "expected an https:// URL (http:// only to a loopback address)",
        )),
    }
}

/// The shortest JWT secret production accepts, in bytes.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

impl Config {
    /// Reads the process environment, after loading `.env` when one is present.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a broken one is worth stopping for.
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => return Err(ConfigError(format!(".env: {e}"))),
        }
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads settings from a map (tests build their servers this way).
    pub fn from_map(map: &HashMap<String, String>) -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| map.get(name).cloned())
    }

    fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars { lookup };
        let app_env = match vars.raw("APP_ENV").as_deref() {
            None | Some("development") => AppEnv::Development,
            Some("production") => AppEnv::Production,
            Some(other) => {
                return Err(ConfigError(format!(
                    "APP_ENV: cannot use {other:?}: expected development or production"
                )))
            }
        };
        let production = app_env == AppEnv::Production;

        let (jwt_secret, jwt_secret_generated) = match vars.raw("JWT_SECRET") {
            Some(s) if s.len() >= MIN_JWT_SECRET_BYTES => (Secret(s), false),
            Some(_) => {
                return Err(ConfigError(format!(
                    "JWT_SECRET: must be at least {MIN_JWT_SECRET_BYTES} bytes long"
                )))
            }
            None if production => {
                return Err(ConfigError(format!(
                    "JWT_SECRET: required in production (at least {MIN_JWT_SECRET_BYTES} bytes)"
                )))
            }
            None => (Secret(crate::auth::random_token(48)), true),
        };

        let port: u16 = vars.parse("PORT", 8080)?;
        let host: IpAddr = vars.parse("HOST", IpAddr::from([127, 0, 0, 1]))?;
        let public_url = vars
            .raw("PUBLIC_URL")
            .unwrap_or_else(|| format!("http://localhost:{port}"));
        url::Url::parse(&public_url)
            .map_err(|e| ConfigError(format!("PUBLIC_URL: cannot use {public_url:?}: {e}")))?;
        let public_url = public_url.trim_end_matches('/').to_string();

        let database_url = vars
            .raw("DATABASE_URL")
            .unwrap_or_else(|| "sqlite://data/autohub.db?mode=rwc".to_string());
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
            return Err(ConfigError(
                "DATABASE_URL: must start with sqlite: or postgres://".to_string(),
            ));
        }

        let redis_url = vars.raw("REDIS_URL");
        if let Some(u) = &redis_url {
            if !(u.starts_with("redis://") || u.starts_with("rediss://")) {
                return Err(ConfigError(
                    "REDIS_URL: must start with redis:// or rediss://".to_string(),
                ));
            }
        }

        let smtp_url = vars.raw("SMTP_URL");
        if let Some(u) = &smtp_url {
            if !(u.starts_with("smtp://") || u.starts_with("smtps://")) {
                return Err(ConfigError(
                    "SMTP_URL: must start with smtp:// or smtps://".to_string(),
                ));
            }
        }
        let sms_gateway_url = vars.raw("SMS_GATEWAY_URL");
        if let Some(u) = &sms_gateway_url {
            url::Url::parse(u)
                .map_err(|e| ConfigError(format!("SMS_GATEWAY_URL: cannot use {u:?}: {e}")))?;
        }

        let cors_origins = match vars.raw("CORS_ORIGINS") {
            Some(v) if v == "*" => CorsOrigins::Any,
            Some(v) => CorsOrigins::List(
                v.split(',')
                    .map(|s| s.trim().trim_end_matches('/').to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            ),
            None if production => CorsOrigins::List(Vec::new()),
            None => CorsOrigins::Any,
        };

        let log_format = match vars.raw("LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError(format!(
                    "LOG_FORMAT: cannot use {other:?}: expected pretty or json"
                )))
            }
        };

        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);

        Ok(Self {
            app_env,
            database_url,
            redis_url,
            database_max_connections: vars.positive("DATABASE_MAX_CONNECTIONS", 10)?,
            host,
            port,
            public_url,
            jwt_secret,
            jwt_secret_generated,
            access_token_ttl: vars.seconds("ACCESS_TOKEN_TTL_SECONDS", 15 * 60)?,
            refresh_token_ttl: vars.seconds("REFRESH_TOKEN_TTL_SECONDS", 7 * 24 * 3600)?,
            mail_dir: PathBuf::from(vars.raw("MAIL_DIR").unwrap_or_else(|| "data/mail".into())),
            smtp_url: smtp_url.map(Secret),
            mail_from: vars
                .raw("MAIL_FROM")
                .unwrap_or_else(|| "AutoHub <no-reply@autohub.local>".into()),
            sms_gateway_url,
            cors_origins,
            trust_forwarded_for: vars.flag("TRUST_FORWARDED_FOR", false)?,
            media_dir: PathBuf::from(vars.raw("MEDIA_DIR").unwrap_or_else(|| "data/media".into())),
            graphiql_enabled: vars.flag("GRAPHIQL_ENABLED", !production)?,
            graphiql_cdn_url: vars.raw("GRAPHIQL_CDN_URL"),
            introspection_enabled: vars.flag("INTROSPECTION_ENABLED", !production)?,
            graphql_in_place: vars.flag("GRAPHQL_IN_PLACE", true)?,
            limits: QueryLimits {
                max_depth: vars.positive("QUERY_MAX_DEPTH", 12)?,
                max_cost: vars.positive("QUERY_MAX_COMPLEXITY", 20_000)?,
                max_aliases: vars.positive("QUERY_MAX_ALIASES", 50)?,
                max_batch: vars.positive("QUERY_MAX_BATCH", 10)?,
                max_body_bytes: vars.positive("MAX_BODY_BYTES", 1024 * 1024)?,
                request_timeout: Duration::from_secs(vars.positive("REQUEST_TIMEOUT_SECONDS", 30)?),
            },
            log_format,
            rust_log: vars
                .raw("RUST_LOG")
                .unwrap_or_else(|| "info,sqlx=warn,sea_orm=warn".into()),
            otp: OtpSettings {
                ttl: vars.seconds("OTP_TTL_SECONDS", 15 * 60)?,
                max_attempts: vars.positive("OTP_MAX_ATTEMPTS", 5)?,
                resend_interval: vars.seconds("OTP_RESEND_INTERVAL_SECONDS", 60)?,
                max_per_hour: vars.positive("OTP_MAX_PER_HOUR", 5)?,
            },
            login_throttle: LoginThrottle {
                max_failures: vars.positive("LOGIN_MAX_FAILURES", 10)?,
                window: vars.seconds("LOGIN_WINDOW_SECONDS", 15 * 60)?,
            },
            password_hash_concurrency: vars.positive("PASSWORD_HASH_CONCURRENCY", cores)?,
            dataloader_delay: Duration::from_millis(vars.parse("DATALOADER_DELAY_MS", 1)?),
            session_cache_ttl: Duration::from_millis(vars.parse("SESSION_CACHE_MS", 1000)?),
            referral_reward_points: vars.parse("REFERRAL_REWARD_POINTS", 500)?,
            event_buffer: vars.positive("EVENT_BUFFER", 256)?,
            ws_session_check: Duration::from_secs(vars.positive("WS_SESSION_CHECK_SECONDS", 5)?),
            presence_lease: Duration::from_secs(vars.positive("PRESENCE_LEASE_SECONDS", 30)?),
            ws_keepalive: Duration::from_secs(vars.positive("WS_KEEPALIVE_SECONDS", 15)?),
            uploads: UploadLimits {
                max_file_bytes: vars.positive("UPLOAD_MAX_FILE_BYTES", 25 * 1024 * 1024)?,
                max_image_bytes: vars.positive("UPLOAD_MAX_IMAGE_BYTES", 10 * 1024 * 1024)?,
                max_files: vars.positive("UPLOAD_MAX_FILES", 10)?,
                max_body_bytes: vars.positive("UPLOAD_MAX_BODY_BYTES", 50 * 1024 * 1024)?,
                signed_url_ttl: vars.seconds("MEDIA_URL_TTL_SECONDS", 3600)?,
                ticket_ttl: Duration::from_secs(vars.positive("UPLOAD_URL_TTL_SECONDS", 900)?),
                retention: Duration::from_secs(vars.positive("UPLOAD_RETENTION_SECONDS", 86_400)?),
                sweep_every: Duration::from_millis(vars.positive("UPLOAD_SWEEP_MS", 600_000)?),
            },
            commission_rate_bp: commission_rate(vars.raw("COMMISSION_RATE").as_deref())?,
            bookings: bookings::booking_settings(&vars)?,
            social: social::social_settings(&vars)?,
            payments: payments::payment_settings(&vars)?,
        })
    }

    pub fn is_production(&self) -> bool {
        self.app_env == AppEnv::Production
    }
}

/// `COMMISSION_RATE` is a fraction of the price (`0.02` = 2%), kept as basis points.
fn commission_rate(raw: Option<&str>) -> Result<i32, ConfigError> {
    let Some(raw) = raw else {
        return Ok(200);
    };
    let bad = || {
        ConfigError(format!(
            "COMMISSION_RATE: cannot use {raw:?}: expected a fraction from 0 to 1 with at most 4 decimals, e.g. 0.02"
        ))
    };
    let rate: rust_decimal::Decimal = raw.trim().parse().map_err(|_| bad())?;
    let bp = rate * rust_decimal::Decimal::from(10_000);
    if rate.is_sign_negative() || rate > rust_decimal::Decimal::ONE || !bp.fract().is_zero() {
        return Err(bad());
    }
    use rust_decimal::prelude::ToPrimitive;
    bp.to_i32().ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_map(&map)
    }

    #[test]
    fn development_starts_with_no_setting_and_generates_a_secret() {
        let c = config(&[]).expect("defaults work");
        assert!(c.jwt_secret_generated);
        assert_eq!(c.port, 8080);
        assert!(c.database_url.starts_with("sqlite:"));
    }

    #[test]
    fn production_refuses_a_missing_or_short_secret() {
        let e = config(&[("APP_ENV", "production")]).unwrap_err();
        assert!(e.0.starts_with("JWT_SECRET"));
        let e = config(&[("APP_ENV", "production"), ("JWT_SECRET", "short")]).unwrap_err();
        assert!(e.0.starts_with("JWT_SECRET"));
        let long = "x".repeat(32);
        assert!(config(&[("APP_ENV", "production"), ("JWT_SECRET", &long)]).is_ok());
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        assert!(config(&[("PORT", "eighty")])
            .unwrap_err()
            .0
            .starts_with("PORT"));
        assert!(config(&[("APP_ENV", "staging")])
            .unwrap_err()
            .0
            .starts_with("APP_ENV"));
        assert!(config(&[("QUERY_MAX_DEPTH", "0")])
            .unwrap_err()
            .0
            .starts_with("QUERY_MAX_DEPTH"));
        assert!(config(&[("GRAPHIQL_ENABLED", "maybe")])
            .unwrap_err()
            .0
            .starts_with("GRAPHIQL_ENABLED"));
        for (name, value) in [
            ("SHOWROOM_TIMEZONE", "Mars/Olympus"),
            ("TEST_DRIVE_HORIZON_DAYS", "99999999999"),
            ("APPOINTMENT_HORIZON_DAYS", "0"),
            ("BOOKING_REMINDER_HOURS", "99999999999999"),
        ] {
            let err = config(&[(name, value)]).unwrap_err().0;
            assert!(err.starts_with(name), "{name}: {err}");
        }
    }

    #[test]
    fn secrets_are_not_printed() {
        let c = config(&[("JWT_SECRET", &"s".repeat(40))]).expect("valid");
        assert!(!format!("{c:?}").contains("ssssssss"));
    }
}
