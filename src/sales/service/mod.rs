//! The rules of sales: who records which sale, the one-sale-per-unit guarantee,
//! commission, the summary and staff metrics; and the referral credit of a first purchase.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, Months, NaiveDate};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QuerySelect, QueryTrait, Select, TransactionTrait,
};
use uuid::Uuid;

use super::entity::{sale, PaymentMethod};
use crate::accounts::service::{self as accounts, Person};
use crate::accounts::types::{Email, Phone};
use crate::accounts::Role;
use crate::app::AppState;
use crate::auth::viewer::Identity;
use crate::auth::Viewer;
use crate::bookings::service as bookings;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::events::Outbox;
use crate::input;
use crate::money;
use crate::notifications::entity::NotificationKind;
use crate::notifications::service::{self as notifications, Notice};
use crate::paging::{self, KeyKind, PageArgs, Slice, Sort};
use crate::payments::service as payments;
use crate::payments::types::Subject;
use crate::referrals;
use crate::units::entity::{unit, UnitStatus};
use crate::units::service as units;
use crate::workshop::service as workshop;

mod export;
mod recording;
mod reports;
mod visibility;

pub use export::*;
pub use recording::*;
pub use reports::*;
pub use visibility::*;
