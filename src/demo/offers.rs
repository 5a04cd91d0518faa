//! The demo's offers and members: customers in every tier, and offers by tier, by make and by
//! location.

use chrono::{Duration, Utc};
use rust_decimal::Decimal;

use super::{viewer_of, why};
use crate::accounts::entity::{user, MembershipTier};
use crate::accounts::service as accounts;
use crate::app::AppState;
use crate::bookings::service as bookings;
use crate::offers::entity::DiscountKind;
use crate::offers::service::{self as offers, OfferInput};

/// Title, description, kind, value (hundredths), tiers, makes, the location's index (if any).
type DemoOffer = (
    &'static str,
    &'static str,
    DiscountKind,
    i64,
    &'static [MembershipTier],
    &'static [&'static str],
    Option<usize>,
);

const OFFERS: &[DemoOffer] = &[
    (
        "Winter check for everyone",
        "Ten percent off any appointment before the snow.",
        DiscountKind::Percent,
        1_000,
        &[],
        &[],
        None,
    ),
    (
        "Premium weekend",
        "Twenty percent off for Plus and Premium members.",
        DiscountKind::Percent,
        2_000,
        &[MembershipTier::Plus, MembershipTier::Premium],
        &[],
        None,
    ),
    (
        "BMW service days",
        "Fifty off any service of a BMW.",
        DiscountKind::Amount,
        5_000,
        &[],
        &["BMW"],
        None,
    ),
    (
        "Tesla tyre swap",
        "Thirty off for Tesla owners at members' level.",
        DiscountKind::Amount,
        3_000,
        &[
            MembershipTier::Basic,
            MembershipTier::Plus,
            MembershipTier::Premium,
        ],
        &["Tesla"],
        None,
    ),
    (
        "Opening of the second workshop",
        "Fifteen percent off at our newest location.",
        DiscountKind::Percent,
        1_500,
        &[],
        &[],
        Some(1),
    ),
];

/// Gives customers tiers (every fourth stays NONE) and creates the offers; returns how many.
pub async fn seed(
    state: &AppState,
    admin: &user::Model,
    customers: &[user::Model],
) -> Result<usize, String> {
    let admin_viewer = viewer_of(admin);
    let tiers = [
        MembershipTier::None,
        MembershipTier::Basic,
        MembershipTier::Plus,
        MembershipTier::Premium,
    ];
    for (i, customer) in customers.iter().enumerate() {
        let tier = tiers[i % tiers.len()];
        if tier != MembershipTier::None {
            accounts::set_membership_tier(state, &admin_viewer, customer.id, tier)
                .await
                .map_err(why)?;
        }
    }
    let locations = bookings::locations(state).await.map_err(why)?;
    let now = Utc::now();
    for (title, description, kind, value, tiers, makes, location) in OFFERS {
        let input = OfferInput {
            title: (*title).into(),
            description: (*description).into(),
            terms: Some("One offer per appointment; the best one applies by itself.".into()),
            discount_kind: *kind,
            discount_value: Decimal::new(*value, 2),
            starts_at: now - Duration::days(7),
            expires_at: now + Duration::days(60),
            eligible_tiers: Some(tiers.to_vec()),
            makes: Some(makes.iter().map(|m| (*m).to_string()).collect()),
            location_ids: Some(
                location
                    .and_then(|i| locations.get(i))
                    .map(|l| l.id)
                    .into_iter()
                    .collect(),
            ),
            is_active: Some(true),
        };
        offers::create_offer(state, &admin_viewer, input)
            .await
            .map_err(why)?;
    }
    Ok(OFFERS.len())
}
