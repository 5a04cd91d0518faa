//! The page's row, read by position: the unit's card or whole row, then the owner's card and the primary photo's.

use super::*;

// The page's row, read by position: the unit's card or whole row, then (joined) the owner's
// card and the primary photo's, each in the order of its column list (the whole row in its
// entity's column order). `tests/units.rs` checks the page against `unit(id)`, whose rows
// sea-orm decodes by name.

pub(super) fn read_card(c: &mut Columns) -> Result<UnitCard, DbErr> {
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

pub(super) fn read_unit(c: &mut Columns) -> Result<unit::Model, DbErr> {
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
        search_text: c.read()?,
    })
}

/// The joined owner's card; none when the unit has no owner.
pub(super) fn read_owner(c: &mut Columns) -> Result<Option<UserCard>, DbErr> {
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
pub(super) fn read_photo(c: &mut Columns, details: bool) -> Result<Option<PhotoCard>, DbErr> {
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
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
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
