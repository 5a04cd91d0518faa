//! Staff create, change and delete offers.

use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, IntoActiveModel, TransactionTrait};

use super::*;
use crate::bookings::service as bookings;
use crate::input;
use crate::offers::entity::DiscountKind;

/// At most this many makes, and locations, per offer.
pub const MAX_MAKES: usize = 50;
pub const MAX_LOCATIONS: usize = 20;

/// An offer as staff write it. On update, lists and `is_active` left out keep their values.
pub struct OfferInput {
    pub title: String,
    pub description: String,
    pub terms: Option<String>,
    pub discount_kind: DiscountKind,
    pub discount_value: Decimal,
    pub starts_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub eligible_tiers: Option<Vec<MembershipTier>>,
    pub makes: Option<Vec<String>>,
    pub location_ids: Option<Vec<Uuid>>,
    pub is_active: Option<bool>,
}

/// The lists of an input, checked: each `None` when left out.
struct Lists {
    tiers: Option<Vec<MembershipTier>>,
    makes: Option<Vec<(String, String)>>,
    locations: Option<Vec<Uuid>>,
}

impl OfferInput {
    /// Checks the input and writes its fields into `row`; returns its lists.
    async fn apply(&self, db: &impl ConnectionTrait, row: &mut offer::Model) -> AppResult<Lists> {
        row.title = input::required("title", &self.title, 120)?;
        row.description = input::required("description", &self.description, 2000)?;
        row.terms = input::optional("terms", self.terms.as_deref(), 4000)?;
        row.discount_kind = self.discount_kind;
        row.discount_value = types::discount_value(self.discount_kind, self.discount_value)?;
        if self.expires_at <= self.starts_at {
            return Err(AppError::bad_input(
                "expiresAt",
                "An offer expires after it starts.",
            ));
        }
        row.starts_at = clock::truncate(self.starts_at);
        row.expires_at = clock::truncate(self.expires_at);
        if let Some(active) = self.is_active {
            row.is_active = active;
        }
        let tiers = self.eligible_tiers.as_ref().map(|tiers| {
            let mut tiers = tiers.clone();
            tiers.sort_by_key(|t| *t as u8);
            tiers.dedup();
            tiers
        });
        Ok(Lists {
            tiers,
            makes: self.makes.as_deref().map(parse_makes).transpose()?,
            locations: match &self.location_ids {
                Some(ids) => Some(known_locations(db, ids).await?),
                None => None,
            },
        })
    }
}

/// Makes as written and folded, each once.
fn parse_makes(makes: &[String]) -> AppResult<Vec<(String, String)>> {
    if makes.len() > MAX_MAKES {
        return Err(AppError::bad_input(
            "makes",
            format!("An offer names at most {MAX_MAKES} makes."),
        ));
    }
    let mut seen = HashSet::new();
    let mut kept = Vec::new();
    for (i, make) in makes.iter().enumerate() {
        let make = input::required(&format!("makes.{i}"), make, 60)?;
        let key = search::fold(&make);
        if seen.insert(key.clone()) {
            kept.push((make, key));
        }
    }
    Ok(kept)
}

/// The ids, each once, when every one names a service location.
async fn known_locations(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<Uuid>> {
    if ids.len() > MAX_LOCATIONS {
        return Err(AppError::bad_input(
            "locationIds",
            format!("An offer names at most {MAX_LOCATIONS} locations."),
        ));
    }
    let mut wanted: Vec<Uuid> = ids.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let found = bookings::locations_by_id(db, &wanted).await?;
    if found.len() != wanted.len() {
        return Err(AppError::bad_input(
            "locationIds",
            "No such service location.",
        ));
    }
    Ok(wanted)
}

/// Replaces the lists that were given.
async fn write_lists(db: &impl ConnectionTrait, id: Uuid, lists: Lists) -> AppResult<()> {
    if let Some(tiers) = lists.tiers {
        offer_tier::Entity::delete_many()
            .filter(offer_tier::Column::OfferId.eq(id))
            .exec(db)
            .await?;
        if !tiers.is_empty() {
            offer_tier::Entity::insert_many(tiers.into_iter().map(|tier| {
                offer_tier::ActiveModel {
                    offer_id: sea_orm::Set(id),
                    tier: sea_orm::Set(tier),
                }
            }))
            .exec_without_returning(db)
            .await?;
        }
    }
    if let Some(makes) = lists.makes {
        offer_make::Entity::delete_many()
            .filter(offer_make::Column::OfferId.eq(id))
            .exec(db)
            .await?;
        if !makes.is_empty() {
            offer_make::Entity::insert_many(makes.into_iter().map(|(make, key)| {
                offer_make::ActiveModel {
                    offer_id: sea_orm::Set(id),
                    make: sea_orm::Set(make),
                    make_key: sea_orm::Set(key),
                }
            }))
            .exec_without_returning(db)
            .await?;
        }
    }
    if let Some(locations) = lists.locations {
        offer_location::Entity::delete_many()
            .filter(offer_location::Column::OfferId.eq(id))
            .exec(db)
            .await?;
        if !locations.is_empty() {
            offer_location::Entity::insert_many(locations.into_iter().map(|location_id| {
                offer_location::ActiveModel {
                    offer_id: sea_orm::Set(id),
                    location_id: sea_orm::Set(location_id),
                }
            }))
            .exec_without_returning(db)
            .await?;
        }
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn create_offer(
    state: &AppState,
    viewer: &Viewer,
    input: OfferInput,
) -> AppResult<offer::Model> {
    viewer.staff()?;
    let now = clock::now();
    let mut row = offer::Model {
        id: Uuid::now_v7(),
        title: String::new(),
        description: String::new(),
        terms: None,
        discount_kind: input.discount_kind,
        discount_value: 0,
        starts_at: now,
        expires_at: now,
        is_active: true,
        created_at: now,
        updated_at: now,
    };
    let lists = input.apply(&state.db, &mut row).await?;
    let txn = state.db.begin().await?;
    let active: offer::ActiveModel = row.into();
    let saved = active.insert(&txn).await?;
    write_lists(&txn, saved.id, lists).await?;
    txn.commit().await?;
    Ok(saved)
}

#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn update_offer(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    input: OfferInput,
) -> AppResult<offer::Model> {
    viewer.staff()?;
    let mut row = offer::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::not_found("Offer"))?;
    let lists = input.apply(&state.db, &mut row).await?;
    row.updated_at = clock::now();
    let txn = state.db.begin().await?;
    // First statement a write (SQLite never upgrades a read lock); a deleted offer updates nothing.
    let saved = row
        .into_active_model()
        .reset_all()
        .update(&txn)
        .await
        .map_err(|err| match err {
            sea_orm::DbErr::RecordNotUpdated => AppError::not_found("Offer"),
            other => other.into(),
        })?;
    write_lists(&txn, id, lists).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Deletes an offer; bookings it priced keep their price and the offer's title.
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn delete_offer(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<bool> {
    viewer.staff()?;
    let deleted = offer::Entity::delete_by_id(id).exec(&state.db).await?;
    if deleted.rows_affected == 0 {
        return Err(AppError::not_found("Offer"));
    }
    Ok(true)
}

/// Offers by id (any viewer: offers are public once known).
pub async fn offers_by_id(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<offer::Model>> {
    Ok(offer::Entity::find()
        .filter(offer::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}
