//! Create, change and delete a unit.

use super::*;

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

/// Applies the details onto a unit (new or existing), checking each value.
pub(super) fn apply(unit: &mut unit::Model, d: &UnitDetails, today: NaiveDate) -> AppResult<()> {
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
        unit.year = types::year(v, today.year())?;
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
        if v > today {
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

pub(super) fn vin_taken() -> AppError {
    AppError::conflict_on("vin", "A unit with this VIN already exists.")
}

/// Customers add units they own (never listed); staff add inventory (no owner, may be listed) or
/// units for a customer.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
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
        year: types::year(year, state.today().year())?,
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
        search_text: None,
    };
    apply(&mut unit, &new.details, state.today())?;
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
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
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
    pub(super) fn beyond_notes(&self) -> bool {
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
#[tracing::instrument(skip_all)]
pub(super) async fn save(
    state: &AppState,
    before: &unit::Model,
    details: UnitDetails,
    status: Option<UnitStatus>,
) -> AppResult<unit::Model> {
    let mut after = before.clone();
    apply(&mut after, &details, state.today())?;
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
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
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
    // Its customers would lose their bookings without a word.
    if crate::bookings::service::holds_bookings(&txn, id).await? {
        return Err(AppError::conflict(
            "A unit with bookings ahead cannot be deleted; cancel them first.",
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
