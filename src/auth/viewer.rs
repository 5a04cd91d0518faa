//! The `Viewer`: who is asking. Built once per HTTP request from the `Authorization` header (and,
//! later, per WebSocket from `connection_init`). A bad token is not anonymity: it is kept as an
//! error that every operation needing a viewer returns.

use axum::http::HeaderMap;
use uuid::Uuid;

use crate::accounts::{self, Role};
use crate::app::AppState;
use crate::auth::jwt::Claims;
use crate::error::{AppError, AppResult};

/// A signed-in user, as checked against their live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: Uuid,
    pub role: Role,
    pub session_id: Uuid,
}

impl Identity {
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Staff | Role::Admin)
    }
}

#[derive(Debug, Clone)]
pub enum Viewer {
    Anonymous,
    User(Identity),
    /// A token was presented and refused: operations that need a viewer return this error.
    Invalid(AppError),
}

/// How a viewer shows in logs and spans: the user's id, `anonymous` or `invalid` (never a token).
impl std::fmt::Display for Viewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::User(identity) => write!(f, "{}", identity.user_id),
            Self::Anonymous => f.write_str("anonymous"),
            Self::Invalid(_) => f.write_str("invalid"),
        }
    }
}

impl Viewer {
    /// The signed-in user, or `UNAUTHENTICATED`.
    pub fn identity(&self) -> AppResult<&Identity> {
        match self {
            Self::User(identity) => Ok(identity),
            Self::Anonymous => Err(AppError::unauthenticated()),
            Self::Invalid(err) => Err(err.clone()),
        }
    }

    /// Staff or admin, or `FORBIDDEN` (`UNAUTHENTICATED` when not signed in).
    pub fn staff(&self) -> AppResult<&Identity> {
        let identity = self.identity()?;
        if identity.is_staff() {
            Ok(identity)
        } else {
            Err(AppError::forbidden("Only staff may do this."))
        }
    }

    /// An admin, or `FORBIDDEN` (`UNAUTHENTICATED` when not signed in).
    pub fn admin(&self) -> AppResult<&Identity> {
        let identity = self.identity()?;
        if identity.role == Role::Admin {
            Ok(identity)
        } else {
            Err(AppError::forbidden("Only an administrator may do this."))
        }
    }

    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Self::User(identity) => Some(identity.user_id),
            _ => None,
        }
    }

    pub fn is_staff(&self) -> bool {
        matches!(self, Self::User(identity) if identity.is_staff())
    }

    /// Resolves a bearer token: the JWT must verify and its session must still be live.
    pub async fn from_token(state: &AppState, token: &str) -> Self {
        match state.jwt.verify(token) {
            Ok(claims) => Self::from_claims(state, &claims).await,
            Err(err) => Self::Invalid(err),
        }
    }

    /// The viewer of a verified token, if its session is still live.
    pub async fn from_claims(state: &AppState, claims: &Claims) -> Self {
        match accounts::service::live_identity(state, claims.sub, claims.sid).await {
            Ok(identity) => Self::User(identity),
            Err(err) => Self::Invalid(err),
        }
    }

    /// Reads `Authorization: Bearer …`; no header is anonymity, anything else must verify.
    pub async fn from_headers(state: &AppState, headers: &HeaderMap) -> Self {
        let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else {
            return Self::Anonymous;
        };
        let token = value.to_str().ok().and_then(bearer_token);
        match token {
            Some(token) if !token.is_empty() => Self::from_token(state, token).await,
            _ => Self::Invalid(AppError::Unauthenticated(
                "The Authorization header must be `Bearer <token>`.".into(),
            )),
        }
    }
}

/// The token of an `Authorization: Bearer …` value (HTTP header or WebSocket init payload).
pub fn bearer_token(value: &str) -> Option<&str> {
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
}

/// Where a request comes from: recorded on sessions and used to throttle logins per address.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}
