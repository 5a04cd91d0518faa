//! The demo's content: a privacy policy, terms in two versions (the second in effect), an
//! "about us" page, and the shop's information filled in.

use chrono::Days;

use super::{viewer_of, why};
use crate::accounts::entity::user;
use crate::app::AppState;
use crate::bookings::service::HoursInput;
use crate::content::entity::DocumentKind;
use crate::content::service::{self as content, ShopInput};

const PRIVACY: &str = "# Privacy policy\n\nWe keep your name, contact details and your vehicles' \
    service history to serve you. We never sell them.\n\n- You may ask for a copy at any time.\n\
    - You may ask us to delete your account.\n";
const TERMS_1: &str = "# Terms of service\n\nBookings are requests until we confirm them.\n";
const TERMS_2: &str = "# Terms of service\n\nBookings are requests until we confirm them. \
    Cancel at least **24 hours** ahead, please.\n\nOffers cannot be combined; the best one applies.\n";
const ABOUT: &str = "# About us\n\nA family business since 1987: we sell, service and repair \
    cars of every make in two workshops.\n";

/// Publishes the documents and fills in the shop's information; returns how many documents.
pub async fn seed(state: &AppState, admin: &user::Model) -> Result<usize, String> {
    let viewer = viewer_of(admin);
    let today = state.today();
    let ago = |days: u64| today.checked_sub_days(Days::new(days)).unwrap_or(today);
    let documents = [
        (DocumentKind::PrivacyPolicy, PRIVACY, ago(400)),
        (DocumentKind::Terms, TERMS_1, ago(400)),
        (DocumentKind::Terms, TERMS_2, ago(30)),
        (DocumentKind::AboutUs, ABOUT, ago(400)),
    ];
    for (kind, text, date) in documents {
        content::publish(state, &viewer, kind, text, date)
            .await
            .map_err(why)?;
    }
    let hours = (1..=6)
        .map(|weekday| HoursInput {
            weekday,
            opens_at: if weekday == 6 { "09:00" } else { "07:30" }.into(),
            closes_at: if weekday == 6 { "14:00" } else { "18:30" }.into(),
        })
        .collect();
    let info = ShopInput {
        name: "AutoHub Demo Motors".into(),
        tagline: Some("Sales and service under one roof".into()),
        about: Some(
            "Two workshops, a showroom of 150 cars, and a team that knows your car.".into(),
        ),
        address: Some("Torstraße 1, 10119 Berlin".into()),
        phone: Some("+49 30 1234567".into()),
        email: Some("hello@demo.autohub.local".into()),
        website: Some("https://demo.autohub.local".into()),
        social_links: Some(vec![
            "https://social.example/autohub-demo".into(),
            "https://video.example/@autohub-demo".into(),
        ]),
        opening_hours: Some(hours),
    };
    content::update_shop_info(state, &viewer, info)
        .await
        .map_err(why)?;
    Ok(documents.len())
}
