//! Values of offers that parse input: a position with a search radius (and the great-circle
//! arithmetic behind "within `radiusKm`"), and a discount.

use rust_decimal::Decimal;

use super::entity::DiscountKind;
use crate::error::{AppError, AppResult};
use crate::money;

/// The Earth's mean radius (IUGG), in kilometres.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;
/// The radius `offers` searches when none is given.
pub const DEFAULT_RADIUS_KM: f64 = 50.0;
/// Half the Earth's circumference: every place is at most this far.
const MAX_RADIUS_KM: f64 = std::f64::consts::PI * EARTH_RADIUS_KM;

/// Where the viewer is and how far they would go.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Around {
    pub latitude: f64,
    pub longitude: f64,
    pub radius_km: f64,
}

impl Around {
    /// Both coordinates or neither; a radius only with them.
    pub fn parse(
        latitude: Option<f64>,
        longitude: Option<f64>,
        radius_km: Option<f64>,
    ) -> AppResult<Option<Self>> {
        let (latitude, longitude) = match (latitude, longitude) {
            (None, None) if radius_km.is_some() => {
                return Err(AppError::bad_input(
                    "radiusKm",
                    "A radius needs a latitude and a longitude.",
                ))
            }
            (None, None) => return Ok(None),
            (Some(_), None) => {
                return Err(AppError::bad_input(
                    "longitude",
                    "Give a longitude with the latitude.",
                ))
            }
            (None, Some(_)) => {
                return Err(AppError::bad_input(
                    "latitude",
                    "Give a latitude with the longitude.",
                ))
            }
            (Some(lat), Some(lon)) => (lat, lon),
        };
        if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
            return Err(AppError::bad_input(
                "latitude",
                "Latitude runs from -90 to 90.",
            ));
        }
        if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
            return Err(AppError::bad_input(
                "longitude",
                "Longitude runs from -180 to 180.",
            ));
        }
        let radius_km = radius_km.unwrap_or(DEFAULT_RADIUS_KM);
        if !radius_km.is_finite() || radius_km <= 0.0 {
            return Err(AppError::bad_input(
                "radiusKm",
                "The radius must be more than 0 km.",
            ));
        }
        Ok(Some(Self {
            latitude,
            longitude,
            radius_km: radius_km.min(MAX_RADIUS_KM),
        }))
    }

    /// Is this place within the radius (great-circle distance)?
    pub fn reaches(&self, latitude: f64, longitude: f64) -> bool {
        great_circle_km(self.latitude, self.longitude, latitude, longitude) <= self.radius_km
    }

    /// Every place within the radius lies in this box (a cheap filter an index can serve).
    pub fn bounding_box(&self) -> BoundingBox {
        let angle = self.radius_km / EARTH_RADIUS_KM;
        let lat = self.latitude.to_radians();
        let (south, north) = (lat - angle, lat + angle);
        let half_pi = std::f64::consts::FRAC_PI_2;
        if south <= -half_pi || north >= half_pi {
            // The circle holds a pole: every longitude.
            return BoundingBox {
                south: south.max(-half_pi).to_degrees(),
                north: north.min(half_pi).to_degrees(),
                longitudes: vec![(-180.0, 180.0)],
            };
        }
        // The widest longitude span of the circle (at the latitude where it touches the
        // meridians), not the span at the centre's latitude.
        let spread = (angle.sin() / lat.cos()).asin().to_degrees();
        let (west, east) = (self.longitude - spread, self.longitude + spread);
        let longitudes = if west < -180.0 {
            vec![(west + 360.0, 180.0), (-180.0, east)]
        } else if east > 180.0 {
            vec![(west, 180.0), (-180.0, east - 360.0)]
        } else {
            vec![(west, east)]
        };
        BoundingBox {
            south: south.to_degrees(),
            north: north.to_degrees(),
            longitudes,
        }
    }
}

/// Latitudes `south..=north`, and one or two longitude ranges (two across the antimeridian).
#[derive(Clone, Debug, PartialEq)]
pub struct BoundingBox {
    pub south: f64,
    pub north: f64,
    pub longitudes: Vec<(f64, f64)>,
}

/// The great-circle distance between two places, by the haversine formula.
pub fn great_circle_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// A discount as kept: hundredths (cents of an amount, basis points of a percentage).
pub fn discount_value(kind: DiscountKind, value: Decimal) -> AppResult<i64> {
    let hundredths = money::cents("discountValue", value, false)?;
    if kind == DiscountKind::Percent && hundredths > 10_000 {
        return Err(AppError::bad_input(
            "discountValue",
            "A percentage runs from 0 to 100.",
        ));
    }
    Ok(hundredths)
}

/// What a discount takes off a price in cents: never more than the price.
pub fn discount_cents(kind: DiscountKind, value: i64, price_cents: i64) -> i64 {
    let off = match kind {
        DiscountKind::Percent => money::share(price_cents, i32::try_from(value).unwrap_or(10_000)),
        DiscountKind::Amount => value,
    };
    off.clamp(0, price_cents.max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BERLIN: (f64, f64) = (52.5200, 13.4050);
    const HAMBURG: (f64, f64) = (53.5511, 9.9937);
    const MUNICH: (f64, f64) = (48.1351, 11.5820);
    const POTSDAM: (f64, f64) = (52.3906, 13.0645);

    #[test]
    fn great_circle_distances_of_known_cities() {
        let d = |a: (f64, f64), b: (f64, f64)| great_circle_km(a.0, a.1, b.0, b.1);
        assert!(
            (d(BERLIN, HAMBURG) - 255.3).abs() < 1.5,
            "{}",
            d(BERLIN, HAMBURG)
        );
        assert!(
            (d(BERLIN, MUNICH) - 504.4).abs() < 2.0,
            "{}",
            d(BERLIN, MUNICH)
        );
        assert!(
            (d(BERLIN, POTSDAM) - 26.8).abs() < 1.0,
            "{}",
            d(BERLIN, POTSDAM)
        );
        assert!(d(BERLIN, BERLIN).abs() < 1e-9);
    }

    fn inside(b: &BoundingBox, lat: f64, lon: f64) -> bool {
        (b.south..=b.north).contains(&lat)
            && b.longitudes.iter().any(|(w, e)| (*w..=*e).contains(&lon))
    }

    #[test]
    fn the_box_holds_every_place_the_circle_reaches() {
        let centres = [
            BERLIN,
            (0.0, 179.9),
            (0.0, -179.9),
            (89.0, 0.0),
            (-60.0, 20.0),
        ];
        for (lat, lon) in centres {
            let around = Around {
                latitude: lat,
                longitude: lon,
                radius_km: 300.0,
            };
            let b = around.bounding_box();
            for i in 0..72 {
                for step in [0.5, 0.99] {
                    // Points on rings inside the circle, in every direction.
                    let bearing = f64::from(i) * 5.0_f64.to_radians();
                    let angle = step * 300.0 / EARTH_RADIUS_KM;
                    let (p, l) = (lat.to_radians(), lon.to_radians());
                    let p2 = (p.sin() * angle.cos() + p.cos() * angle.sin() * bearing.cos()).asin();
                    let l2 = l
                        + (bearing.sin() * angle.sin() * p.cos())
                            .atan2(angle.cos() - p.sin() * p2.sin());
                    let lon2 = (l2.to_degrees() + 540.0) % 360.0 - 180.0;
                    assert!(around.reaches(p2.to_degrees(), lon2));
                    assert!(
                        inside(&b, p2.to_degrees(), lon2),
                        "{lat},{lon} → {},{lon2}",
                        p2.to_degrees()
                    );
                }
            }
        }
    }

    #[test]
    fn positions_come_whole_and_in_range() {
        assert_eq!(Around::parse(None, None, None).ok(), Some(None));
        assert!(Around::parse(Some(52.0), None, None).is_err());
        assert!(Around::parse(None, None, Some(10.0)).is_err());
        assert!(Around::parse(Some(91.0), Some(0.0), None).is_err());
        assert!(Around::parse(Some(0.0), Some(0.0), Some(0.0)).is_err());
        let around = Around::parse(Some(1.0), Some(2.0), None).ok().flatten();
        assert_eq!(around.map(|a| a.radius_km), Some(DEFAULT_RADIUS_KM));
    }

    #[test]
    fn discounts_never_take_more_than_the_price() {
        assert_eq!(discount_cents(DiscountKind::Percent, 1_000, 12_345), 1_235);
        assert_eq!(
            discount_cents(DiscountKind::Percent, 10_000, 12_345),
            12_345
        );
        assert_eq!(discount_cents(DiscountKind::Amount, 5_000, 3_000), 3_000);
        assert_eq!(discount_cents(DiscountKind::Amount, 500, 3_000), 500);
        let d = |s: &str| s.parse::<Decimal>().unwrap_or_default();
        assert!(discount_value(DiscountKind::Percent, d("100.01")).is_err());
        assert_eq!(
            discount_value(DiscountKind::Percent, d("12.5")).ok(),
            Some(1_250)
        );
        assert_eq!(
            discount_value(DiscountKind::Amount, d("250")).ok(),
            Some(25_000)
        );
    }
}
