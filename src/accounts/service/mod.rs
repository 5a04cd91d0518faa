//! The rules of accounts: sign-up, codes, sign-in, sessions, passwords, profiles
//! and the staff and admin operations. Authorization is checked here, next to each rule.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    ExprTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
    TransactionTrait,
};
use uuid::Uuid;

use super::entity::{
    one_time_code, refresh_token, session, user, AccountStatus, MembershipTier, Role,
};
use super::types::{Email, Password, PasswordOwner, Phone};
use crate::app::AppState;
use crate::auth::limiter::Rule;
use crate::auth::otp::{self, Purpose};
use crate::auth::viewer::{ClientInfo, Identity};
use crate::auth::{random_token, sha256_hex, Viewer};
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::input;
use crate::paging::{self, KeyKind, PageArgs, Slice, Sort};
use crate::referrals;

const NAME_MAX: usize = 100;

mod admin;
mod codes;
mod helpers;
mod passwords;
mod profile;
mod sessions;
mod sign_in;
mod sign_up;
mod social;

pub use admin::*;
use codes::*;
pub use helpers::*;
pub use passwords::*;
pub use profile::*;
pub use sessions::*;
pub use sign_in::*;
pub use sign_up::*;
pub use social::*;
