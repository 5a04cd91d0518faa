//! Search and pages: filters, orderings and the keyset page with its joined owner and photo.

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

/// What the units page shows of a unit: a page that asks for nothing else reads only these
/// columns, and `Unit` loads the rest of the row if a field needs it. Also what the page's
/// cursors and the relations (owner, photos, records, sale) need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitCard {
    pub id: Uuid,
    pub vin: String,
    pub make: String,
    pub model: String,
    pub year: i32,
    pub mileage: i32,
    pub status: UnitStatus,
    pub is_listed: bool,
    pub list_price_cents: Option<i64>,
    pub price_sort: i64,
    pub owner_id: Option<Uuid>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The card's columns, in the order `read_card` reads them.
pub(super) const CARD_COLUMNS: [unit::Column; 12] = [
    unit::Column::Id,
    unit::Column::Vin,
    unit::Column::Make,
    unit::Column::Model,
    unit::Column::Year,
    unit::Column::Mileage,
    unit::Column::Status,
    unit::Column::IsListed,
    unit::Column::ListPriceCents,
    unit::Column::PriceSort,
    unit::Column::OwnerId,
    unit::Column::CreatedAt,
];

impl From<&unit::Model> for UnitCard {
    fn from(u: &unit::Model) -> Self {
        Self {
            id: u.id,
            vin: u.vin.clone(),
            make: u.make.clone(),
            model: u.model.clone(),
            year: u.year,
            mileage: u.mileage,
            status: u.status,
            is_listed: u.is_listed,
            list_price_cents: u.list_price_cents,
            price_sort: u.price_sort,
            owner_id: u.owner_id,
            created_at: u.created_at,
        }
    }
}

/// What `UnitPhoto` shows of a photo: the image, and (read when a field asks for them) its
/// details. Never the unit, size or upload time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhotoCard {
    pub id: Uuid,
    pub path: String,
    pub details: Option<PhotoDetails>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhotoDetails {
    pub content_type: String,
    pub alt_text: Option<String>,
    pub position: i32,
    pub is_primary: bool,
}

/// The photo card's columns, in the order `read_photo` reads them: the image, then the details.
pub(super) const PHOTO_IMAGE: [unit_photo::Column; 2] =
    [unit_photo::Column::Id, unit_photo::Column::Path];
pub(super) const PHOTO_DETAILS: [unit_photo::Column; 4] = [
    unit_photo::Column::ContentType,
    unit_photo::Column::AltText,
    unit_photo::Column::Position,
    unit_photo::Column::IsPrimary,
];

impl From<unit_photo::Model> for PhotoCard {
    fn from(p: unit_photo::Model) -> Self {
        Self {
            id: p.id,
            path: p.path,
            details: Some(PhotoDetails {
                content_type: p.content_type,
                alt_text: p.alt_text,
                position: p.position,
                is_primary: p.is_primary,
            }),
        }
    }
}

/// A unit's owner and primary photo, read with the page when the client asks for them.
#[derive(Clone, Debug)]
pub struct Preloaded {
    pub owner: Option<UserCard>,
    pub primary_photo: Option<PhotoCard>,
}

/// What a units page reads besides each unit's card.
#[derive(Clone, Copy, Debug, Default)]
pub struct PageReads {
    /// The units' whole rows.
    pub whole_rows: bool,
    /// Each unit's owner card and primary photo, joined.
    pub owner_and_photo: bool,
    /// With the primary photo, its details.
    pub photo_details: bool,
}

/// A unit of a page: its card, its whole row when read, what was read with it.
pub struct PageUnit {
    pub card: UnitCard,
    pub whole: Option<unit::Model>,
    pub preloaded: Option<Preloaded>,
}

/// The owner's columns a page reads: the card (`User` loads the rest if asked).
pub(super) const OWNER_CARD: [user::Column; 4] = [
    user::Column::Id,
    user::Column::FirstName,
    user::Column::LastName,
    user::Column::AvatarPath,
];

/// Adds the owner's card (columns `o_*`) and the primary photo's (`p_*`) to a units query, LEFT
/// JOINed. The one place the units domain reads the accounts' table itself: it saves the page a
/// statement, the largest single cost of the units page (see `benches/units.rs`).
pub(super) fn join_owner_and_primary_photo(
    query: &mut sea_orm::sea_query::SelectStatement,
    photo_details: bool,
) {
    use sea_orm::sea_query::{Alias, JoinType};
    use sea_orm::IdenStatic;
    query.join(
        JoinType::LeftJoin,
        user::Entity,
        Expr::col((user::Entity, user::Column::Id)).equals((unit::Entity, unit::Column::OwnerId)),
    );
    // The primary flag as a bare column, not `= ?`: a bound value compared against the partial
    // index's condition would make SQLite re-prepare the statement on every run.
    query.join(
        JoinType::LeftJoin,
        unit_photo::Entity,
        Expr::col((unit_photo::Entity, unit_photo::Column::UnitId))
            .equals((unit::Entity, unit::Column::Id))
            .and(Expr::col((
                unit_photo::Entity,
                unit_photo::Column::IsPrimary,
            ))),
    );
    for col in OWNER_CARD {
        query.expr_as(
            Expr::col((user::Entity, col)),
            Alias::new(format!("o_{}", col.as_str())),
        );
    }
    let details = if photo_details {
        &PHOTO_DETAILS[..]
    } else {
        &[]
    };
    for &col in PHOTO_IMAGE.iter().chain(details) {
        query.expr_as(
            Expr::col((unit_photo::Entity, col)),
            Alias::new(format!("p_{}", col.as_str())),
        );
    }
}
