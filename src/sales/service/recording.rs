//! Recording, correcting and deleting sales: one sale per unit, commission, the referral credit.

use super::*;

#[derive(Default, Clone)]
pub struct SaleDetails {
    pub price: Option<Decimal>,
    pub sold_on: Option<NaiveDate>,
    pub buyer_name: Option<String>,
    pub buyer_email: Option<String>,
    pub buyer_phone: Option<String>,
    pub buyer_id: Option<Uuid>,
    pub payment_method: Option<PaymentMethod>,
    pub notes: Option<String>,
}

pub struct NewSale {
    pub unit_id: Uuid,
    pub details: SaleDetails,
    pub salesperson_id: Option<Uuid>,
}

async fn apply(
    db: &impl ConnectionTrait,
    sale: &mut sale::Model,
    d: &SaleDetails,
    today: NaiveDate,
) -> AppResult<()> {
    if let Some(v) = d.price {
        sale.price_cents = money::cents("price", v, true)?;
        if let Some(rate) = sale.commission_rate_bp {
            sale.commission_cents = Some(money::share(sale.price_cents, rate));
        }
    }
    if let Some(v) = d.sold_on {
        if v > today {
            return Err(AppError::bad_input(
                "soldOn",
                "A sale cannot be dated in the future.",
            ));
        }
        sale.sold_on = v;
    }
    if let Some(v) = &d.buyer_name {
        sale.buyer_name = input::required("buyerName", v, 200)?;
    }
    if let Some(v) = &d.buyer_email {
        sale.buyer_email = match input::optional("buyerEmail", Some(v), 254)? {
            Some(e) => Some(Email::parse("buyerEmail", &e)?.as_str().to_string()),
            None => None,
        };
    }
    if let Some(v) = &d.buyer_phone {
        sale.buyer_phone = match input::optional("buyerPhone", Some(v), 32)? {
            Some(p) => Some(Phone::parse("buyerPhone", &p)?.as_str().to_string()),
            None => None,
        };
    }
    if let Some(v) = d.buyer_id {
        sale.buyer_id = Some(accounts::user_named_in(db, "buyerId", v).await?.id);
    }
    if let Some(v) = d.payment_method {
        sale.payment_method = v;
    }
    if let Some(v) = &d.notes {
        sale.notes = input::optional("notes", Some(v), 2000)?;
    }
    Ok(())
}

/// A purchase credits the buyer's referral, unless they bought their own unit or recorded the
/// sale themselves.
async fn credit_buyer(
    db: &impl ConnectionTrait,
    sale: &sale::Model,
    unit: &unit::Model,
) -> AppResult<Outbox> {
    match sale.buyer_id {
        Some(buyer) if unit.owner_id != Some(buyer) && sale.created_by != buyer => {
            referrals::service::credit(db, buyer).await
        }
        _ => Ok(Outbox::default()),
    }
}

/// The unit's owner and the salesperson hear of a sale, unless they recorded it.
fn sale_notices(sale: &sale::Model, unit: &unit::Model) -> Vec<Notice> {
    let mut told = vec![sale.created_by];
    let mut notices = Vec::new();
    for user_id in [unit.owner_id, sale.salesperson_id].into_iter().flatten() {
        if told.contains(&user_id) {
            continue;
        }
        told.push(user_id);
        notices.push(Notice {
            user_id,
            kind: NotificationKind::SaleRecorded,
            title: "Sale recorded".to_string(),
            body: format!(
                "{} {} {} ({}) was sold on {}.",
                unit.year, unit.make, unit.model, unit.vin, sale.sold_on
            ),
            subject: Some(("Sale", sale.id)),
        });
    }
    notices
}

fn already_sold() -> AppError {
    AppError::conflict_on("unitId", "This unit is already sold.")
}

/// Staff record dealership sales (salesperson defaults to the recorder, commission at the
/// configured rate); a customer records the private sale of a unit they own (no salesperson, no
/// commission). In one transaction the unit becomes SOLD and unlisted; a unit sells once.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn record_sale(
    state: &AppState,
    viewer: &Viewer,
    new: NewSale,
) -> AppResult<sale::Model> {
    let (identity, unit) =
        units::managed_unit_named_in(&state.db, viewer, "unitId", new.unit_id).await?;
    let (salesperson, rate) = if identity.is_staff() {
        let salesperson = match new.salesperson_id {
            Some(id) => {
                accounts::staff_named_in(&state.db, "salespersonId", id)
                    .await?
                    .id
            }
            None => identity.user_id,
        };
        (Some(salesperson), Some(state.config.commission_rate_bp))
    } else {
        if new.salesperson_id.is_some() {
            return Err(AppError::forbidden("A private sale has no salesperson."));
        }
        (None, None)
    };
    let d = &new.details;
    let (Some(price), Some(sold_on), Some(buyer_name), Some(payment_method)) = (
        d.price,
        d.sold_on,
        d.buyer_name.as_deref(),
        d.payment_method,
    ) else {
        return Err(AppError::bad_input(
            "price",
            "Price, sale date, buyer name and payment method are required.",
        ));
    };
    let price_cents = money::cents("price", price, true)?;
    let now = clock::now();
    let mut sale = sale::Model {
        id: Uuid::now_v7(),
        unit_id: unit.id,
        price_cents,
        sold_on,
        buyer_name: input::required("buyerName", buyer_name, 200)?,
        buyer_email: None,
        buyer_phone: None,
        buyer_id: None,
        payment_method,
        notes: None,
        salesperson_id: salesperson,
        commission_rate_bp: rate,
        commission_cents: rate.map(|r| money::share(price_cents, r)),
        created_by: identity.user_id,
        created_at: now,
        updated_at: now,
    };
    apply(&state.db, &mut sale, d, state.today()).await?;
    if unit.status == UnitStatus::Sold {
        return Err(already_sold());
    }

    let txn = state.db.begin().await?;
    // First statement a write: the unit goes ACTIVE → SOLD only once, whoever races.
    units::mark_sold(&txn, unit.id).await?;
    let model: sale::ActiveModel = sale.clone().into();
    let sale = match model.insert(&txn).await {
        Ok(sale) => sale,
        Err(err) => {
            return Err(match AppError::from(err) {
                AppError::Conflict { .. } => already_sold(),
                other => other,
            })
        }
    };
    let mut outbox = credit_buyer(&txn, &sale, &unit).await?;
    outbox.extend(notifications::store(&txn, sale_notices(&sale, &unit)).await?);
    outbox.extend(
        bookings::cancel_test_drives_of_sold_unit(
            &txn,
            &unit,
            identity.user_id,
            state.config.bookings.showroom_timezone,
        )
        .await?,
    );
    txn.commit().await?;
    outbox.publish(&state.events);
    Ok(sale)
}

/// The sale, its row locked for the rest of the caller's transaction (as `lock_booking`):
/// payments of one sale, and a change of its price, wait for each other.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn lock_sale(txn: &impl ConnectionTrait, id: Uuid) -> AppResult<sale::Model> {
    sale::Entity::update_many()
        .col_expr(sale::Column::Id, Expr::col(sale::Column::Id))
        .filter(sale::Column::Id.eq(id))
        .exec(txn)
        .await?;
    sale::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("Sale"))
}

/// Staff correct any sale; a customer corrects their own private sale.
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn update_sale(
    state: &AppState,
    viewer: &Viewer,
    id: Uuid,
    details: SaleDetails,
) -> AppResult<sale::Model> {
    let (identity, mut sale, unit) = visible_sale(&state.db, viewer, id).await?;
    let own_private = sale.salesperson_id.is_none() && sale.created_by == identity.user_id;
    if !identity.is_staff() && !own_private {
        return Err(AppError::forbidden("Only staff change dealership sales."));
    }
    apply(&state.db, &mut sale, &details, state.today()).await?;
    sale.updated_at = clock::now();
    let txn = state.db.begin().await?;
    // Never below what its payments hold.
    lock_sale(&txn, id).await?;
    let held = payments::totals_of(&txn, &[Subject::Sale(id)]).await?;
    let held = held.values().next().copied().unwrap_or_default();
    if held.due_cents(sale.price_cents) < 0 {
        return Err(AppError::conflict_on(
            "price",
            format!(
                "{} is paid on this sale; the price cannot be lower.",
                money::decimal(held.paid_cents + held.pending_cents)
            ),
        ));
    }
    let saved = sale
        .clone()
        .into_active_model()
        .reset_all()
        .update(&txn)
        .await?;
    let outbox = match &unit {
        Some(unit) => credit_buyer(&txn, &saved, unit).await?,
        None => Outbox::default(),
    };
    txn.commit().await?;
    outbox.publish(&state.events);
    Ok(saved)
}

/// An admin deletes a sale; the unit returns to ACTIVE (a referral credit it earned stays).
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn delete_sale(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<bool> {
    viewer.admin()?;
    let txn = state.db.begin().await?;
    let Some(sale) = sale::Entity::find_by_id(id).one(&txn).await? else {
        return Err(AppError::not_found("Sale"));
    };
    units::lock_unit(&txn, sale.unit_id).await?;
    lock_sale(&txn, id).await?;
    if payments::has_payments(&txn, Subject::Sale(id)).await? {
        return Err(AppError::conflict(
            "A sale with payments cannot be deleted: payments stay on the books.",
        ));
    }
    let result = sale::Entity::delete_by_id(id).exec(&txn).await?;
    if result.rows_affected == 0 {
        return Err(AppError::not_found("Sale"));
    }
    units::unmark_sold(&txn, sale.unit_id).await?;
    txn.commit().await?;
    Ok(true)
}
