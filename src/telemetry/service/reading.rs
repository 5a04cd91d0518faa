//! Reading telemetry back: a unit's samples by time range, oldest first, and the summary of a
//! range computed by the database.

use std::collections::HashMap;

use sea_orm::sea_query::SelectStatement;
use sea_orm::{FromQueryResult, QuerySelect, QueryTrait};

use super::*;
use crate::paging::{KeyKind, PageArgs, Slice, Sort};

/// A unit's samples, oldest first.
fn sample_sort() -> Sort {
    Sort::new(
        "TELEMETRY_RECORDED_AT",
        Expr::col((sample::Entity, sample::Column::RecordedUs)),
        KeyKind::Int,
        Expr::col((sample::Entity, sample::Column::Id)),
        false,
    )
}

/// A time range `[from, to)` as microseconds; `to` after `from`.
pub fn range(from: DateTime<Utc>, to: DateTime<Utc>) -> AppResult<(i64, i64)> {
    if to <= from {
        return Err(AppError::bad_input("to", "The range ends after it starts."));
    }
    Ok((from.timestamp_micros(), to.timestamp_micros()))
}

/// A page of a unit's samples in `[from, to)` (the unit's owner or staff).
#[tracing::instrument(skip_all, fields(viewer = %viewer, unit = %unit))]
pub async fn samples(
    state: &AppState,
    viewer: &Viewer,
    (unit, owner): (Uuid, Option<Uuid>),
    (from_us, to_us): (i64, i64),
    args: &PageArgs,
    with_total: bool,
) -> AppResult<(Slice<sample::Model>, Option<u64>)> {
    if !may_read(viewer, owner) {
        return Err(AppError::forbidden(
            "Only the unit's owner and staff read its telemetry.",
        ));
    }
    let query = sample::Entity::find()
        .filter(sample::Column::UnitId.eq(unit))
        .filter(sample::Column::RecordedUs.gte(from_us))
        .filter(sample::Column::RecordedUs.lt(to_us));
    sample_sort()
        .page(&state.db, query, args, with_total, |s| {
            (s.recorded_us, s.id)
        })
        .await
}

/// The figures of a unit's samples over a range.
#[derive(Clone, Debug, Default, PartialEq, FromQueryResult)]
pub struct Summary {
    pub unit_id: Uuid,
    pub samples: i64,
    pub first_us: Option<i64>,
    pub last_us: Option<i64>,
    /// Highest odometer reading less the lowest.
    pub distance_km: Option<f64>,
    pub max_speed_kph: Option<f64>,
    /// The mean of the speed readings.
    pub average_speed_kph: Option<f64>,
    /// Each sample's fuel rate over the time to the next sample, summed.
    pub fuel_used_liters: Option<f64>,
}

/// The summaries of these units over one range, in one statement: a window function pairs each
/// sample with the one after it (for the fuel used between them), then one row per unit.
#[tracing::instrument(skip_all, fields(units = units.len()))]
pub async fn summaries(
    db: &impl ConnectionTrait,
    units: &[Uuid],
    (from_us, to_us): (i64, i64),
) -> AppResult<HashMap<Uuid, Summary>> {
    let ordered = "OVER (PARTITION BY unit_id ORDER BY recorded_us)";
    let inner: SelectStatement = sample::Entity::find()
        .select_only()
        .column(sample::Column::UnitId)
        .column(sample::Column::RecordedUs)
        .column(sample::Column::SpeedKph)
        .column(sample::Column::OdometerKm)
        .column_as(
            // One window function, not two: LEAD of the time (rate × time to the next sample)
            // sums the same as LAG of both, and SQLite takes about a third less time for it.
            Expr::cust(format!(
                "fuel_rate_lph * (LEAD(recorded_us) {ordered} - recorded_us) \
                 / CAST(3600000000 AS DOUBLE PRECISION)"
            )),
            "fuel",
        )
        .filter(sample::Column::UnitId.is_in(units.iter().copied()))
        .filter(sample::Column::RecordedUs.gte(from_us))
        .filter(sample::Column::RecordedUs.lt(to_us))
        .into_query();
    let s = Alias::new("s");
    let outer = Query::select()
        .column((s.clone(), Alias::new("unit_id")))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("samples"))
        .expr_as(Expr::cust("MIN(recorded_us)"), Alias::new("first_us"))
        .expr_as(Expr::cust("MAX(recorded_us)"), Alias::new("last_us"))
        .expr_as(
            Expr::cust("MAX(odometer_km) - MIN(odometer_km)"),
            Alias::new("distance_km"),
        )
        .expr_as(Expr::cust("MAX(speed_kph)"), Alias::new("max_speed_kph"))
        .expr_as(
            Expr::cust("AVG(speed_kph)"),
            Alias::new("average_speed_kph"),
        )
        .expr_as(Expr::cust("SUM(fuel)"), Alias::new("fuel_used_liters"))
        .from_subquery(inner, s.clone())
        .group_by_col((s, Alias::new("unit_id")))
        .to_owned();
    let statement = db.get_database_backend().build(&outer);
    let rows = db.query_all_raw(statement).await?;
    rows.iter()
        .map(|row| {
            let summary = Summary::from_query_result(row, "")?;
            Ok((summary.unit_id, summary))
        })
        .collect::<Result<HashMap<_, _>, sea_orm::DbErr>>()
        .map_err(Into::into)
}
