//! The rules of units (PRODUCT.md §2): who sees and changes which unit, VIN and mileage rules,
//! listing, status, photos; and the unit transitions other domains drive (sold, in service).

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    TransactionTrait,
};
use uuid::Uuid;

use super::entity::{unit, unit_photo, BodyType, FuelType, Transmission, UnitStatus};
use super::types::{self, Vin};
use crate::accounts::entity::user;
use crate::accounts::service::{self as accounts, UserCard};
use crate::app::AppState;
use crate::auth::viewer::Identity;
use crate::auth::Viewer;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::input;
use crate::media::Incoming;
use crate::money;
use crate::paging::{self, Columns, KeyKind, PageArgs, Slice, Sort};

/// At most this many photos per unit.
pub const MAX_PHOTOS: u64 = 30;

// ---------------------------------------------------------------------------------------------
// Who sees what
// ---------------------------------------------------------------------------------------------

/// What part of the inventory a viewer sees: staff everything, a customer their own units and
/// listed ones, anyone else the listed ones (the public showroom).
enum Audience {
    Staff,
    Customer(Uuid),
    Public,
}

fn audience(viewer: &Viewer) -> AppResult<Audience> {
    Ok(match viewer {
        Viewer::Anonymous => Audience::Public,
        Viewer::Invalid(err) => return Err(err.clone()),
        Viewer::User(identity) if identity.is_staff() => Audience::Staff,
        Viewer::User(identity) => Audience::Customer(identity.user_id),
    })
}

fn may_see(audience: &Audience, unit: &unit::Model) -> bool {
    match audience {
        Audience::Staff => true,
        Audience::Customer(me) => unit.is_listed || unit.owner_id == Some(*me),
        Audience::Public => unit.is_listed,
    }
}

/// Staff, or the unit's owner.
pub fn may_manage(identity: &Identity, unit: &unit::Model) -> bool {
    identity.is_staff() || unit.owner_id == Some(identity.user_id)
}

/// The unit, when the viewer may see it; `NOT_FOUND` otherwise (no existence leak).
pub async fn visible_unit(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<unit::Model> {
    let audience = audience(viewer)?;
    // `all` on the primary key, not `one`: see `paging::fetch` on SQLite and `LIMIT ?`.
    unit::Entity::find_by_id(id)
        .all(db)
        .await?
        .into_iter()
        .next()
        .filter(|u| may_see(&audience, u))
        .ok_or_else(|| AppError::not_found("Unit"))
}

/// The unit, when the viewer may change it: `NOT_FOUND` when they cannot see it, `FORBIDDEN` when
/// they see it but it is not theirs.
pub async fn managed_unit(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<(Identity, unit::Model)> {
    let identity = viewer.identity()?.clone();
    let unit = visible_unit(db, viewer, id).await?;
    if !may_manage(&identity, &unit) {
        return Err(AppError::forbidden(
            "Only the owner or staff may change this unit.",
        ));
    }
    Ok((identity, unit))
}

/// `managed_unit` for a unit an input names (`unitId`): one the viewer cannot see is
/// `BAD_USER_INPUT` on that field.
pub async fn managed_unit_named_in(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    field: &str,
    id: Uuid,
) -> AppResult<(Identity, unit::Model)> {
    managed_unit(db, viewer, id).await.map_err(|err| match err {
        AppError::NotFound(message) => AppError::BadInput {
            field: field.into(),
            message,
        },
        other => other,
    })
}

pub async fn unit(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<Option<unit::Model>> {
    match visible_unit(&state.db, viewer, id).await {
        Ok(unit) => Ok(Some(unit)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

// ---------------------------------------------------------------------------------------------
// Search and pages
// ---------------------------------------------------------------------------------------------

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

fn unit_key(field: UnitOrderField, u: &UnitCard) -> (i64, Uuid) {
    let key = match field {
        UnitOrderField::CreatedAt => paging::time_key(u.created_at),
        UnitOrderField::Price => u.price_sort,
        UnitOrderField::Year => i64::from(u.year),
        UnitOrderField::Mileage => i64::from(u.mileage),
    };
    (key, u.id)
}

fn lower(col: unit::Column) -> Expr {
    Func::lower(Expr::col((unit::Entity, col))).into()
}

fn filtered(audience: &Audience, filter: &UnitFilter) -> AppResult<Select<unit::Entity>> {
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
        let col = |c: unit::Column| Expr::col((unit::Entity, c));
        q = q.filter(input::contains_any(
            [
                unit::Column::Vin,
                unit::Column::Make,
                unit::Column::Model,
                unit::Column::Trim,
                unit::Column::LicensePlate,
            ]
            .map(col),
            &search,
        ));
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
const CARD_COLUMNS: [unit::Column; 12] = [
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
const PHOTO_IMAGE: [unit_photo::Column; 2] = [unit_photo::Column::Id, unit_photo::Column::Path];
const PHOTO_DETAILS: [unit_photo::Column; 4] = [
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
const OWNER_CARD: [user::Column; 4] = [
    user::Column::Id,
    user::Column::FirstName,
    user::Column::LastName,
    user::Column::AvatarPath,
];

/// Adds the owner's card (columns `o_*`) and the primary photo's (`p_*`) to a units query, LEFT
/// JOINed. The one place the units domain reads the accounts' table itself: it saves the page a
/// statement, the largest single cost of the units page (see `benches/units.rs`).
fn join_owner_and_primary_photo(
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

// The page's row, read by position: the unit's card or whole row, then (joined) the owner's
// card and the primary photo's, each in the order of its column list (the whole row in its
// entity's column order). `tests/units.rs` checks the page against `unit(id)`, whose rows
// sea-orm decodes by name.

fn read_card(c: &mut Columns) -> Result<UnitCard, DbErr> {
    Ok(UnitCard {
        id: c.read()?,
        vin: c.read()?,
        make: c.read()?,
        model: c.read()?,
        year: c.read()?,
        mileage: c.read()?,
        status: c.read()?,
        is_listed: c.read()?,
        list_price_cents: c.read()?,
        price_sort: c.read()?,
        owner_id: c.read()?,
        created_at: c.read()?,
    })
}

fn read_unit(c: &mut Columns) -> Result<unit::Model, DbErr> {
    Ok(unit::Model {
        id: c.read()?,
        vin: c.read()?,
        make: c.read()?,
        model: c.read()?,
        trim: c.read()?,
        year: c.read()?,
        mileage: c.read()?,
        fuel_type: c.read()?,
        body_type: c.read()?,
        transmission: c.read()?,
        color: c.read()?,
        license_plate: c.read()?,
        location: c.read()?,
        purchase_date: c.read()?,
        status: c.read()?,
        is_listed: c.read()?,
        list_price_cents: c.read()?,
        price_sort: c.read()?,
        notes: c.read()?,
        owner_id: c.read()?,
        created_at: c.read()?,
        updated_at: c.read()?,
    })
}

/// The joined owner's card; none when the unit has no owner.
fn read_owner(c: &mut Columns) -> Result<Option<UserCard>, DbErr> {
    let Some(id) = c.read()? else {
        c.skip(OWNER_CARD.len() - 1);
        return Ok(None);
    };
    Ok(Some(UserCard {
        id,
        first_name: c.read()?,
        last_name: c.read()?,
        avatar_path: c.read()?,
    }))
}

/// The joined primary photo, with its details when they were read; none when the unit has none.
/// Its columns come last in the row: nothing follows that a missing photo would shift.
fn read_photo(c: &mut Columns, details: bool) -> Result<Option<PhotoCard>, DbErr> {
    let Some(id) = c.read()? else {
        return Ok(None);
    };
    let path = c.read()?;
    let details = if details {
        Some(PhotoDetails {
            content_type: c.read()?,
            alt_text: c.read()?,
            position: c.read()?,
            is_primary: c.read()?,
        })
    } else {
        None
    };
    Ok(Some(PhotoCard { id, path, details }))
}

/// A page of the units the viewer sees, filtered (all conditions hold) and ordered, with the
/// count of all matches when `with_total`; `reads` says what comes with each unit's card.
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
    let mut page_query = query.clone();
    if !reads.whole_rows {
        page_query = page_query.select_only().columns(CARD_COLUMNS);
    }
    let slice = sort
        .fetch_with(
            &state.db,
            page_query,
            &window,
            |q| {
                if reads.owner_and_photo {
                    join_owner_and_primary_photo(q, reads.photo_details)
                }
            },
            |row| {
                let mut columns = Columns::new(row);
                let (card, whole) = if reads.whole_rows {
                    let whole = read_unit(&mut columns)?;
                    (UnitCard::from(&whole), Some(whole))
                } else {
                    (read_card(&mut columns)?, None)
                };
                let preloaded = if reads.owner_and_photo {
                    Some(Preloaded {
                        owner: read_owner(&mut columns)?,
                        primary_photo: read_photo(&mut columns, reads.photo_details)?,
                    })
                } else {
                    None
                };
                Ok(PageUnit {
                    card,
                    whole,
                    preloaded,
                })
            },
            |u| unit_key(order.0, &u.card),
        )
        .await?;
    let total = paging::count_if(with_total, &state.db, query).await?;
    Ok((slice, total))
}

// ---------------------------------------------------------------------------------------------
// Create, change, delete
// ---------------------------------------------------------------------------------------------

/// The descriptive fields a unit is created with or changed by; absent = unchanged on update,
/// and an empty string clears an optional text.
#[derive(Default, Clone)]
pub struct UnitDetails {
    pub make: Option<String>,
    pub model: Option<String>,
    pub trim: Option<String>,
    pub year: Option<i32>,
    pub mileage: Option<i32>,
    pub fuel_type: Option<FuelType>,
    pub body_type: Option<BodyType>,
    pub transmission: Option<Transmission>,
    pub color: Option<String>,
    pub license_plate: Option<String>,
    pub location: Option<String>,
    pub purchase_date: Option<NaiveDate>,
    pub is_listed: Option<bool>,
    pub list_price: Option<Decimal>,
    pub notes: Option<String>,
}

pub struct NewUnit {
    pub vin: String,
    pub details: UnitDetails,
    pub owner_id: Option<Uuid>,
}

fn this_year() -> i32 {
    clock::now().year()
}

/// Applies the details onto a unit (new or existing), checking each value.
fn apply(unit: &mut unit::Model, d: &UnitDetails) -> AppResult<()> {
    if let Some(v) = &d.make {
        unit.make = input::required("make", v, 60)?;
    }
    if let Some(v) = &d.model {
        unit.model = input::required("model", v, 60)?;
    }
    if let Some(v) = &d.trim {
        unit.trim = input::optional("trim", Some(v), 60)?;
    }
    if let Some(v) = d.year {
        unit.year = types::year(v, this_year())?;
    }
    if let Some(v) = d.mileage {
        unit.mileage = types::mileage(v)?;
    }
    if let Some(v) = d.fuel_type {
        unit.fuel_type = Some(v);
    }
    if let Some(v) = d.body_type {
        unit.body_type = Some(v);
    }
    if let Some(v) = d.transmission {
        unit.transmission = Some(v);
    }
    if let Some(v) = &d.color {
        unit.color = input::optional("color", Some(v), 40)?;
    }
    if let Some(v) = &d.license_plate {
        unit.license_plate =
            input::optional("licensePlate", Some(v), 20)?.map(|p| p.to_uppercase());
    }
    if let Some(v) = &d.location {
        unit.location = input::optional("location", Some(v), 120)?;
    }
    if let Some(v) = d.purchase_date {
        if v > clock::now().date_naive() {
            return Err(AppError::bad_input(
                "purchaseDate",
                "Purchase date cannot be in the future.",
            ));
        }
        unit.purchase_date = Some(v);
    }
    if let Some(v) = d.list_price {
        unit.list_price_cents = Some(money::cents("listPrice", v, true)?);
    }
    if let Some(v) = d.is_listed {
        unit.is_listed = v;
    }
    if let Some(v) = &d.notes {
        unit.notes = input::optional("notes", Some(v), 2000)?;
    }
    unit.price_sort = unit.list_price_cents.unwrap_or(-1);
    if unit.is_listed && unit.list_price_cents.is_none_or(|p| p <= 0) {
        return Err(AppError::bad_input(
            "listPrice",
            "A listed unit needs a list price greater than zero.",
        ));
    }
    Ok(())
}

fn vin_taken() -> AppError {
    AppError::conflict_on("vin", "A unit with this VIN already exists.")
}

/// Customers add units they own (never listed); staff add inventory (no owner, may be listed) or
/// units for a customer.
pub async fn create_unit(
    state: &AppState,
    viewer: &Viewer,
    new: NewUnit,
) -> AppResult<unit::Model> {
    let identity = viewer.identity()?;
    let vin = Vin::parse(&new.vin)?.into_inner();
    let owner_id = if identity.is_staff() {
        if let Some(owner) = new.owner_id {
            accounts::user_named_in(&state.db, "ownerId", owner).await?;
        }
        new.owner_id
    } else {
        if new.owner_id.is_some_and(|o| o != identity.user_id) {
            return Err(AppError::forbidden("Customers add units they own."));
        }
        if new.details.is_listed == Some(true) {
            return Err(AppError::forbidden("Only staff list units for sale."));
        }
        Some(identity.user_id)
    };
    let (Some(make), Some(model), Some(year), Some(mileage)) = (
        new.details.make.as_deref(),
        new.details.model.as_deref(),
        new.details.year,
        new.details.mileage,
    ) else {
        return Err(AppError::bad_input(
            "make",
            "Make, model, year and mileage are required.",
        ));
    };
    let now = clock::now();
    let mut unit = unit::Model {
        id: Uuid::now_v7(),
        vin,
        make: input::required("make", make, 60)?,
        model: input::required("model", model, 60)?,
        trim: None,
        year: types::year(year, this_year())?,
        mileage: types::mileage(mileage)?,
        fuel_type: None,
        body_type: None,
        transmission: None,
        color: None,
        license_plate: None,
        location: None,
        purchase_date: None,
        status: UnitStatus::Active,
        is_listed: false,
        list_price_cents: None,
        price_sort: -1,
        notes: None,
        owner_id,
        created_at: now,
        updated_at: now,
    };
    apply(&mut unit, &new.details)?;
    let taken = unit::Entity::find()
        .filter(unit::Column::Vin.eq(unit.vin.as_str()))
        .count(&state.db)
        .await?
        > 0;
    if taken {
        return Err(vin_taken());
    }
    let model: unit::ActiveModel = unit.clone().into();
    match model.insert(&state.db).await {
        Ok(created) => Ok(created),
        // Two creations with one VIN at the same instant: the unique index decides.
        Err(err) => Err(match AppError::from(err) {
            AppError::Conflict { .. } => vin_taken(),
            other => other,
        }),
    }
}

pub struct UnitChanges {
    pub details: UnitDetails,
    pub status: Option<UnitStatus>,
}

/// The owner or staff change a unit. Only staff list; only an admin lowers the mileage; a sold
/// unit keeps everything but its notes; status is set by hand to ACTIVE or INACTIVE only.
pub async fn update_unit(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    changes: UnitChanges,
) -> AppResult<unit::Model> {
    let (identity, before) = managed_unit(&state.db, viewer, id).await?;
    let d = &changes.details;
    if before.status == UnitStatus::Sold {
        let only_notes = UnitDetails {
            notes: d.notes.clone(),
            ..UnitDetails::default()
        };
        if d.beyond_notes() || changes.status.is_some_and(|s| s != UnitStatus::Sold) {
            return Err(AppError::conflict(
                "This unit is sold: only its notes can change.",
            ));
        }
        return save(state, &before, only_notes, None).await;
    }
    if !identity.is_staff() && d.is_listed.is_some_and(|l| l != before.is_listed) {
        return Err(AppError::forbidden("Only staff list units for sale."));
    }
    if let Some(m) = d.mileage {
        if m < before.mileage && identity.role != crate::accounts::Role::Admin {
            return Err(AppError::bad_input(
                "mileage",
                format!("Mileage cannot go down (it is {}).", before.mileage),
            ));
        }
    }
    let mut status = None;
    if let Some(s) = changes.status.filter(|s| *s != before.status) {
        match (before.status, s) {
            (_, UnitStatus::Sold | UnitStatus::InService) => {
                return Err(AppError::bad_input(
                    "status",
                    "SOLD and IN_SERVICE follow sales and service work; set ACTIVE or INACTIVE.",
                ))
            }
            (UnitStatus::InService, _) => {
                return Err(AppError::conflict(
                    "A service is in progress on this unit: its status follows the service.",
                ))
            }
            _ => status = Some(s),
        }
    }
    let going_inactive = status == Some(UnitStatus::Inactive)
        || (status.is_none() && before.status == UnitStatus::Inactive);
    if going_inactive && d.is_listed == Some(true) {
        return Err(AppError::conflict("An inactive unit cannot be listed."));
    }
    save(state, &before, d.clone(), status).await
}

impl UnitDetails {
    /// True when a field other than `notes` was given.
    fn beyond_notes(&self) -> bool {
        self.make.is_some()
            || self.model.is_some()
            || self.trim.is_some()
            || self.year.is_some()
            || self.mileage.is_some()
            || self.fuel_type.is_some()
            || self.body_type.is_some()
            || self.transmission.is_some()
            || self.color.is_some()
            || self.license_plate.is_some()
            || self.location.is_some()
            || self.purchase_date.is_some()
            || self.is_listed.is_some()
            || self.list_price.is_some()
    }
}

/// Writes the changes only if the unit's status is still what the checks saw (a sale or a
/// service starting meanwhile makes this a `CONFLICT`, never a listed sold unit).
async fn save(
    state: &AppState,
    before: &unit::Model,
    details: UnitDetails,
    status: Option<UnitStatus>,
) -> AppResult<unit::Model> {
    let mut after = before.clone();
    apply(&mut after, &details)?;
    if let Some(s) = status {
        after.status = s;
        if s == UnitStatus::Inactive {
            after.is_listed = false;
        }
    }
    after.updated_at = clock::now();
    let model = after.clone().into_active_model().reset_all();
    let result = unit::Entity::update_many()
        .set(model)
        .filter(unit::Column::Id.eq(before.id))
        .filter(unit::Column::Status.eq(before.status))
        .exec(&state.db)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::conflict(
            "This unit changed meanwhile (sold or in service). Reload it and try again.",
        ));
    }
    Ok(after)
}

/// The owner or staff delete a unit that has no sale and no service in progress.
pub async fn delete_unit(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<bool> {
    managed_unit(&state.db, viewer, id).await?;
    let txn = state.db.begin().await?;
    let unit = lock_unit(&txn, id).await?;
    // A sale exists exactly while the unit is SOLD (recording and deleting a sale move both).
    if unit.status == UnitStatus::Sold {
        return Err(AppError::conflict(
            "A sold unit cannot be deleted; make it INACTIVE instead.",
        ));
    }
    if unit.status == UnitStatus::InService {
        return Err(AppError::conflict(
            "A unit with a service in progress cannot be deleted; make it INACTIVE later.",
        ));
    }
    let paths: Vec<String> = photos_of(&txn, &[id])
        .await?
        .into_iter()
        .map(|p| p.path)
        .collect();
    unit::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    for path in paths {
        state.media.remove(&path).await;
    }
    Ok(true)
}

// ---------------------------------------------------------------------------------------------
// Transitions other domains drive, inside their transactions
// ---------------------------------------------------------------------------------------------

/// Takes the unit's write lock for the rest of the transaction (a no-op UPDATE: a row lock on
/// PostgreSQL, the write lock on SQLite, taken first so SQLite never has to upgrade a read lock),
/// then reads it. `NOT_FOUND` when it is gone.
pub async fn lock_unit(txn: &impl ConnectionTrait, id: Uuid) -> AppResult<unit::Model> {
    unit::Entity::update_many()
        .col_expr(unit::Column::Id, Expr::col(unit::Column::Id))
        .filter(unit::Column::Id.eq(id))
        .exec(txn)
        .await?;
    unit::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("Unit"))
}

fn status_name(s: UnitStatus) -> &'static str {
    match s {
        UnitStatus::Active => "ACTIVE",
        UnitStatus::InService => "IN_SERVICE",
        UnitStatus::Sold => "SOLD",
        UnitStatus::Inactive => "INACTIVE",
    }
}

/// Moves the unit to `to` if its status is one of `from`, in one conditional statement (so of
/// two moves at the same instant only one applies); `unlist` also takes it off sale. Returns
/// whether it moved.
async fn move_status(
    txn: &impl ConnectionTrait,
    id: Uuid,
    from: &[UnitStatus],
    to: UnitStatus,
    unlist: bool,
) -> AppResult<bool> {
    let mut update = unit::Entity::update_many()
        .col_expr(unit::Column::Status, Expr::val(to))
        .col_expr(unit::Column::UpdatedAt, Expr::val(clock::now()));
    if unlist {
        update = update.col_expr(unit::Column::IsListed, Expr::val(false));
    }
    let result = update
        .filter(unit::Column::Id.eq(id))
        .filter(unit::Column::Status.is_in(from.iter().copied()))
        .exec(txn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A sale is being recorded: ACTIVE → SOLD and unlisted; of two sales at the same instant
/// exactly one gets the unit.
pub async fn mark_sold(txn: &impl ConnectionTrait, id: Uuid) -> AppResult<()> {
    if move_status(txn, id, &[UnitStatus::Active], UnitStatus::Sold, true).await? {
        return Ok(());
    }
    let unit = unit::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("Unit"))?;
    Err(AppError::conflict_on(
        "unitId",
        match unit.status {
            UnitStatus::Sold => "This unit is already sold.".to_string(),
            other => format!("A unit that is {} cannot be sold.", status_name(other)),
        },
    ))
}

/// A sale was deleted: SOLD → ACTIVE.
pub async fn unmark_sold(txn: &impl ConnectionTrait, id: Uuid) -> AppResult<()> {
    move_status(txn, id, &[UnitStatus::Sold], UnitStatus::Active, false).await?;
    Ok(())
}

/// Service work started: ACTIVE (or already IN_SERVICE) → IN_SERVICE; a sold or inactive unit
/// cannot be worked on.
pub async fn enter_service(txn: &impl ConnectionTrait, id: Uuid) -> AppResult<()> {
    let from = [UnitStatus::Active, UnitStatus::InService];
    if move_status(txn, id, &from, UnitStatus::InService, false).await? {
        return Ok(());
    }
    Err(AppError::conflict(
        "Work cannot start on a unit that is sold or inactive.",
    ))
}

/// No service is in progress any more: IN_SERVICE → ACTIVE.
pub async fn leave_service(txn: &impl ConnectionTrait, id: Uuid) -> AppResult<()> {
    move_status(txn, id, &[UnitStatus::InService], UnitStatus::Active, false).await?;
    Ok(())
}

/// `SELECT id FROM units WHERE owner_id = …`: for other domains' "of the viewer's units" filters.
pub fn ids_owned_by(owner: Uuid) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(unit::Column::Id)
        .from(unit::Entity)
        .and_where(unit::Column::OwnerId.eq(owner))
        .to_owned()
}

/// Units by id, for DataLoaders (visibility is the caller's: a related unit is seen through the
/// record or sale that names it).
pub async fn units_by_id(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<unit::Model>> {
    Ok(unit::Entity::find()
        .filter(unit::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

// ---------------------------------------------------------------------------------------------
// Photos
// ---------------------------------------------------------------------------------------------

/// The photos of these units, each unit's in position order.
pub async fn photos_of(
    db: &impl ConnectionTrait,
    unit_ids: &[Uuid],
) -> AppResult<Vec<unit_photo::Model>> {
    Ok(unit_photo::Entity::find()
        .filter(unit_photo::Column::UnitId.is_in(unit_ids.iter().copied()))
        .order_by_asc(unit_photo::Column::UnitId)
        .order_by_asc(unit_photo::Column::Position)
        .order_by_asc(unit_photo::Column::Id)
        .all(db)
        .await?)
}

fn refuse_if_sold(unit: &unit::Model) -> AppResult<()> {
    if unit.status == UnitStatus::Sold {
        return Err(AppError::conflict(
            "This unit is sold: its photos cannot change.",
        ));
    }
    Ok(())
}

/// Adds a photo (checked by content) as the last one; the first photo of a unit is its primary.
pub async fn add_photo(
    state: &AppState,
    viewer: &Viewer,
    unit_id: Uuid,
    file: Incoming,
    alt_text: Option<String>,
) -> AppResult<(unit::Model, unit_photo::Model)> {
    let (_, unit) = managed_unit(&state.db, viewer, unit_id).await?;
    refuse_if_sold(&unit)?;
    let alt_text = input::optional("altText", alt_text.as_deref(), 200)?;
    let existing = unit_photo::Entity::find()
        .filter(unit_photo::Column::UnitId.eq(unit_id))
        .count(&state.db)
        .await?;
    if existing >= MAX_PHOTOS {
        return Err(AppError::conflict(format!(
            "A unit has at most {MAX_PHOTOS} photos."
        )));
    }
    let stored = state.media.store_image("file", "units", &file).await?;
    let inserted = async {
        let txn = state.db.begin().await?;
        let unit = lock_unit(&txn, unit_id).await?;
        refuse_if_sold(&unit)?;
        let photos = photos_of(&txn, &[unit_id]).await?;
        if photos.len() as u64 >= MAX_PHOTOS {
            return Err(AppError::conflict(format!(
                "A unit has at most {MAX_PHOTOS} photos."
            )));
        }
        let photo = unit_photo::ActiveModel {
            id: Set(Uuid::now_v7()),
            unit_id: Set(unit_id),
            path: Set(stored.path.clone()),
            content_type: Set(stored.content_type.to_string()),
            byte_size: Set(stored.size),
            alt_text: Set(alt_text),
            position: Set(photos.iter().map(|p| p.position + 1).max().unwrap_or(0)),
            is_primary: Set(photos.is_empty()),
            created_at: Set(clock::now()),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok((unit, photo))
    }
    .await;
    if inserted.is_err() {
        state.media.remove(&stored.path).await;
    }
    inserted
}

async fn managed_photo(
    state: &AppState,
    viewer: &Viewer,
    photo_id: Uuid,
) -> AppResult<unit_photo::Model> {
    viewer.identity()?;
    let photo = unit_photo::Entity::find_by_id(photo_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("Photo"))?;
    let (_, unit) = managed_unit(&state.db, viewer, photo.unit_id)
        .await
        .map_err(|err| match err {
            AppError::NotFound(_) => AppError::not_found("Photo"),
            other => other,
        })?;
    refuse_if_sold(&unit)?;
    Ok(photo)
}

/// Makes this photo the unit's primary one.
pub async fn set_primary_photo(
    state: &AppState,
    viewer: &Viewer,
    photo_id: Uuid,
) -> AppResult<unit::Model> {
    let photo = managed_photo(state, viewer, photo_id).await?;
    let txn = state.db.begin().await?;
    let unit = lock_unit(&txn, photo.unit_id).await?;
    // Clear first: the one-primary index holds after every statement.
    unit_photo::Entity::update_many()
        .col_expr(unit_photo::Column::IsPrimary, Expr::val(false))
        .filter(unit_photo::Column::UnitId.eq(photo.unit_id))
        .exec(&txn)
        .await?;
    let result = unit_photo::Entity::update_many()
        .col_expr(unit_photo::Column::IsPrimary, Expr::val(true))
        .filter(unit_photo::Column::Id.eq(photo_id))
        .exec(&txn)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::not_found("Photo"));
    }
    txn.commit().await?;
    Ok(unit)
}

/// Puts the unit's photos in the given order; the list must name each of its photos once.
pub async fn reorder_photos(
    state: &AppState,
    viewer: &Viewer,
    unit_id: Uuid,
    photo_ids: Vec<Uuid>,
) -> AppResult<unit::Model> {
    let (_, unit) = managed_unit(&state.db, viewer, unit_id).await?;
    refuse_if_sold(&unit)?;
    let txn = state.db.begin().await?;
    let unit = lock_unit(&txn, unit_id).await?;
    let mut current: Vec<Uuid> = photos_of(&txn, &[unit_id])
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    let mut given = photo_ids.clone();
    current.sort();
    given.sort();
    if current != given {
        return Err(AppError::bad_input(
            "photoIds",
            "List every photo of this unit exactly once.",
        ));
    }
    for (position, id) in photo_ids.iter().enumerate() {
        unit_photo::Entity::update_many()
            .col_expr(unit_photo::Column::Position, Expr::val(position as i32))
            .filter(unit_photo::Column::Id.eq(*id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(unit)
}

/// Deletes a photo; when it was the primary one, the next photo in order becomes primary.
pub async fn delete_photo(
    state: &AppState,
    viewer: &Viewer,
    photo_id: Uuid,
) -> AppResult<unit::Model> {
    let photo = managed_photo(state, viewer, photo_id).await?;
    let txn = state.db.begin().await?;
    let unit = lock_unit(&txn, photo.unit_id).await?;
    let result = unit_photo::Entity::delete_by_id(photo_id)
        .exec(&txn)
        .await?;
    if result.rows_affected == 0 {
        return Err(AppError::not_found("Photo"));
    }
    if photo.is_primary {
        if let Some(next) = photos_of(&txn, &[photo.unit_id]).await?.into_iter().next() {
            unit_photo::Entity::update_many()
                .col_expr(unit_photo::Column::IsPrimary, Expr::val(true))
                .filter(unit_photo::Column::Id.eq(next.id))
                .exec(&txn)
                .await?;
        }
    }
    txn.commit().await?;
    state.media.remove(&photo.path).await;
    Ok(unit)
}

/// Whether a stored unit photo may be served without a signature: its unit is listed.
pub async fn photo_is_public(db: &impl ConnectionTrait, path: &str) -> AppResult<bool> {
    let Some(photo) = unit_photo::Entity::find()
        .filter(unit_photo::Column::Path.eq(path))
        .one(db)
        .await?
    else {
        return Ok(false);
    };
    Ok(unit::Entity::find_by_id(photo.unit_id)
        .select_only()
        .column(unit::Column::IsListed)
        .into_tuple::<bool>()
        .one(db)
        .await?
        .unwrap_or(false))
}

/// The owner of a unit (`Some(None)`: dealership stock), or `None` when there is no such unit.
/// For other domains that tie something to a unit's owner (a chat about the unit).
pub async fn owner_of(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<Option<Uuid>>> {
    Ok(unit::Entity::find_by_id(id)
        .all(db)
        .await?
        .into_iter()
        .next()
        .map(|u| u.owner_id))
}
