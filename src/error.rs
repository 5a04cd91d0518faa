//! `AppError`: the one error type of the API. Every service returns it; the GraphQL layer turns it
//! into an error with `extensions.code` as docs/api.md lists them.
//!
//! It deliberately does not implement `Display`: async-graphql converts anything `Display` into an
//! error without a code, so keeping `Display` off forces every error through `From<AppError>` below.

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, RuntimeErr, SqlErr, SqlxError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppError {
    /// No token, or a token that is bad, expired or belongs to an ended session.
    Unauthenticated(String),
    /// Signed in, but not allowed.
    Forbidden(String),
    /// Missing, or not visible to the viewer.
    NotFound(String),
    /// An input value is wrong; `field` names it.
    BadInput { field: String, message: String },
    /// The current state forbids the operation; `field` names the input at fault, if one is.
    Conflict {
        message: String,
        field: Option<String>,
    },
    /// Too many attempts; retry after the given number of seconds.
    RateLimited { retry_after_seconds: u64 },
    /// A service we depend on (the payment provider, the database) failed or did not answer in
    /// time: not the client's mistake, and worth a retry; the message says which service.
    Unavailable(String),
    /// Something failed on our side; the cause is logged, never sent.
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn unauthenticated() -> Self {
        Self::Unauthenticated("Please sign in.".into())
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found."))
    }
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadInput {
            field: field.into(),
            message: message.into(),
        }
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
            field: None,
        }
    }
    pub fn conflict_on(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
            field: Some(field.into()),
        }
    }
    /// An infrastructure failure: logged here with its cause, shown to the client as a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::Internal(cause.to_string())
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::BadInput { .. } => "BAD_USER_INPUT",
            Self::Conflict { .. } => "CONFLICT",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::Unavailable(_) | Self::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }

    /// The sentence a frontend may show.
    pub fn message(&self) -> String {
        match self {
            Self::Unauthenticated(m)
            | Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::Unavailable(m) => m.clone(),
            Self::BadInput { message, .. } | Self::Conflict { message, .. } => message.clone(),
            Self::RateLimited {
                retry_after_seconds,
            } => format!("Too many attempts. Try again in {retry_after_seconds} seconds."),
            Self::Internal(_) => "Something went wrong on our side. Please try again.".into(),
        }
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::conflict("This already exists."),
            _ if unreachable_database(&err) => {
                tracing::warn!(error = %err, "the database could not be reached");
                Self::Unavailable("The database could not be reached. Please try again.".into())
            }
            _ => Self::internal(err),
        }
    }
}

/// The connection failed, not the statement: the database restarted or ended the connection
/// (pooled connections are not tested as they are taken, see `app::connect`; PostgreSQL says so
/// with SQLSTATE class 57, operator intervention, or 08, connection exception), or no connection
/// came free in time. The next attempt takes another connection.
fn unreachable_database(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => match e.as_ref() {
            SqlxError::Io(_)
            | SqlxError::PoolTimedOut
            | SqlxError::PoolClosed
            | SqlxError::WorkerCrashed => true,
            SqlxError::Database(db) => db
                .code()
                .is_some_and(|code| code.starts_with("57P") || code.starts_with("08")),
            _ => false,
        },
        _ => false,
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let message = err.message();
        let code = err.code();
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", code);
            match &err {
                AppError::BadInput { field, .. }
                | AppError::Conflict {
                    field: Some(field), ..
                } => ext.set("field", field.as_str()),
                AppError::RateLimited {
                    retry_after_seconds,
                } => ext.set("retryAfterSeconds", *retry_after_seconds),
                AppError::Unavailable(_) => ext.set("retryable", true),
                _ => {}
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_carries_its_field_and_rate_limited_its_delay() {
        let e: async_graphql::Error = AppError::bad_input("password", "Too short.").into();
        let ext = e.extensions.expect("extensions");
        assert_eq!(
            ext.get("code"),
            Some(&async_graphql::Value::from("BAD_USER_INPUT"))
        );
        assert_eq!(
            ext.get("field"),
            Some(&async_graphql::Value::from("password"))
        );
        let e: async_graphql::Error = AppError::RateLimited {
            retry_after_seconds: 7,
        }
        .into();
        let ext = e.extensions.expect("extensions");
        assert_eq!(
            ext.get("retryAfterSeconds"),
            Some(&async_graphql::Value::from(7u64))
        );
    }

    #[test]
    fn a_lost_database_connection_is_unavailable_and_a_failed_statement_internal() {
        use std::sync::Arc;
        let lost = |e: SqlxError| DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(matches!(
            AppError::from(lost(SqlxError::Io(refused))),
            AppError::Unavailable(_)
        ));
        assert!(matches!(
            AppError::from(DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout)),
            AppError::Unavailable(_)
        ));
        assert!(matches!(
            AppError::from(lost(SqlxError::RowNotFound)),
            AppError::Internal(_)
        ));
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let e = AppError::Internal("connection refused at 10.0.0.3".into());
        assert!(!e.message().contains("10.0.0.3"));
    }
}
