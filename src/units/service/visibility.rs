//! Who sees what: units, their history and their sales.

use super::*;

/// What part of the inventory a viewer sees: staff everything, a customer their own units and
/// listed ones, anyone else the listed ones (the public showroom).
pub(super) enum Audience {
    Staff,
    Customer(Uuid),
    Public,
}

pub(super) fn audience(viewer: &Viewer) -> AppResult<Audience> {
    Ok(match viewer {
        Viewer::Anonymous => Audience::Public,
        Viewer::Invalid(err) => return Err(err.clone()),
        Viewer::User(identity) if identity.is_staff() => Audience::Staff,
        Viewer::User(identity) => Audience::Customer(identity.user_id),
    })
}

pub(super) fn may_see(audience: &Audience, unit: &unit::Model) -> bool {
    match audience {
        Audience::Staff => true,
        Audience::Customer(me) => unit.is_listed || unit.owner_id == Some(*me),
        Audience::Public => unit.is_listed,
    }
}

/// `SELECT id FROM units WHERE <the audience sees it>`; `None` for staff, who see every unit.
pub(super) fn visible_ids(audience: &Audience) -> Option<sea_orm::sea_query::SelectStatement> {
    let mut ids = sea_orm::sea_query::Query::select();
    ids.column(unit::Column::Id).from(unit::Entity);
    match audience {
        Audience::Staff => return None,
        Audience::Customer(me) => ids.cond_where(
            Condition::any()
                .add(unit::Column::IsListed.eq(true))
                .add(unit::Column::OwnerId.eq(*me)),
        ),
        Audience::Public => ids.and_where(unit::Column::IsListed.eq(true)),
    };
    Some(ids.to_owned())
}

/// The units with these ids that the viewer sees (for the units loader).
#[tracing::instrument(skip_all, fields(viewer = %viewer, ids = ids.len()))]
pub async fn visible_units_by_id(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    ids: &[Uuid],
) -> AppResult<Vec<unit::Model>> {
    let audience = audience(viewer)?;
    Ok(units_by_id(db, ids)
        .await?
        .into_iter()
        .filter(|u| may_see(&audience, u))
        .collect())
}

/// The photos of those of these units the viewer sees, each unit's in order (for the photos
/// loader).
#[tracing::instrument(skip_all, fields(viewer = %viewer, unit_ids = unit_ids.len()))]
pub async fn visible_photos_of(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    unit_ids: &[Uuid],
) -> AppResult<Vec<unit_photo::Model>> {
    let mut photos = unit_photo::Entity::find()
        .filter(unit_photo::Column::UnitId.is_in(unit_ids.iter().copied()));
    if let Some(visible) = visible_ids(&audience(viewer)?) {
        photos = photos.filter(unit_photo::Column::UnitId.in_subquery(visible));
    }
    Ok(photos
        .order_by_asc(unit_photo::Column::UnitId)
        .order_by_asc(unit_photo::Column::Position)
        .order_by_asc(unit_photo::Column::Id)
        .all(db)
        .await?)
}

/// Units whose ids another domain's rule selects (`SELECT unit_id FROM …`): the unit of a sale
/// the viewer may see is seen through that sale.
#[tracing::instrument(skip_all)]
pub async fn units_selected_by(
    db: &impl ConnectionTrait,
    ids: sea_orm::sea_query::SelectStatement,
) -> AppResult<Vec<unit::Model>> {
    Ok(unit::Entity::find()
        .filter(unit::Column::Id.in_subquery(ids))
        .all(db)
        .await?)
}

/// Staff, or the unit's owner.
pub fn may_manage(identity: &Identity, unit: &unit::Model) -> bool {
    identity.is_staff() || unit.owner_id == Some(identity.user_id)
}

/// The unit, when the viewer owns it or is staff; `NOT_FOUND` as `what` otherwise, also for a
/// listed unit the viewer sees but does not own (its dongle, the offers for its make).
pub async fn own_unit(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    what: &str,
) -> AppResult<unit::Model> {
    let identity = viewer.identity()?;
    units_by_id(db, &[id])
        .await?
        .into_iter()
        .find(|u| may_manage(identity, u))
        .ok_or_else(|| AppError::not_found(what))
}

/// The unit, when the viewer may see it; `NOT_FOUND` otherwise (no existence leak).
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
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
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
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
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
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

#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn unit(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<Option<unit::Model>> {
    match visible_unit(&state.db, viewer, id).await {
        Ok(unit) => Ok(Some(unit)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(err) => Err(err),
    }
}
