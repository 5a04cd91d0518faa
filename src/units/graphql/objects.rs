//! `Unit` and `UnitPhoto`: their fields, in place on the units page and through resolvers.

use super::*;

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

    pub(super) fn of_page(row: PageUnit) -> Self {
        Self {
            card: row.card,
            whole: OnceCell::new_with(row.whole),
            preloaded: row.preloaded,
        }
    }

    /// The whole row: at hand, or loaded once.
    pub(super) async fn whole(&self, ctx: &Context<'_>) -> Result<&unit::Model> {
        self.whole
            .get_or_try_init(|| async {
                loader::<Units>(ctx)?
                    .load_one(UnitId(self.card.id))
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
            None => loader::<Users<Owners>>(ctx)?
                .load_one(UserId(owner))
                .await?
                .map(User::from),
        };
        Ok(user.map(InPlace))
    }
    /// Photos in their order.
    async fn photos(&self, ctx: &Context<'_>) -> Result<Vec<InPlace<UnitPhoto>>> {
        let photos = loader::<Photos>(ctx)?
            .load_one(UnitId(self.card.id))
            .await?;
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
            None => loader::<Photos>(ctx)?
                .load_one(UnitId(self.card.id))
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
        let records = loader::<History>(ctx)?
            .load_one(HistoryOf {
                unit: UnitId(self.card.id),
                owner: self.card.owner_id,
            })
            .await?
            .unwrap_or_default();
        let total = records.len() as u64;
        let slice = paging::slice_loaded(&sort, records, &window, workshop::record_key);
        Ok(pagination::connection(slice, Some(total), ServiceRecord))
    }
    /// The recorded sale; null when unsold or when the viewer may not see it.
    async fn sale(&self, ctx: &Context<'_>) -> Result<Option<Sale>> {
        if self.card.status != UnitStatus::Sold {
            return Ok(None);
        }
        let sale = loader::<SaleOfUnit>(ctx)?
            .load_one(UnitId(self.card.id))
            .await?;
        Ok(sale.map(Sale))
    }
    /// Its OBD dongle; null when none is linked, or unless the viewer owns it or is staff.
    async fn dongle(&self, ctx: &Context<'_>) -> Result<Option<Dongle>> {
        let key = DongleOf {
            unit: self.card.id,
            owner: self.card.owner_id,
        };
        Ok(loader::<Dongles>(ctx)?.load_one(key).await?.map(Dongle))
    }
    /// Its dongle's samples recorded in `[from, to)`, oldest first (its owner or staff).
    async fn telemetry(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<TelemetrySample>> {
        let range = telemetry::range(from, to)?;
        let (slice, total) = telemetry::samples(
            state(ctx)?,
            viewer(ctx)?,
            (self.card.id, self.card.owner_id),
            range,
            &PageArgs::forward(first, after),
            pagination::wants_total(ctx),
        )
        .await?;
        Ok(pagination::connection(slice, total, TelemetrySample))
    }
    /// The figures of its samples recorded in `[from, to)`, computed by the database (its owner
    /// or staff).
    async fn telemetry_summary(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<TelemetrySummary> {
        let key = SummaryOf {
            unit: self.card.id,
            owner: self.card.owner_id,
            range: telemetry::range(from, to)?,
        };
        if !telemetry::may_read(viewer(ctx)?, key.owner) {
            return Err(
                AppError::forbidden("Only the unit's owner and staff read its telemetry.").into(),
            );
        }
        let summary = loader::<Summaries>(ctx)?.load_one(key).await?;
        Ok(TelemetrySummary::from(summary.unwrap_or_default()))
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

/// The units page fills a unit's card fields in place (`InPlace<Unit>`); the card's table in
/// `units::page` says which and how.
impl PlainFields for Unit {
    fn plain(&self, _: &Context<'_>, name: &str) -> Option<Value> {
        self.card.value(name)
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
    pub(super) fn new(card: PhotoCard, unit_id: Uuid, public: bool) -> Self {
        Self {
            id: card.id,
            path: card.path,
            unit_id,
            details: OnceCell::new_with(card.details),
            public,
        }
    }

    pub(super) fn url_from(&self, media: &MediaStore) -> String {
        if self.public {
            media.public_url(&self.path)
        } else {
            media.signed_url(&self.path)
        }
    }

    pub(super) async fn details(&self, ctx: &Context<'_>) -> Result<&PhotoDetails> {
        self.details
            .get_or_try_init(|| async {
                let photos = loader::<Photos>(ctx)?
                    .load_one(UnitId(self.unit_id))
                    .await?;
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
