//! The GraphQL face of units: `Unit`, `UnitPhoto`, their inputs, and the unit queries and
//! mutations. Related rows (owner, photos, records, sale) come through per-request DataLoaders.

use async_graphql::{Context, Enum, InputObject, Object, Result, Upload, Value, ID};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::entity::{unit, BodyType, FuelType, Transmission, UnitStatus};
use super::loaders::{Owners, Photos, UnitId, Units};
use super::page::{PageReads, PageUnit, PhotoCard, PhotoDetails, Preloaded, UnitCard};
use super::service::{self, NewUnit, UnitChanges, UnitDetails, UnitOrderField as Field};
use crate::accounts::graphql::User;
use crate::accounts::loaders::{UserId, Users};
use crate::error::AppError;
use crate::graphql::in_place::{value, InPlace, PlainFields};
use crate::graphql::pagination::{self, OrderDirection, Page};
use crate::graphql::{loader, parse_id, parse_optional_id, read_file, state, to_id, viewer};
use crate::media::MediaStore;
use crate::money;
use crate::paging::{self, PageArgs};
use crate::sales::graphql::Sale;
use crate::sales::loaders::SaleOfUnit;
use crate::telemetry::graphql::{Dongle, TelemetrySample, TelemetrySummary};
use crate::telemetry::loaders::{DongleOf, Dongles, Summaries, SummaryOf};
use crate::telemetry::service as telemetry;
use crate::uploads::service as uploads;
use crate::workshop::graphql::ServiceRecord;
use crate::workshop::loaders::{History, HistoryOf};
use crate::workshop::service as workshop;

mod inputs;
mod objects;
mod operations;

pub use inputs::*;
pub use objects::*;
pub use operations::*;
