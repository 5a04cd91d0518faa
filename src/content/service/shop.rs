//! The shop's information: public, one row from the first start, changed by admins.

use super::*;
use crate::accounts::types::{Email, Phone};
use crate::bookings::service::{parse_hours, HoursInput};
use crate::bookings::types::Hours;
use crate::content::entity::shop;
use crate::input;

/// At most this many social links.
pub const MAX_LINKS: usize = 10;

/// The shop's information (the migration made the row).
#[tracing::instrument(skip_all)]
pub async fn shop_info(state: &AppState) -> AppResult<shop::Model> {
    shop::Entity::find_by_id(1)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::internal("the shop_info row is missing"))
}

/// The shop's social links.
pub fn social_links(info: &shop::Model) -> Vec<String> {
    serde_json::from_str(&info.social_links).unwrap_or_default()
}

/// The shop's opening hours, by weekday and time.
pub fn opening_hours(info: &shop::Model) -> Vec<Hours> {
    let mut hours: Vec<Hours> = serde_json::from_str(&info.opening_hours).unwrap_or_default();
    hours.sort_by_key(|h| (h.weekday, h.opens));
    hours
}

pub struct ShopInput {
    pub name: String,
    pub tagline: Option<String>,
    pub about: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    /// Left out: kept as they are.
    pub social_links: Option<Vec<String>>,
    /// Left out: kept as they are.
    pub opening_hours: Option<Vec<HoursInput>>,
}

/// An admin changes the shop's information.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn update_shop_info(
    state: &AppState,
    viewer: &Viewer,
    input: ShopInput,
) -> AppResult<shop::Model> {
    viewer.admin()?;
    let mut row = shop_info(state).await?;
    row.name = input::required("name", &input.name, 120)?;
    row.tagline = input::optional("tagline", input.tagline.as_deref(), 200)?;
    row.about = input::optional("about", input.about.as_deref(), 10_000)?;
    row.address = input::optional("address", input.address.as_deref(), 300)?;
    row.phone = match input::optional("phone", input.phone.as_deref(), 40)? {
        Some(p) => Some(Phone::parse("phone", &p)?.into_inner()),
        None => None,
    };
    row.email = match input::optional("email", input.email.as_deref(), 254)? {
        Some(e) => Some(Email::parse("email", &e)?.into_inner()),
        None => None,
    };
    row.website = match input::optional("website", input.website.as_deref(), 500)? {
        Some(w) => Some(types::web_link("website", &w)?),
        None => None,
    };
    if let Some(links) = &input.social_links {
        if links.len() > MAX_LINKS {
            return Err(AppError::bad_input(
                "socialLinks",
                format!("At most {MAX_LINKS} social links."),
            ));
        }
        let links = links
            .iter()
            .enumerate()
            .map(|(i, l)| types::web_link(&format!("socialLinks.{i}"), l))
            .collect::<AppResult<Vec<String>>>()?;
        row.social_links = serde_json::to_string(&links).map_err(AppError::internal)?;
    }
    if let Some(hours) = &input.opening_hours {
        let hours = parse_hours("openingHours", hours)?;
        row.opening_hours = serde_json::to_string(&hours).map_err(AppError::internal)?;
    }
    row.updated_at = clock::now();
    Ok(row
        .into_active_model()
        .reset_all()
        .update(&state.db)
        .await?)
}
