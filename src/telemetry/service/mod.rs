//! The rules of telemetry: linking a dongle to a unit (one each), taking batches of samples
//! (duplicates skipped by the database, mileage raised in the same transaction), and reading
//! them back by time range, with a summary computed in SQL.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait,
};
use uuid::Uuid;

use super::entity::{dongle, sample, DongleConnection};
use crate::app::AppState;
use crate::auth::Viewer;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::input;
use crate::units::entity::unit;
use crate::units::service as units;

mod reading;

pub use reading::*;

/// At most this many samples per batch.
pub const MAX_BATCH: usize = 5_000;
/// How far ahead of the server's clock a sample may be (a device's clock drifts).
const CLOCK_SKEW: TimeDelta = TimeDelta::seconds(60);
/// The highest odometer reading taken, as the units' mileage bound (km).
const MAX_ODOMETER_KM: f64 = 10_000_000.0;
/// The highest speed and fuel rate taken.
const MAX_RATE: f64 = 1_000.0;

/// May the viewer read this unit's dongle and telemetry (its owner, or staff)?
pub fn may_read(viewer: &Viewer, owner: Option<Uuid>) -> bool {
    viewer.is_staff() || (viewer.user_id().is_some() && viewer.user_id() == owner)
}

async fn dongle_of_unit(db: &impl ConnectionTrait, unit: Uuid) -> AppResult<Option<dongle::Model>> {
    Ok(dongle::Entity::find()
        .filter(dongle::Column::UnitId.eq(unit))
        .one(db)
        .await?)
}

/// The unit's owner or staff link a dongle. The same dongle again only changes its connection;
/// a unit with another dongle, or a dongle on another unit, is `CONFLICT`.
#[tracing::instrument(skip_all, fields(viewer = %viewer, unit_id = %unit_id))]
pub async fn link_dongle(
    state: &AppState,
    viewer: &Viewer,
    unit_id: Uuid,
    dongle_id: &str,
    connection: DongleConnection,
) -> AppResult<dongle::Model> {
    let unit = units::own_unit(&state.db, viewer, unit_id, "Unit").await?;
    let dongle_id = input::required("dongleId", dongle_id, 64)?;
    if let Some(mut linked) = dongle_of_unit(&state.db, unit.id).await? {
        if linked.dongle_id != dongle_id {
            return Err(AppError::conflict_on(
                "unitId",
                "This unit has another dongle; unlink it first.",
            ));
        }
        linked.connection_type = connection;
        let active: dongle::ActiveModel = linked.clone().into();
        let mut active = active.reset_all();
        active.id = sea_orm::ActiveValue::Unchanged(linked.id);
        return Ok(active.update(&state.db).await?);
    }
    let row = dongle::Model {
        id: Uuid::now_v7(),
        unit_id: unit.id,
        dongle_id,
        connection_type: connection,
        linked_at: clock::now(),
        last_sample_at: None,
    };
    let active: dongle::ActiveModel = row.into();
    // The unique indexes decide between links at the same instant.
    active
        .insert(&state.db)
        .await
        .map_err(|err| match AppError::from(err) {
            AppError::Conflict { .. } => AppError::conflict_on(
                "dongleId",
                "This dongle is linked to another unit (or this unit to another dongle).",
            ),
            other => other,
        })
}

/// The unit's owner or staff unlink its dongle; its samples stay with the unit.
#[tracing::instrument(skip_all, fields(viewer = %viewer, unit_id = %unit_id))]
pub async fn unlink_dongle(state: &AppState, viewer: &Viewer, unit_id: Uuid) -> AppResult<bool> {
    let unit = units::own_unit(&state.db, viewer, unit_id, "Unit").await?;
    let removed = dongle::Entity::delete_many()
        .filter(dongle::Column::UnitId.eq(unit.id))
        .exec(&state.db)
        .await?;
    if removed.rows_affected == 0 {
        return Err(AppError::not_found("Dongle"));
    }
    Ok(true)
}

/// The dongles of these units.
pub async fn dongles_of(
    db: &impl ConnectionTrait,
    units: &[Uuid],
) -> AppResult<Vec<dongle::Model>> {
    Ok(dongle::Entity::find()
        .filter(dongle::Column::UnitId.is_in(units.iter().copied()))
        .all(db)
        .await?)
}

/// One sample as sent.
pub struct SampleInput {
    pub recorded_at: DateTime<Utc>,
    pub speed_kph: Option<f64>,
    pub fuel_rate_lph: Option<f64>,
    pub odometer_km: Option<f64>,
}

/// What a batch did.
pub struct Ingested {
    pub accepted: u64,
    pub duplicates: u64,
    pub mileage: i32,
}

/// A reading in `0..=max`, or `BAD_USER_INPUT` on `field`.
fn reading(field: String, value: Option<f64>, max: f64) -> AppResult<Option<f64>> {
    match value {
        Some(v) if !v.is_finite() || !(0.0..=max).contains(&v) => Err(AppError::bad_input(
            field,
            format!("A reading runs from 0 to {max}."),
        )),
        other => Ok(other),
    }
}

/// A checked sample: `(recorded_us, speed, fuel rate, odometer)`.
type Row = (i64, Option<f64>, Option<f64>, Option<f64>);

/// The samples, checked.
fn checked(samples: &[SampleInput], now: DateTime<Utc>) -> AppResult<Vec<Row>> {
    if samples.len() > MAX_BATCH {
        return Err(AppError::bad_input(
            "samples",
            format!("Send at most {MAX_BATCH} samples at once."),
        ));
    }
    samples
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if s.recorded_at > now + CLOCK_SKEW {
                return Err(AppError::bad_input(
                    format!("samples.{i}.recordedAt"),
                    "A sample cannot be recorded in the future.",
                ));
            }
            Ok((
                s.recorded_at.timestamp_micros(),
                reading(format!("samples.{i}.speedKph"), s.speed_kph, MAX_RATE)?,
                reading(
                    format!("samples.{i}.fuelRateLph"),
                    s.fuel_rate_lph,
                    MAX_RATE,
                )?,
                reading(
                    format!("samples.{i}.odometerKm"),
                    s.odometer_km,
                    MAX_ODOMETER_KM,
                )?,
            ))
        })
        .collect()
}

/// The unit's owner or staff send a batch of a linked dongle's samples: stored in one
/// statement that skips those already stored, and the unit's mileage raised to the highest
/// odometer reading, in one transaction.
#[tracing::instrument(skip_all, fields(viewer = %viewer, samples = samples.len()))]
pub async fn ingest(
    state: &AppState,
    viewer: &Viewer,
    dongle_id: &str,
    samples: &[SampleInput],
) -> AppResult<Ingested> {
    viewer.identity()?;
    let rows = checked(samples, clock::now())?;
    let dongle = dongle::Entity::find()
        .filter(dongle::Column::DongleId.eq(dongle_id.trim()))
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("Dongle"))?;
    let unit = units::own_unit(&state.db, viewer, dongle.unit_id, "Dongle").await?;
    let highest = rows
        .iter()
        .filter_map(|r| r.3)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let latest = rows.iter().map(|r| r.0).max();
    let txn = state.db.begin().await?;
    let accepted = if rows.is_empty() {
        0
    } else {
        insert_new(&txn, &unit, &dongle, rows).await?
    };
    let mileage = match highest {
        // Rounded down: the odometer passed that whole kilometre.
        Some(km) => units::raise_mileage(&txn, unit.id, km.floor() as i32).await?,
        None => unit.mileage,
    };
    if let Some(latest) = latest.and_then(DateTime::<Utc>::from_timestamp_micros) {
        dongle::Entity::update_many()
            .col_expr(dongle::Column::LastSampleAt, Expr::val(latest))
            .filter(dongle::Column::Id.eq(dongle.id))
            .filter(
                dongle::Column::LastSampleAt
                    .is_null()
                    .or(dongle::Column::LastSampleAt.lt(latest)),
            )
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(Ingested {
        accepted,
        duplicates: samples.len() as u64 - accepted,
        mileage,
    })
}

/// Inserts the samples not stored yet, in one statement; how many were new. The unit and the
/// dongle are bound once (`INSERT … SELECT … FROM (VALUES …)`), five parameters a row, so 5,000
/// samples stay under SQLite's 32,766 parameters.
async fn insert_new(
    db: &impl ConnectionTrait,
    unit: &unit::Model,
    dongle: &dongle::Model,
    rows: Vec<Row>,
) -> AppResult<u64> {
    let v = Alias::new("v");
    let column = |n: u8| Expr::col((v.clone(), Alias::new(format!("column{n}"))));
    let values = rows.into_iter().map(|(at, speed, fuel, odometer)| {
        sea_orm::sea_query::ValueTuple::Many(vec![
            Uuid::now_v7().into(),
            at.into(),
            speed.into(),
            fuel.into(),
            odometer.into(),
        ])
    });
    let select = Query::select()
        .expr(column(1))
        .expr(Expr::val(unit.id))
        .expr(Expr::val(dongle.dongle_id.clone()))
        .expr(column(2))
        .expr(column(3))
        .expr(column(4))
        .expr(column(5))
        .from_values(values, v.clone())
        // SQLite reads `ON CONFLICT` after `INSERT … SELECT` only after a WHERE clause.
        .and_where(Expr::val(true))
        .to_owned();
    let mut insert = Query::insert();
    insert
        .into_table(sample::Entity)
        .columns([
            sample::Column::Id,
            sample::Column::UnitId,
            sample::Column::DongleId,
            sample::Column::RecordedUs,
            sample::Column::SpeedKph,
            sample::Column::FuelRateLph,
            sample::Column::OdometerKm,
        ])
        .select_from(select)
        .map_err(AppError::internal)?
        .on_conflict(
            OnConflict::columns([sample::Column::DongleId, sample::Column::RecordedUs])
                .do_nothing()
                .to_owned(),
        );
    let statement = db.get_database_backend().build(&insert);
    Ok(db.execute_raw(statement).await?.rows_affected())
}
