//! The unit queries and mutations.

use super::*;

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
        let filter = service::UnitFilter::try_from(filter.unwrap_or_default())?;
        let order = order_by.map_or((Field::CreatedAt, true), |o| {
            (o.field.into(), o.direction.descending())
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
            PageReads::for_selection(ctx.field()),
        )
        .await?;
        Ok(pagination::connection(slice, total, |row| {
            InPlace(Unit::of_page(row))
        }))
    }
}

#[derive(Default)]
pub struct UnitsMutation;

#[Object]
impl UnitsMutation {
    /// Adds a unit: customers add their own (never listed); staff add stock or a customer's unit.
    async fn create_unit(&self, ctx: &Context<'_>, input: CreateUnitInput) -> Result<Unit> {
        let new = NewUnit::try_from(input)?;
        Ok(Unit::new(
            service::create_unit(state(ctx)?, viewer(ctx)?, new).await?,
        ))
    }

    /// Changes a unit (its owner or staff).
    async fn update_unit(&self, ctx: &Context<'_>, id: ID, input: UpdateUnitInput) -> Result<Unit> {
        let id = parse_id("id", &id)?;
        let changes = UnitChanges::from(input);
        Ok(Unit::new(
            service::update_unit(state(ctx)?, viewer(ctx)?, id, changes).await?,
        ))
    }

    /// Deletes a unit with no sale and no service in progress (its owner or staff).
    async fn delete_unit(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = parse_id("id", &id)?;
        Ok(service::delete_unit(state(ctx)?, viewer(ctx)?, id).await?)
    }

    /// Adds a photo (JPEG, PNG or WebP by content; at most `UPLOAD_MAX_IMAGE_BYTES`, 10 MiB by default; 30 per unit) after the others: the `file`, or the file uploaded before to `createUploadUrl`'s URL (`uploadId`), exactly one of them.
    async fn add_unit_photo(
        &self,
        ctx: &Context<'_>,
        unit_id: ID,
        file: Option<Upload>,
        upload_id: Option<ID>,
        alt_text: Option<String>,
    ) -> Result<UnitPhoto> {
        let unit_id = parse_id("unitId", &unit_id)?;
        let (state, viewer) = (state(ctx)?, viewer(ctx)?);
        let source = read_file(ctx, file.as_ref(), upload_id.as_ref()).await?;
        let (file, claim) = uploads::open(state, viewer, source).await?;
        let added = service::add_photo(state, viewer, unit_id, file, alt_text).await;
        uploads::close(state, claim, added.is_ok()).await;
        let (unit, photo) = added?;
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
