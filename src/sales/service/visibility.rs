//! Who sees which sale: the list, one sale, and the loaders' batches.

use super::*;

/// Sales newest first by the day of sale.
pub fn sale_sort() -> Sort {
    Sort::new(
        "SALE_SOLD_ON_DESC",
        Expr::col((sale::Entity, sale::Column::SoldOn)),
        KeyKind::Date,
        Expr::col((sale::Entity, sale::Column::Id)),
        true,
    )
}

fn sale_key(s: &sale::Model) -> (i64, Uuid) {
    (paging::date_key(s.sold_on), s.id)
}

/// Staff see every sale; a customer the sales of their units and their own purchases.
fn may_see(identity: &Identity, sale: &sale::Model, unit_owner: Option<Uuid>) -> bool {
    identity.is_staff()
        || sale.buyer_id == Some(identity.user_id)
        || unit_owner == Some(identity.user_id)
}

pub(super) async fn visible_sale(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(Identity, sale::Model, Option<unit::Model>)> {
    let identity = viewer.identity()?.clone();
    let sale = sale::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("Sale"))?;
    let unit = units::units_by_id(db, &[sale.unit_id])
        .await?
        .into_iter()
        .next();
    if !may_see(&identity, &sale, unit.as_ref().and_then(|u| u.owner_id)) {
        return Err(AppError::not_found("Sale"));
    }
    Ok((identity, sale, unit))
}

#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn sale(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<Option<sale::Model>> {
    match visible_sale(&state.db, viewer, id).await {
        Ok((_, sale, _)) => Ok(Some(sale)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

#[derive(Default, Clone)]
pub struct SaleFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub salesperson_id: Option<Uuid>,
    pub unit_id: Option<Uuid>,
}

pub(super) fn filtered(identity: &Identity, filter: &SaleFilter) -> Select<sale::Entity> {
    let mut q = sale::Entity::find();
    if !identity.is_staff() {
        q = q.filter(
            Condition::any()
                .add(sale::Column::BuyerId.eq(identity.user_id))
                .add(
                    Expr::col((sale::Entity, sale::Column::UnitId))
                        .in_subquery(units::ids_owned_by(identity.user_id)),
                ),
        );
    }
    if let Some(v) = filter.from {
        q = q.filter(sale::Column::SoldOn.gte(v));
    }
    if let Some(v) = filter.to {
        q = q.filter(sale::Column::SoldOn.lte(v));
    }
    if let Some(v) = filter.salesperson_id {
        q = q.filter(sale::Column::SalespersonId.eq(v));
    }
    if let Some(v) = filter.unit_id {
        q = q.filter(sale::Column::UnitId.eq(v));
    }
    q
}

#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn list_sales(
    state: &AppState,
    viewer: &Viewer,
    filter: &SaleFilter,
    args: &PageArgs,
    with_total: bool,
) -> AppResult<(Slice<sale::Model>, Option<u64>)> {
    let identity = viewer.identity()?;
    sale_sort()
        .page(
            &state.db,
            filtered(identity, filter),
            args,
            with_total,
            sale_key,
        )
        .await
}

/// The sales the viewer sees (staff: all; customers: their purchases and their units' sales;
/// anyone else: none), as a query to narrow further; `None` when the viewer sees none.
pub(super) fn visible_sales(viewer: &Viewer) -> AppResult<Option<Select<sale::Entity>>> {
    let identity = match viewer {
        Viewer::Anonymous => return Ok(None),
        _ => viewer.identity()?,
    };
    Ok(Some(filtered(identity, &SaleFilter::default())))
}

/// The sales with these ids that the viewer sees (for the sales loader).
#[tracing::instrument(skip_all, fields(viewer = %viewer, ids = ids.len()))]
pub async fn visible_sales_by_id(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    ids: &[Uuid],
) -> AppResult<Vec<sale::Model>> {
    let ids = sale::Column::Id.is_in(ids.iter().copied());
    visible_sales_where(db, viewer, ids).await
}

/// The sales of these units that the viewer sees (for the loader behind `Unit.sale`).
#[tracing::instrument(skip_all, fields(viewer = %viewer, unit_ids = unit_ids.len()))]
pub async fn visible_sales_of_units(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    unit_ids: &[Uuid],
) -> AppResult<Vec<sale::Model>> {
    let units = sale::Column::UnitId.is_in(unit_ids.iter().copied());
    visible_sales_where(db, viewer, units).await
}

/// The sales the viewer sees that meet `condition`.
async fn visible_sales_where(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    condition: sea_orm::sea_query::SimpleExpr,
) -> AppResult<Vec<sale::Model>> {
    let Some(sales) = visible_sales(viewer)? else {
        return Ok(Vec::new());
    };
    Ok(sales.filter(condition).all(db).await?)
}

/// The units of those of these sales the viewer sees: a sale shows its unit to whoever sees the
/// sale (its buyer, after the unit left the showroom). One statement.
#[tracing::instrument(skip_all, fields(viewer = %viewer, sale_ids = sale_ids.len()))]
pub async fn units_of_visible_sales(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    sale_ids: &[Uuid],
) -> AppResult<Vec<unit::Model>> {
    let Some(sales) = visible_sales(viewer)? else {
        return Ok(Vec::new());
    };
    let unit_ids = sales
        .filter(sale::Column::Id.is_in(sale_ids.iter().copied()))
        .select_only()
        .column(sale::Column::UnitId)
        .into_query();
    units::units_selected_by(db, unit_ids).await
}
