//! The sales summary and staff metrics, added up by the database.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
}

/// The first day of the period that holds `d` (weeks start on Monday).
pub fn period_start(period: Period, d: NaiveDate) -> NaiveDate {
    match period {
        Period::Day => d,
        Period::Week => d - Days::new(u64::from(d.weekday().num_days_from_monday())),
        Period::Month => d.with_day(1).unwrap_or(d),
    }
}

fn next_period(period: Period, d: NaiveDate) -> Option<NaiveDate> {
    match period {
        Period::Day => d.checked_add_days(Days::new(1)),
        Period::Week => d.checked_add_days(Days::new(7)),
        Period::Month => d.checked_add_months(Months::new(1)),
    }
}

pub struct Bucket {
    pub period_start: NaiveDate,
    pub count: i64,
    pub revenue_cents: i64,
}

pub struct Summary {
    pub count: i64,
    pub revenue_cents: i64,
    pub commission_cents: i64,
    pub buckets: Vec<Bucket>,
}

impl Summary {
    /// Mean price rounded to the cent; none without sales.
    pub fn average_price(&self) -> Option<Decimal> {
        (self.count > 0)
            .then(|| (money::decimal(self.revenue_cents) / Decimal::from(self.count)).round_dp(2))
    }
}

const MAX_BUCKETS: usize = 1000;

/// Sales in `[from, to]` with one bucket per period in the range (empty ones included, so a chart
/// has no gaps). Staff only.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn sales_summary(
    state: &AppState,
    viewer: &Viewer,
    from: NaiveDate,
    to: NaiveDate,
    period: Period,
) -> AppResult<Summary> {
    viewer.staff()?;
    if to < from {
        return Err(AppError::bad_input(
            "to",
            "The end date comes before the start date.",
        ));
    }
    let mut buckets: BTreeMap<NaiveDate, Bucket> = BTreeMap::new();
    let mut start = Some(period_start(period, from));
    while let Some(s) = start.filter(|s| *s <= to) {
        if buckets.len() >= MAX_BUCKETS {
            return Err(AppError::bad_input(
                "groupBy",
                format!(
                    "At most {MAX_BUCKETS} periods; choose a longer period or a shorter range."
                ),
            ));
        }
        buckets.insert(
            s,
            Bucket {
                period_start: s,
                count: 0,
                revenue_cents: 0,
            },
        );
        start = next_period(period, s);
    }
    // Added up by the database, one row per day with sales; days fall into periods here.
    let days: Vec<(i64, i64, i64, NaiveDate)> = totals(
        sale::Entity::find()
            .filter(sale::Column::SoldOn.gte(from))
            .filter(sale::Column::SoldOn.lte(to)),
    )
    .column(sale::Column::SoldOn)
    .group_by(sale::Column::SoldOn)
    .into_tuple()
    .all(&state.db)
    .await?;
    let mut summary = Summary {
        count: 0,
        revenue_cents: 0,
        commission_cents: 0,
        buckets: Vec::new(),
    };
    for (count, revenue, commission, day) in days {
        summary.count += count;
        summary.revenue_cents += revenue;
        summary.commission_cents += commission;
        if let Some(b) = buckets.get_mut(&period_start(period, day)) {
            b.count += count;
            b.revenue_cents += revenue;
        }
    }
    summary.buckets = buckets.into_values().collect();
    Ok(summary)
}

/// The count, revenue and commission of the query's sales, summed by the database (as BIGINT:
/// PostgreSQL's SUM of a BIGINT is NUMERIC). Other columns (a GROUP BY key) come after.
fn totals(query: Select<sale::Entity>) -> Select<sale::Entity> {
    let sum = |c: sale::Column| {
        Expr::cust(format!(
            "CAST(COALESCE(SUM({}), 0) AS BIGINT)",
            sea_orm::IdenStatic::as_str(&c)
        ))
    };
    query
        .select_only()
        .column_as(Expr::col(sale::Column::Id).count(), "count")
        .column_as(sum(sale::Column::PriceCents), "revenue")
        .column_as(sum(sale::Column::CommissionCents), "commission")
}

pub struct StaffMetrics {
    pub user: Person,
    pub sales_count: i64,
    pub revenue_cents: i64,
    pub commission_cents: i64,
    pub services_completed: i64,
    pub bookings_handled: i64,
}

/// One staff member's sales and completed services in the period. Admins see anyone's; a staff
/// member sees their own.
#[tracing::instrument(skip_all, fields(viewer = %viewer, user_id = %user_id))]
pub async fn staff_metrics(
    state: &AppState,
    viewer: &Viewer,
    user_id: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> AppResult<StaffMetrics> {
    let identity = viewer.staff()?;
    if identity.role != Role::Admin && identity.user_id != user_id {
        return Err(AppError::forbidden(
            "Staff see their own metrics; an administrator sees everyone's.",
        ));
    }
    let user = accounts::staff_member(&state.db, user_id)
        .await?
        .ok_or_else(|| AppError::not_found("Staff member"))?;
    let filter = SaleFilter {
        from,
        to,
        salesperson_id: Some(user_id),
        unit_id: None,
    };
    let (sales_count, revenue_cents, commission_cents): (i64, i64, i64) =
        totals(filtered(identity, &filter))
            .into_tuple()
            .one(&state.db)
            .await?
            .unwrap_or_default();
    let services = workshop::completed_by(&state.db, user_id, from, to).await?;
    let bookings_handled = bookings::handled_by(&state.db, user_id, from, to).await?;
    Ok(StaffMetrics {
        user: Person::seen_by(viewer, user),
        sales_count,
        revenue_cents,
        commission_cents,
        services_completed: i64::try_from(services).unwrap_or(i64::MAX),
        bookings_handled,
    })
}

/// The unit and the buyer of a sale, if the sale exists.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn sale_parties(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> AppResult<Option<(Uuid, Option<Uuid>)>> {
    Ok(sale::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|s| (s.unit_id, s.buyer_id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_start_on_the_first_day_monday_or_the_first() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 19).expect("date"); // a Thursday
        assert_eq!(period_start(Period::Day, d), d);
        assert_eq!(
            period_start(Period::Week, d),
            NaiveDate::from_ymd_opt(2026, 11, 16).expect("date")
        );
        assert_eq!(
            period_start(Period::Month, d),
            NaiveDate::from_ymd_opt(2026, 11, 1).expect("date")
        );
    }
}
