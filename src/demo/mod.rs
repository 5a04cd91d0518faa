//! `autohub seed-demo`: a believable dealership for GraphiQL to explore. Everything goes through
//! the services (the same rules as the API), photos are PNGs drawn at run time, and the random
//! choices are seeded, so every run makes the same data. It refuses a database with users.

use chrono::{Datelike, Days};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use sea_orm::{EntityTrait, PaginatorTrait};
use uuid::Uuid;

mod bookings;
mod content;
mod offers;
mod payments;

use crate::accounts::entity::user;
use crate::accounts::service::{create_active_account, NewAccount};
use crate::accounts::Role;
use crate::app::AppState;
use crate::auth::viewer::Identity;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::media::Incoming;
use crate::sales::entity::PaymentMethod;
use crate::sales::service::{self as sales, NewSale, SaleDetails};
use crate::units::entity::{BodyType, FuelType, Transmission};
use crate::units::service::{self as units, NewUnit, UnitDetails};
use crate::workshop::entity::ServiceStatus;
use crate::workshop::service::{self as workshop, NewRecord, RecordDetails};

/// The password of every demo account (printed at the end; this is demo data).
pub const DEMO_PASSWORD: &str = "Demo-Drive-2026";

pub const UNITS: usize = 200;

/// A model and the price of a new one (whole currency units).
type Model = (&'static str, i64);

/// Makes, their models with the price of a new one, and a body type.
const MODELS: &[(&str, &[Model], BodyType)] = &[
    (
        "Toyota",
        &[
            ("Corolla", 26_000),
            ("Camry", 35_000),
            ("RAV4", 38_000),
            ("Hilux", 42_000),
        ],
        BodyType::Sedan,
    ),
    (
        "Honda",
        &[("Civic", 28_000), ("Accord", 36_000), ("CR-V", 38_000)],
        BodyType::Sedan,
    ),
    (
        "Ford",
        &[
            ("Focus", 25_000),
            ("Ranger", 40_000),
            ("Mustang", 55_000),
            ("Transit", 45_000),
        ],
        BodyType::Pickup,
    ),
    (
        "Volkswagen",
        &[("Golf", 30_000), ("Passat", 40_000), ("Tiguan", 40_000)],
        BodyType::Hatchback,
    ),
    (
        "BMW",
        &[("3 Series", 48_000), ("X3", 55_000), ("X5", 80_000)],
        BodyType::Suv,
    ),
    (
        "Hyundai",
        &[
            ("Elantra", 23_000),
            ("Tucson", 33_000),
            ("Santa Fe", 42_000),
        ],
        BodyType::Suv,
    ),
    (
        "Tesla",
        &[("Model 3", 42_000), ("Model Y", 46_000)],
        BodyType::Sedan,
    ),
    (
        "Kia",
        &[("Rio", 18_000), ("Sportage", 32_000), ("Sorento", 42_000)],
        BodyType::Suv,
    ),
];

/// What a dealer asks for a used car: the new price, less 15% when it leaves the lot and 12% a
/// year after that, adjusted by up to ±10% for mileage above or below 15,000 km a year; rounded
/// to a price ending in 90, never below 1,990.
pub fn dealer_price(new_price: i64, age_years: i32, mileage: i32) -> Decimal {
    let age = age_years.max(0);
    let mut value = new_price as f64 * 0.85 * 0.88f64.powi(age);
    let expected = 15_000.0 * f64::from(age.max(1));
    let surplus = (f64::from(mileage) - expected) / expected;
    value *= (1.0 - 0.1 * surplus).clamp(0.9, 1.1);
    let hundreds = (value / 100.0).floor() as i64;
    Decimal::new((hundreds * 100 - 10).max(1_990) * 100, 2)
}
const COLORS: &[(&str, [u8; 3])] = &[
    ("White", [235, 235, 235]),
    ("Black", [30, 30, 35]),
    ("Silver", [180, 185, 190]),
    ("Blue", [40, 80, 170]),
    ("Red", [170, 30, 35]),
    ("Green", [40, 110, 70]),
];
const CUSTOMERS: &[(&str, &str)] = &[
    ("Amara", "Okafor"),
    ("Lars", "Berg"),
    ("Priya", "Sharma"),
    ("Mateo", "Rossi"),
    ("Yuki", "Tanaka"),
    ("Grace", "Mensah"),
    ("Omar", "Haddad"),
    ("Ingrid", "Larsen"),
];
const STAFF: &[(&str, &str, &str)] = &[
    ("sales", "Sam", "Seller"),
    ("service", "Tess", "Wrench"),
    ("advisor", "Ade", "Balogun"),
];
const JOBS: &[&str] = &[
    "Oil and filter change",
    "Brake pads, front axle",
    "Annual inspection",
    "Tyre rotation and balance",
    "Air-conditioning service",
    "Timing belt replacement",
    "Battery replacement",
];

pub struct Seeded {
    pub accounts: Vec<(String, Role)>,
    pub units: usize,
    pub photos: usize,
    pub records: usize,
    pub sales: usize,
    pub bookings: usize,
    pub offers: usize,
    pub documents: usize,
    pub payments: usize,
}

fn viewer_of(user: &user::Model) -> Viewer {
    // The seeder acts as these users directly, without a session.
    Viewer::User(Identity {
        user_id: user.id,
        role: user.role,
        session_id: Uuid::nil(),
    })
}

fn why(err: AppError) -> String {
    format!("seed-demo: {}", err.message())
}

/// A PNG of `w`×`h`: sky above, the unit's colour below with a darker window band and two
/// wheels, shaded per photo so each looks distinct. Flat areas keep the files small.
pub fn demo_png(color: [u8; 3], variant: u8, w: u32, h: u32) -> Result<Vec<u8>, String> {
    let mut pixels = Vec::with_capacity((w * h * 3) as usize);
    let sky = [150 + variant * 20, 190, 225];
    let body_top = h * 2 / 5;
    let wheel = |x: u32, y: u32| {
        let r = h / 8;
        let cy = h * 4 / 5;
        [w / 4, w * 3 / 4]
            .iter()
            .any(|cx| x.abs_diff(*cx).pow(2) + y.abs_diff(cy).pow(2) < r * r)
    };
    for y in 0..h {
        for x in 0..w {
            let px = if wheel(x, y) {
                [25, 25, 28]
            } else if y < body_top {
                sky
            } else if y < body_top + h / 8 && x > w / 5 && x < w * 4 / 5 {
                color.map(|c| c / 2)
            } else {
                color
            };
            pixels.extend(px);
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer
            .write_image_data(&pixels)
            .map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn vin(rng: &mut StdRng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
    (0..17)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

pub async fn seed(state: &AppState) -> Result<Seeded, String> {
    let existing = user::Entity::find()
        .count(&state.db)
        .await
        .map_err(|e| format!("seed-demo: cannot read the database: {e}"))?;
    if existing > 0 {
        return Err(format!(
            "seed-demo: the database already has {existing} users; demo data goes into an empty database only"
        ));
    }
    let mut rng = StdRng::seed_from_u64(2026);
    let mut accounts = Vec::new();
    let account = |local: &str, first: &str, last: &str| NewAccount {
        email: format!("{local}@demo.autohub.local"),
        password: DEMO_PASSWORD.into(),
        first_name: first.into(),
        last_name: last.into(),
        phone: None,
    };
    let admin = create_active_account(state, account("admin", "Ada", "Admin"), Role::Admin)
        .await
        .map_err(why)?;
    accounts.push((admin.email.clone(), Role::Admin));
    let mut staff = Vec::new();
    for (local, first, last) in STAFF {
        let u = create_active_account(state, account(local, first, last), Role::Staff)
            .await
            .map_err(why)?;
        accounts.push((u.email.clone(), Role::Staff));
        staff.push(u);
    }
    let mut customers = Vec::new();
    for (first, last) in CUSTOMERS {
        let local = format!("{}.{}", first.to_lowercase(), last.to_lowercase());
        let u = create_active_account(state, account(&local, first, last), Role::Customer)
            .await
            .map_err(why)?;
        accounts.push((u.email.clone(), Role::Customer));
        customers.push(u);
    }
    let admin_viewer = viewer_of(&admin);
    let today = state.today();
    let this_year = today.year();
    let (mut photos, mut records, mut sold) = (0, 0, 0);
    // Listed stock that stays on sale, and customers' cars: what the demo books.
    let (mut stock, mut owned) = (Vec::new(), Vec::new());
    // One picture per colour and variant, drawn once.
    let mut pictures = std::collections::HashMap::new();

    for i in 0..UNITS {
        let (make, models, body) = MODELS[rng.gen_range(0..MODELS.len())];
        let (model, new_price) = models[rng.gen_range(0..models.len())];
        let (color, rgb) = COLORS[rng.gen_range(0..COLORS.len())];
        // A third belong to customers; the rest is stock, most of it listed.
        let owner = (i % 3 == 0).then(|| &customers[i % customers.len()]);
        let listed = owner.is_none() && rng.gen_bool(0.8);
        let year = rng.gen_range(this_year - 12..=this_year);
        let fuel = match make {
            "Tesla" => FuelType::Electric,
            "Toyota" if rng.gen_bool(0.3) => FuelType::Hybrid,
            _ if rng.gen_bool(0.25) => FuelType::Diesel,
            _ => FuelType::Gasoline,
        };
        let mileage = rng.gen_range(0..20_000) * (this_year - year + 1);
        let asking = dealer_price(new_price, this_year - year, mileage);
        let details = UnitDetails {
            make: Some(make.into()),
            model: Some(model.into()),
            trim: Some(["Base", "SE", "Sport", "Limited"][rng.gen_range(0..4)].into()),
            year: Some(year),
            mileage: Some(mileage),
            fuel_type: Some(fuel),
            body_type: Some(body),
            transmission: Some(if rng.gen_bool(0.8) {
                Transmission::Automatic
            } else {
                Transmission::Manual
            }),
            color: Some(color.into()),
            license_plate: Some(format!("AH-{:04}", 1000 + i)),
            location: Some(["Main lot", "North branch", "Showroom"][i % 3].into()),
            purchase_date: owner.map(|_| today - Days::new(rng.gen_range(30..2000))),
            is_listed: Some(listed),
            list_price: listed.then_some(asking),
            notes: None,
        };
        let creator = owner.map_or(admin_viewer.clone(), viewer_of);
        let unit = units::create_unit(
            state,
            &creator,
            NewUnit {
                vin: vin(&mut rng),
                details,
                owner_id: None,
            },
        )
        .await
        .map_err(why)?;
        match owner {
            Some(o) => owned.push((unit.id, o.clone())),
            None if listed && i % 10 != 1 => stock.push(unit.id),
            None => {}
        }
        for variant in 0..rng.gen_range(1..=3u8) {
            let bytes = match pictures.get(&(color, variant)) {
                Some(bytes) => Vec::clone(bytes),
                None => {
                    let bytes = demo_png(rgb, variant, 320, 200)?;
                    pictures.insert((color, variant), bytes.clone());
                    bytes
                }
            };
            let file = Incoming {
                file_name: format!("{make}-{model}-{variant}.png"),
                bytes,
            };
            let alt = Some(format!("{color} {year} {make} {model}"));
            units::add_photo(state, &admin_viewer, unit.id, file, alt)
                .await
                .map_err(why)?;
            photos += 1;
        }
        // Customers' cars have a workshop history.
        if owner.is_some() {
            let technician = &staff[1 + i % 2];
            for (n, job) in JOBS
                .iter()
                .skip(i % JOBS.len())
                .take(rng.gen_range(1..=3))
                .enumerate()
            {
                let record = workshop::create_record(
                    state,
                    &admin_viewer,
                    NewRecord {
                        unit_id: unit.id,
                        details: RecordDetails {
                            description: Some((*job).into()),
                            location: Some("Main workshop".into()),
                            scheduled_for: Some(today + Days::new(rng.gen_range(1..30))),
                            cost: Some(Decimal::new(rng.gen_range(80..900) * 100, 2)),
                            technician_id: Some(technician.id),
                            notes: None,
                        },
                        is_past_history: false,
                        completed_at: None,
                    },
                )
                .await
                .map_err(why)?;
                records += 1;
                // The oldest jobs are done; the newest one may be waiting or cancelled.
                let path: &[ServiceStatus] = match (n, rng.gen_range(0..4)) {
                    (0, _) => &[ServiceStatus::InProgress, ServiceStatus::Completed],
                    (_, 0) => &[ServiceStatus::Cancelled],
                    (_, 1) => &[],
                    _ => &[ServiceStatus::InProgress, ServiceStatus::Completed],
                };
                for status in path {
                    workshop::set_status(state, &viewer_of(technician), record.id, *status)
                        .await
                        .map_err(why)?;
                }
            }
        } else if i % 10 == 1 {
            // Some stock was sold in the last six months.
            let seller = &staff[0];
            let buyer = &customers[(i / 10) % customers.len()];
            // Sold a little under the asking price.
            let price = (asking * Decimal::new(rng.gen_range(94..=100), 2)).round_dp(0);
            sales::record_sale(
                state,
                &viewer_of(seller),
                NewSale {
                    unit_id: unit.id,
                    salesperson_id: None,
                    details: SaleDetails {
                        price: Some(price),
                        sold_on: Some(today - Days::new(rng.gen_range(0..180))),
                        buyer_name: Some(format!("{} {}", buyer.first_name, buyer.last_name)),
                        buyer_email: Some(buyer.email.clone()),
                        buyer_phone: None,
                        buyer_id: Some(buyer.id),
                        payment_method: Some(
                            [
                                PaymentMethod::Financing,
                                PaymentMethod::BankTransfer,
                                PaymentMethod::Card,
                            ][i % 3],
                        ),
                        notes: None,
                    },
                },
            )
            .await
            .map_err(why)?;
            sold += 1;
        }
    }
    let bookings = bookings::seed(state, &admin, &staff, &customers, &stock, &owned).await?;
    let offers = offers::seed(state, &admin, &customers).await?;
    let documents = content::seed(state, &admin).await?;
    let payments = payments::seed(state, &admin, &staff[0]).await?;
    Ok(Seeded {
        accounts,
        units: UNITS,
        photos,
        records,
        sales: sold,
        bookings,
        offers,
        documents,
        payments,
    })
}

#[cfg(test)]
mod tests {
    use super::dealer_price;
    use rust_decimal::Decimal;

    #[test]
    fn a_dealer_prices_by_age_and_mileage() {
        // A 2014 Passat with 43,758 km, twelve years on: about 7,700, not 428,800.
        let passat = dealer_price(40_000, 12, 43_758);
        assert!(
            passat > Decimal::from(6_000) && passat < Decimal::from(9_000),
            "{passat}"
        );
        // New and unused: 30,000 less 15%, plus 10% for no mileage, ending in 90.
        assert_eq!(dealer_price(30_000, 0, 0), Decimal::new(2_799_000, 2));
        assert!(dealer_price(30_000, 3, 90_000) < dealer_price(30_000, 3, 30_000));
        assert_eq!(dealer_price(10_000, 40, 900_000), Decimal::from(1_990));
    }
}
