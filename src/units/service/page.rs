//! Search and pages: filters, orderings and the keyset page (its read model is `units::page`).

use super::*;

#[derive(Default, Clone)]
pub struct UnitFilter {
    pub search: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub year_min: Option<i32>,
    pub year_max: Option<i32>,
    pub price_min: Option<Decimal>,
    pub price_max: Option<Decimal>,
    pub mileage_max: Option<i32>,
    pub fuel_types: Option<Vec<FuelType>>,
    pub body_types: Option<Vec<BodyType>>,
    pub transmissions: Option<Vec<Transmission>>,
    pub statuses: Option<Vec<UnitStatus>>,
    pub is_listed: Option<bool>,
    pub owner_id: Option<Uuid>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UnitOrderField {
    #[default]
    CreatedAt,
    Price,
    Year,
    Mileage,
}

/// The ordering's keyset: its key (as an index covers it) and `id` as the tie-break.
pub fn unit_sort(field: UnitOrderField, descending: bool) -> Sort {
    let col = |c: unit::Column| Expr::col((unit::Entity, c));
    let (name, key, kind) = match field {
        UnitOrderField::CreatedAt => ("CREATED_AT", col(unit::Column::CreatedAt), KeyKind::Time),
        // Units without a price sort as -1, first ascending (`price_sort`, kept by `apply`).
        UnitOrderField::Price => ("PRICE", col(unit::Column::PriceSort), KeyKind::Int),
        UnitOrderField::Year => ("YEAR", col(unit::Column::Year), KeyKind::Int),
        UnitOrderField::Mileage => ("MILEAGE", col(unit::Column::Mileage), KeyKind::Int),
    };
    let dir = if descending { "DESC" } else { "ASC" };
    Sort::new(
        format!("UNIT_{name}_{dir}"),
        key,
        kind,
        col(unit::Column::Id),
        descending,
    )
}

pub(super) fn unit_key(field: UnitOrderField, u: &UnitCard) -> (i64, Uuid) {
    let key = match field {
        UnitOrderField::CreatedAt => paging::time_key(u.created_at),
        UnitOrderField::Price => u.price_sort,
        UnitOrderField::Year => i64::from(u.year),
        UnitOrderField::Mileage => i64::from(u.mileage),
    };
    (key, u.id)
}

pub(super) fn lower(col: unit::Column) -> Expr {
    Func::lower(Expr::col((unit::Entity, col))).into()
}

pub(super) fn filtered(
    audience: &Audience,
    filter: &UnitFilter,
) -> AppResult<Select<unit::Entity>> {
    let mut q = unit::Entity::find();
    // Listed units are visible to everyone: asking for them needs no visibility condition, which
    // keeps the showroom page on the (is_listed, created_at, id) index.
    let listed_only = filter.is_listed == Some(true);
    match audience {
        Audience::Staff => {}
        Audience::Customer(_) | Audience::Public if listed_only => {}
        Audience::Customer(me) => {
            q = q.filter(
                Condition::any()
                    .add(unit::Column::IsListed.eq(true))
                    .add(unit::Column::OwnerId.eq(*me)),
            )
        }
        Audience::Public => q = q.filter(unit::Column::IsListed.eq(true)),
    }
    if let Some(search) = input::optional("search", filter.search.as_deref(), 100)? {
        // VIN, make, model, trim and plate (see `unit::Model::search_text`).
        q = q.filter(crate::search::contains(unit::Column::SearchText, &search));
    }
    if let Some(make) = input::optional("make", filter.make.as_deref(), 60)? {
        q = q.filter(lower(unit::Column::Make).eq(make.to_lowercase()));
    }
    if let Some(model) = input::optional("model", filter.model.as_deref(), 60)? {
        q = q.filter(lower(unit::Column::Model).eq(model.to_lowercase()));
    }
    if let Some(v) = filter.year_min {
        q = q.filter(unit::Column::Year.gte(v));
    }
    if let Some(v) = filter.year_max {
        q = q.filter(unit::Column::Year.lte(v));
    }
    if let Some(v) = filter.price_min {
        q = q.filter(unit::Column::ListPriceCents.gte(money::cents("priceMin", v, false)?));
    }
    if let Some(v) = filter.price_max {
        q = q.filter(unit::Column::ListPriceCents.lte(money::cents("priceMax", v, false)?));
    }
    if let Some(v) = filter.mileage_max {
        q = q.filter(unit::Column::Mileage.lte(v));
    }
    if let Some(v) = &filter.fuel_types {
        q = q.filter(unit::Column::FuelType.is_in(v.iter().copied()));
    }
    if let Some(v) = &filter.body_types {
        q = q.filter(unit::Column::BodyType.is_in(v.iter().copied()));
    }
    if let Some(v) = &filter.transmissions {
        q = q.filter(unit::Column::Transmission.is_in(v.iter().copied()));
    }
    if let Some(v) = &filter.statuses {
        q = q.filter(unit::Column::Status.is_in(v.iter().copied()));
    }
    if let Some(v) = filter.is_listed {
        q = q.filter(unit::Column::IsListed.eq(v));
    }
    if let Some(v) = filter.owner_id {
        q = q.filter(unit::Column::OwnerId.eq(v));
    }
    Ok(q)
}

/// A page of the units the viewer sees, filtered (all conditions hold) and ordered, with the
/// count of all matches when `with_total`; `reads` says what comes with each unit's card.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn list_units(
    state: &AppState,
    viewer: &Viewer,
    filter: &UnitFilter,
    order: (UnitOrderField, bool),
    args: &PageArgs,
    with_total: bool,
    reads: PageReads,
) -> AppResult<(Slice<PageUnit>, Option<u64>)> {
    let audience = audience(viewer)?;
    let sort = unit_sort(order.0, order.1);
    let window = args.window(&sort)?;
    let query = filtered(&audience, filter)?;
    sort.fetch_with(
        &state.db,
        reads.columns(query),
        &window,
        with_total,
        |q| reads.join(q),
        |row| reads.decode(row),
        |u| unit_key(order.0, &u.card),
    )
    .await
}
