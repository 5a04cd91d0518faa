//! Photos: add, order, choose the primary one, remove.

use super::*;

/// The photos of these units, each unit's in position order.
#[tracing::instrument(skip_all, fields(unit_ids = unit_ids.len()))]
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

pub(super) fn refuse_if_sold(unit: &unit::Model) -> AppResult<()> {
    if unit.status == UnitStatus::Sold {
        return Err(AppError::conflict(
            "This unit is sold: its photos cannot change.",
        ));
    }
    Ok(())
}

/// Adds a photo (checked by content) as the last one; the first photo of a unit is its primary.
#[tracing::instrument(skip_all, fields(viewer = %viewer, unit_id = %unit_id))]
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

#[tracing::instrument(skip_all, fields(viewer = %viewer, photo_id = %photo_id))]
pub(super) async fn managed_photo(
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
#[tracing::instrument(skip_all, fields(viewer = %viewer, photo_id = %photo_id))]
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
#[tracing::instrument(skip_all, fields(viewer = %viewer, unit_id = %unit_id))]
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
#[tracing::instrument(skip_all, fields(viewer = %viewer, photo_id = %photo_id))]
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
#[tracing::instrument(skip_all)]
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
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn owner_of(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<Option<Uuid>>> {
    Ok(unit::Entity::find_by_id(id)
        .all(db)
        .await?
        .into_iter()
        .next()
        .map(|u| u.owner_id))
}
