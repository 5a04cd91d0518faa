//! The rules of units: who sees and changes which unit, VIN and mileage rules,
//! listing, status, photos; and the unit transitions other domains drive (sold, in service).

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
    TransactionTrait,
};
use uuid::Uuid;

use super::entity::{unit, unit_photo, BodyType, FuelType, Transmission, UnitStatus};
use super::page::{PageReads, PageUnit, UnitCard};
use super::types::{self, Vin};
use crate::accounts::service as accounts;
use crate::app::AppState;
use crate::auth::viewer::Identity;
use crate::auth::Viewer;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::input;
use crate::media::Incoming;
use crate::money;
use crate::paging::{self, KeyKind, PageArgs, Slice, Sort};

/// At most this many photos per unit.
pub const MAX_PHOTOS: u64 = 30;

mod changes;
mod export;
mod page;
mod photos;
mod transitions;
mod visibility;

pub use changes::*;
pub use export::*;
pub use page::*;
pub use photos::*;
pub use transitions::*;
pub use visibility::*;
