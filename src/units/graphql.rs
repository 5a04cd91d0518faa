//! The GraphQL face of units: `Unit`, `UnitPhoto`, their inputs, and the unit queries and
//! mutations. Related rows (owner, photos, records, sale) come through per-request DataLoaders.

use async_graphql::{Context, Enum, InputObject, Object, Result, Upload, Value, ID};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::entity::{unit, BodyType, FuelType, Transmission, UnitStatus};
use super::service::{
    self, NewUnit, PageReads, PageUnit, PhotoCard, PhotoDetails, Preloaded, UnitCard, UnitChanges,
    UnitDetails, UnitOrderField as Field,
};
use crate::accounts::graphql::User;
use crate::error::AppError;
use crate::graphql::in_place::{value, InPlace, PlainFields};
use crate::graphql::pagination::{self, OrderDirection, Page};
use crate::graphql::{loaders, parse_id, parse_optional_id, read_upload, state, to_id, viewer};
use crate::media::MediaStore;
use crate::money;
use crate::paging::{self, PageArgs};
use crate::sales::graphql::Sale;
use crate::sales::service as sales;
use crate::workshop::graphql::ServiceRecord;
use crate::workshop::service as workshop;

/// A unit. The units page may read only its card, with its owner and primary photo; the rest of
/// the row is then loaded (batched with the page's other units) by the first field that needs it.
pub struct Unit {
    card: UnitCard,
    whole: OnceCell<unit::Model>,
    preloaded: Option<Preloaded>,
}

impl Unit {
    pub fn new(model: unit::Model) -> Self {
        Self {
            card: UnitCard::from(&model),
            whole: OnceCell::new_with(Some(model)),
            preloaded: None,
        }
    }

    fn of_page(row: PageUnit) -> Self {
        Self {
            card: row.card,
            whole: OnceCell::new_with(row.whole),
            preloaded: row.preloaded,
        }
    }

    /// The whole row: at hand, or loaded once.
    async fn whole(&self, ctx: &Context<'_>) -> Result<&unit::Model> {
        self.whole
            .get_or_try_init(|| async {
                loaders(ctx)?
                    .units
                    .load_one(self.card.id)
                    .await?
                    .ok_or_else(|| AppError::not_found("Unit").into())
            })
            .await
    }
}

/// A vehicle: a customer's own, or the dealership's stock. Customers see their own units and
/// listed ones; staff see all.
#[Object]
impl Unit {
    /// The unit's id.
    async fn id(&self) -> ID {
        to_id(self.card.id)
    }
    /// Vehicle identification number, upper case.
    async fn vin(&self) -> &str {
        &self.card.vin
    }
    /// Manufacturer, e.g. Toyota.
    async fn make(&self) -> &str {
        &self.card.make
    }
    /// Model, e.g. Corolla.
    async fn model(&self) -> &str {
        &self.card.model
    }
    /// Trim level, e.g. XLE.
    async fn trim(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.whole(ctx).await?.trim.as_deref())
    }
    /// Model year.
    async fn year(&self) -> i32 {
        self.card.year
    }
    /// Odometer reading; it only goes up (but for an administrator's correction).
    async fn mileage(&self) -> i32 {
        self.card.mileage
    }
    /// What it runs on.
    async fn fuel_type(&self, ctx: &Context<'_>) -> Result<Option<FuelType>> {
        Ok(self.whole(ctx).await?.fuel_type)
    }
    /// Body style.
    async fn body_type(&self, ctx: &Context<'_>) -> Result<Option<BodyType>> {
        Ok(self.whole(ctx).await?.body_type)
    }
    /// Gearbox.
    async fn transmission(&self, ctx: &Context<'_>) -> Result<Option<Transmission>> {
        Ok(self.whole(ctx).await?.transmission)
    }
    /// Paint colour.
    async fn color(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.whole(ctx).await?.color.as_deref())
    }
    /// Registration plate, upper case.
    async fn license_plate(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.whole(ctx).await?.license_plate.as_deref())
    }
    /// Where the unit is kept, e.g. a branch or lot.
    async fn location(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.whole(ctx).await?.location.as_deref())
    }
    /// When its owner bought it.
    async fn purchase_date(&self, ctx: &Context<'_>) -> Result<Option<NaiveDate>> {
        Ok(self.whole(ctx).await?.purchase_date)
    }
    /// ACTIVE, IN_SERVICE (work in progress), SOLD (a sale was recorded) or INACTIVE.
    async fn status(&self) -> UnitStatus {
        self.card.status
    }
    /// True when it is for sale and shown to everyone.
    async fn is_listed(&self) -> bool {
        self.card.is_listed
    }
    /// Asking price.
    async fn list_price(&self) -> Option<Decimal> {
        self.card.list_price_cents.map(money::decimal)
    }
    /// Free notes.
    async fn notes(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.whole(ctx).await?.notes.as_deref())
    }
    /// The customer who owns it; null for dealership stock.
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<InPlace<User>>> {
        let Some(owner) = self.card.owner_id else {
            return Ok(None);
        };
        let user = match &self.preloaded {
            Some(preloaded) => preloaded.owner.clone().map(User::card),
            None => loaders(ctx)?.owners.load_one(owner).await?.map(User::new),
        };
        Ok(user.map(InPlace))
    }
    /// Photos in their order.
    async fn photos(&self, ctx: &Context<'_>) -> Result<Vec<InPlace<UnitPhoto>>> {
        let photos = loaders(ctx)?.photos.load_one(self.card.id).await?;
        Ok(photos
            .unwrap_or_default()
            .into_iter()
            .map(|p| InPlace(UnitPhoto::new(p.into(), self.card.id, self.card.is_listed)))
            .collect())
    }
    /// The photo shown first; null when there are none.
    async fn primary_photo(&self, ctx: &Context<'_>) -> Result<Option<InPlace<UnitPhoto>>> {
        let photo = match &self.preloaded {
            Some(preloaded) => preloaded.primary_photo.clone(),
            None => loaders(ctx)?
                .photos
                .load_one(self.card.id)
                .await?
                .unwrap_or_default()
                .into_iter()
                .find(|p| p.is_primary)
                .map(PhotoCard::from),
        };
        Ok(photo.map(|p| InPlace(UnitPhoto::new(p, self.card.id, self.card.is_listed))))
    }
    /// Workshop history, newest first. Empty unless the viewer is the owner or staff.
    async fn service_records(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<ServiceRecord>> {
        let sort = workshop::record_sort();
        let window = PageArgs::forward(first, after).window(&sort)?;
        let records = if workshop::may_see_history(viewer(ctx)?, self.card.owner_id) {
            loaders(ctx)?
                .unit_records
                .load_one(self.card.id)
                .await?
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let total = records.len() as u64;
        let slice = paging::slice_loaded(&sort, records, &window, workshop::record_key);
        Ok(pagination::connection(slice, Some(total), ServiceRecord))
    }
    /// The recorded sale; null when unsold or when the viewer may not see it.
    async fn sale(&self, ctx: &Context<'_>) -> Result<Option<Sale>> {
        if self.card.status != UnitStatus::Sold {
            return Ok(None);
        }
        let sale = loaders(ctx)?.unit_sale.load_one(self.card.id).await?;
        let viewer = viewer(ctx)?;
        Ok(sale
            .filter(|s| sales::may_see_unit_sale(viewer, s, self.card.owner_id))
            .map(Sale))
    }
    /// When it was added.
    async fn created_at(&self) -> DateTime<Utc> {
        self.card.created_at
    }
    /// When it last changed.
    async fn updated_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        Ok(self.whole(ctx).await?.updated_at)
    }
}

/// The units page fills a unit's columns in place (`InPlace<Unit>`).
impl PlainFields for Unit {
    fn plain(&self, _: &Context<'_>, name: &str) -> Option<Value> {
        let text = |v: &Option<String>| value(v.clone());
        let c = &self.card;
        let card = match name {
            "id" => Some(value(to_id(c.id))),
            "vin" => Some(Value::String(c.vin.clone())),
            "make" => Some(Value::String(c.make.clone())),
            "model" => Some(Value::String(c.model.clone())),
            "year" => Some(value(c.year)),
            "mileage" => Some(value(c.mileage)),
            "status" => Some(value(c.status)),
            "isListed" => Some(Value::Boolean(c.is_listed)),
            "listPrice" => Some(value(c.list_price_cents.map(money::decimal))),
            "createdAt" => Some(value(c.created_at)),
            _ => None,
        };
        // The rest of the row, when it was read with the page (otherwise `Unit` loads it).
        card.or_else(|| {
            let u = self.whole.get()?;
            Some(match name {
                "trim" => text(&u.trim),
                "fuelType" => value(u.fuel_type),
                "bodyType" => value(u.body_type),
                "transmission" => value(u.transmission),
                "color" => text(&u.color),
                "licensePlate" => text(&u.license_plate),
                "location" => text(&u.location),
                "purchaseDate" => value(u.purchase_date),
                "notes" => text(&u.notes),
                "updatedAt" => value(u.updated_at),
                _ => return None,
            })
        })
    }
}

pub struct UnitPhoto {
    id: Uuid,
    path: String,
    unit_id: Uuid,
    /// At hand, or (for a page that read only the image) loaded once when a field asks.
    details: OnceCell<PhotoDetails>,
    /// Photos of listed units are public; others get signed, expiring URLs.
    public: bool,
}

impl UnitPhoto {
    /// A photo of the unit `unit_id`, public when that unit is listed.
    fn new(card: PhotoCard, unit_id: Uuid, public: bool) -> Self {
        Self {
            id: card.id,
            path: card.path,
            unit_id,
            details: OnceCell::new_with(card.details),
            public,
        }
    }

    fn url_from(&self, media: &MediaStore) -> String {
        if self.public {
            media.public_url(&self.path)
        } else {
            media.signed_url(&self.path)
        }
    }

    async fn details(&self, ctx: &Context<'_>) -> Result<&PhotoDetails> {
        self.details
            .get_or_try_init(|| async {
                let photos = loaders(ctx)?.photos.load_one(self.unit_id).await?;
                photos
                    .unwrap_or_default()
                    .into_iter()
                    .find(|p| p.id == self.id)
                    .and_then(|p| PhotoCard::from(p).details)
                    .ok_or_else(|| AppError::not_found("Photo").into())
            })
            .await
    }
}

/// The fields of `UnitPhoto` its image answers (the others need its details).
const PHOTO_IMAGE_FIELDS: [&str; 3] = ["__typename", "id", "url"];

/// A photo's image is at hand, and its details when they were read.
impl PlainFields for UnitPhoto {
    fn plain(&self, ctx: &Context<'_>, name: &str) -> Option<Value> {
        let image = match name {
            "id" => Some(value(to_id(self.id))),
            "url" => Some(Value::String(self.url_from(&state(ctx).ok()?.media))),
            _ => None,
        };
        image.or_else(|| {
            let d = self.details.get()?;
            Some(match name {
                "altText" => value(d.alt_text.clone()),
                "position" => value(d.position),
                "isPrimary" => Value::Boolean(d.is_primary),
                "contentType" => Value::String(d.content_type.clone()),
                _ => return None,
            })
        })
    }
}

/// A photo of a unit.
#[Object]
impl UnitPhoto {
    /// The photo's id.
    async fn id(&self) -> ID {
        to_id(self.id)
    }
    /// Where the image is served: a plain URL for listed units, otherwise a signed URL that
    /// expires (ask again for a fresh one).
    async fn url(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(self.url_from(&state(ctx)?.media))
    }
    /// Text for screen readers.
    async fn alt_text(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self.details(ctx).await?.alt_text.as_deref())
    }
    /// Place in the unit's order, from 0.
    async fn position(&self, ctx: &Context<'_>) -> Result<i32> {
        Ok(self.details(ctx).await?.position)
    }
    /// True for the one photo shown first.
    async fn is_primary(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self.details(ctx).await?.is_primary)
    }
    /// `image/jpeg`, `image/png` or `image/webp`, as read from the file itself.
    async fn content_type(&self, ctx: &Context<'_>) -> Result<&str> {
        Ok(&self.details(ctx).await?.content_type)
    }
}

/// Narrows `units`; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct UnitFilter {
    /// Part of the VIN, make, model, trim or plate, case-insensitive.
    search: Option<String>,
    /// This make, case-insensitive.
    make: Option<String>,
    /// This model, case-insensitive.
    model: Option<String>,
    /// Model year at least.
    year_min: Option<i32>,
    /// Model year at most.
    year_max: Option<i32>,
    /// List price at least.
    price_min: Option<Decimal>,
    /// List price at most.
    price_max: Option<Decimal>,
    /// Mileage at most.
    mileage_max: Option<i32>,
    /// Any of these fuel types.
    fuel_types: Option<Vec<FuelType>>,
    /// Any of these body types.
    body_types: Option<Vec<BodyType>>,
    /// Any of these gearboxes.
    transmissions: Option<Vec<Transmission>>,
    /// Any of these statuses.
    statuses: Option<Vec<UnitStatus>>,
    /// Listed (true) or not (false).
    is_listed: Option<bool>,
    /// Owned by this user.
    owner_id: Option<ID>,
}

/// What `units` can be ordered by; ties are broken by id, so pages never skip or repeat.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum UnitOrderField {
    /// When the unit was added.
    CreatedAt,
    /// List price; units without one count as lowest.
    Price,
    /// Model year.
    Year,
    /// Mileage.
    Mileage,
}

/// An ordering of `units`.
#[derive(InputObject)]
pub struct UnitOrder {
    /// The key.
    field: UnitOrderField,
    /// Which way.
    direction: OrderDirection,
}

/// A new unit.
#[derive(InputObject)]
pub struct CreateUnitInput {
    /// 17 characters, no I, O or Q; any case.
    vin: String,
    /// Manufacturer.
    make: String,
    /// Model.
    model: String,
    /// Trim level.
    trim: Option<String>,
    /// Model year, 1886 to next year.
    year: i32,
    /// Odometer reading, 0 or more.
    mileage: i32,
    /// What it runs on.
    fuel_type: Option<FuelType>,
    /// Body style.
    body_type: Option<BodyType>,
    /// Gearbox.
    transmission: Option<Transmission>,
    /// Paint colour.
    color: Option<String>,
    /// Registration plate.
    license_plate: Option<String>,
    /// Where it is kept.
    location: Option<String>,
    /// When its owner bought it.
    purchase_date: Option<NaiveDate>,
    /// For sale (staff only); needs a list price.
    is_listed: Option<bool>,
    /// Asking price, greater than zero.
    list_price: Option<Decimal>,
    /// Free notes.
    notes: Option<String>,
    /// Staff: the customer it belongs to (none = dealership stock). Customers own what they add.
    owner_id: Option<ID>,
}

/// Changes to a unit; absent fields stay as they are, an empty string clears a text.
#[derive(InputObject)]
pub struct UpdateUnitInput {
    /// Manufacturer.
    make: Option<String>,
    /// Model.
    model: Option<String>,
    /// Trim level.
    trim: Option<String>,
    /// Model year.
    year: Option<i32>,
    /// Odometer reading; only an administrator may lower it.
    mileage: Option<i32>,
    /// What it runs on.
    fuel_type: Option<FuelType>,
    /// Body style.
    body_type: Option<BodyType>,
    /// Gearbox.
    transmission: Option<Transmission>,
    /// Paint colour.
    color: Option<String>,
    /// Registration plate.
    license_plate: Option<String>,
    /// Where it is kept.
    location: Option<String>,
    /// When its owner bought it.
    purchase_date: Option<NaiveDate>,
    /// For sale (staff only).
    is_listed: Option<bool>,
    /// Asking price.
    list_price: Option<Decimal>,
    /// Free notes (the one thing a sold unit may change).
    notes: Option<String>,
    /// ACTIVE or INACTIVE; SOLD and IN_SERVICE follow sales and service work.
    status: Option<UnitStatus>,
}

#[derive(Default)]
pub struct UnitsQuery;

#[Object]
impl UnitsQuery {
    /// One unit; null when it does not exist or the viewer may not see it.
    async fn unit(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Unit>> {
        let id = parse_id("id", &id)?;
        Ok(service::unit(state(ctx)?, viewer(ctx)?, id)
            .await?
            .map(Unit::new))
    }

    /// Units the viewer sees (staff: all; customers: their own and listed ones; anyone: listed
    /// ones), filtered and ordered (newest first by default). `first`/`last` at most 100.
    #[allow(clippy::too_many_arguments)]
    async fn units(
        &self,
        ctx: &Context<'_>,
        filter: Option<UnitFilter>,
        order_by: Option<UnitOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Page<InPlace<Unit>>> {
        let f = filter.unwrap_or_default();
        let filter = service::UnitFilter {
            search: f.search,
            make: f.make,
            model: f.model,
            year_min: f.year_min,
            year_max: f.year_max,
            price_min: f.price_min,
            price_max: f.price_max,
            mileage_max: f.mileage_max,
            fuel_types: f.fuel_types,
            body_types: f.body_types,
            transmissions: f.transmissions,
            statuses: f.statuses,
            is_listed: f.is_listed,
            owner_id: parse_optional_id("ownerId", f.owner_id.as_ref())?,
        };
        let order = order_by.map_or((Field::CreatedAt, true), |o| {
            let field = match o.field {
                UnitOrderField::CreatedAt => Field::CreatedAt,
                UnitOrderField::Price => Field::Price,
                UnitOrderField::Year => Field::Year,
                UnitOrderField::Mileage => Field::Mileage,
            };
            (field, o.direction.descending())
        });
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        let (slice, total) = service::list_units(
            state(ctx)?,
            viewer(ctx)?,
            &filter,
            order,
            &args,
            pagination::wants_total(ctx),
            page_reads(ctx),
        )
        .await?;
        Ok(pagination::connection(slice, total, |row| {
            InPlace(Unit::of_page(row))
        }))
    }
}

/// The fields of `Unit` that need no more than its card (relations load what they need).
const ON_THE_CARD: [&str; 14] = [
    "__typename",
    "id",
    "vin",
    "make",
    "model",
    "year",
    "mileage",
    "status",
    "isListed",
    "listPrice",
    "createdAt",
    "photos",
    "serviceRecords",
    "sale",
];

/// What a units page reads for the fields selected on its units (`edges.node` and `nodes`):
/// whole rows unless the cards answer every field, and the owner's card and the primary photo
/// in the same statement when either is selected (the photo's details when asked for).
fn page_reads(ctx: &Context<'_>) -> PageReads {
    let mut reads = PageReads::default();
    let page = ctx.field();
    let units = page.selection_set().flat_map(|f| match f.name() {
        "edges" => f.selection_set().filter(|e| e.name() == "node").collect(),
        "nodes" => vec![f],
        _ => Vec::new(),
    });
    for unit in units {
        for field in unit.selection_set() {
            match field.name() {
                "owner" => reads.owner_and_photo = true,
                "primaryPhoto" => {
                    reads.owner_and_photo = true;
                    reads.photo_details |= field
                        .selection_set()
                        .any(|f| !PHOTO_IMAGE_FIELDS.contains(&f.name()));
                }
                name => reads.whole_rows |= !ON_THE_CARD.contains(&name),
            }
        }
    }
    reads
}

fn details_of_create(i: &CreateUnitInput) -> UnitDetails {
    UnitDetails {
        make: Some(i.make.clone()),
        model: Some(i.model.clone()),
        trim: i.trim.clone(),
        year: Some(i.year),
        mileage: Some(i.mileage),
        fuel_type: i.fuel_type,
        body_type: i.body_type,
        transmission: i.transmission,
        color: i.color.clone(),
        license_plate: i.license_plate.clone(),
        location: i.location.clone(),
        purchase_date: i.purchase_date,
        is_listed: i.is_listed,
        list_price: i.list_price,
        notes: i.notes.clone(),
    }
}

#[derive(Default)]
pub struct UnitsMutation;

#[Object]
impl UnitsMutation {
    /// Adds a unit: customers add their own (never listed); staff add stock or a customer's unit.
    async fn create_unit(&self, ctx: &Context<'_>, input: CreateUnitInput) -> Result<Unit> {
        let new = NewUnit {
            vin: input.vin.clone(),
            details: details_of_create(&input),
            owner_id: parse_optional_id("ownerId", input.owner_id.as_ref())?,
        };
        Ok(Unit::new(
            service::create_unit(state(ctx)?, viewer(ctx)?, new).await?,
        ))
    }

    /// Changes a unit (its owner or staff).
    async fn update_unit(&self, ctx: &Context<'_>, id: ID, input: UpdateUnitInput) -> Result<Unit> {
        let id = parse_id("id", &id)?;
        let changes = UnitChanges {
            details: UnitDetails {
                make: input.make,
                model: input.model,
                trim: input.trim,
                year: input.year,
                mileage: input.mileage,
                fuel_type: input.fuel_type,
                body_type: input.body_type,
                transmission: input.transmission,
                color: input.color,
                license_plate: input.license_plate,
                location: input.location,
                purchase_date: input.purchase_date,
                is_listed: input.is_listed,
                list_price: input.list_price,
                notes: input.notes,
            },
            status: input.status,
        };
        Ok(Unit::new(
            service::update_unit(state(ctx)?, viewer(ctx)?, id, changes).await?,
        ))
    }

    /// Deletes a unit with no sale and no service in progress (its owner or staff).
    async fn delete_unit(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = parse_id("id", &id)?;
        Ok(service::delete_unit(state(ctx)?, viewer(ctx)?, id).await?)
    }

    /// Adds a photo (JPEG, PNG or WebP by content; at most `UPLOAD_MAX_FILE_BYTES`, 25 MiB by default; 30 per unit) after the others.
    async fn add_unit_photo(
        &self,
        ctx: &Context<'_>,
        unit_id: ID,
        file: Upload,
        alt_text: Option<String>,
    ) -> Result<UnitPhoto> {
        let unit_id = parse_id("unitId", &unit_id)?;
        let file = read_upload(ctx, &file).await?;
        let (unit, photo) =
            service::add_photo(state(ctx)?, viewer(ctx)?, unit_id, file, alt_text).await?;
        Ok(UnitPhoto::new(photo.into(), unit.id, unit.is_listed))
    }

    /// Makes a photo the unit's primary one.
    async fn set_primary_unit_photo(&self, ctx: &Context<'_>, photo_id: ID) -> Result<Unit> {
        let photo_id = parse_id("photoId", &photo_id)?;
        Ok(Unit::new(
            service::set_primary_photo(state(ctx)?, viewer(ctx)?, photo_id).await?,
        ))
    }

    /// Puts the unit's photos in this order (every photo exactly once).
    async fn reorder_unit_photos(
        &self,
        ctx: &Context<'_>,
        unit_id: ID,
        photo_ids: Vec<ID>,
    ) -> Result<Unit> {
        let unit_id = parse_id("unitId", &unit_id)?;
        let photo_ids = photo_ids
            .iter()
            .map(|id| parse_id("photoIds", id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Unit::new(
            service::reorder_photos(state(ctx)?, viewer(ctx)?, unit_id, photo_ids).await?,
        ))
    }

    /// Deletes a photo; if it was primary, the next one in order becomes primary.
    async fn delete_unit_photo(&self, ctx: &Context<'_>, photo_id: ID) -> Result<Unit> {
        let photo_id = parse_id("photoId", &photo_id)?;
        Ok(Unit::new(
            service::delete_photo(state(ctx)?, viewer(ctx)?, photo_id).await?,
        ))
    }
}
