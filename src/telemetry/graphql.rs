//! The GraphQL face of telemetry: dongles, samples, summaries, and the mutations.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::entity::{dongle, sample, DongleConnection};
use super::service::{self, SampleInput, Summary};
use crate::graphql::{parse_id, state, to_id, viewer};

pub struct Dongle(pub dongle::Model);

/// An OBD dongle linked to a unit.
#[Object]
impl Dongle {
    /// The link's id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// The dongle's hardware id.
    async fn dongle_id(&self) -> &str {
        &self.0.dongle_id
    }
    /// How it talks to the app.
    async fn connection_type(&self) -> DongleConnection {
        self.0.connection_type
    }
    /// When it was linked to the unit.
    async fn linked_at(&self) -> DateTime<Utc> {
        self.0.linked_at
    }
    /// When its latest sample was recorded.
    async fn last_sample_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_sample_at
    }
}

pub struct TelemetrySample(pub sample::Model);

/// One reading of a unit's dongle.
#[Object]
impl TelemetrySample {
    /// When it was recorded.
    async fn recorded_at(&self) -> DateTime<Utc> {
        micros(self.0.recorded_us).unwrap_or_default()
    }
    /// Speed, km/h.
    async fn speed_kph(&self) -> Option<f64> {
        self.0.speed_kph
    }
    /// Fuel consumption, litres an hour.
    async fn fuel_rate_lph(&self) -> Option<f64> {
        self.0.fuel_rate_lph
    }
    /// Odometer, km.
    async fn odometer_km(&self) -> Option<f64> {
        self.0.odometer_km
    }
}

fn micros(us: i64) -> Option<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp_micros(us)
}

/// The figures of a unit's samples over a range, computed by the database.
#[derive(SimpleObject)]
pub struct TelemetrySummary {
    /// How many samples.
    samples: i32,
    /// The first sample's time.
    from: Option<DateTime<Utc>>,
    /// The last sample's time.
    to: Option<DateTime<Utc>>,
    /// The highest odometer reading less the lowest (0 without readings).
    distance_km: f64,
    /// The highest speed.
    max_speed_kph: Option<f64>,
    /// The mean of the speed readings.
    average_speed_kph: Option<f64>,
    /// Each sample's fuel rate over the time to the next sample, summed.
    fuel_used_liters: Option<f64>,
}

impl From<Summary> for TelemetrySummary {
    fn from(s: Summary) -> Self {
        Self {
            samples: i32::try_from(s.samples).unwrap_or(i32::MAX),
            from: s.first_us.and_then(micros),
            to: s.last_us.and_then(micros),
            distance_km: s.distance_km.unwrap_or(0.0),
            max_speed_kph: s.max_speed_kph,
            average_speed_kph: s.average_speed_kph,
            fuel_used_liters: s.fuel_used_liters,
        }
    }
}

/// What a batch of samples did.
#[derive(SimpleObject)]
pub struct IngestResult {
    /// Samples stored.
    accepted: i32,
    /// Samples already stored (same dongle and time), skipped.
    duplicates: i32,
    /// The unit's mileage afterwards.
    mileage: i32,
}

/// One reading as a dongle sends it.
#[derive(InputObject)]
pub struct TelemetrySampleInput {
    /// When it was recorded (not in the future).
    recorded_at: DateTime<Utc>,
    /// Speed, km/h (0–1,000).
    speed_kph: Option<f64>,
    /// Fuel consumption, litres an hour (0–1,000).
    fuel_rate_lph: Option<f64>,
    /// Odometer, km (0–10,000,000).
    odometer_km: Option<f64>,
}

#[derive(Default)]
pub struct TelemetryMutation;

#[Object]
impl TelemetryMutation {
    /// Links an OBD dongle to a unit (its owner or staff). A unit has one dongle and a dongle
    /// one unit; a second link of either is `CONFLICT`.
    async fn link_dongle(
        &self,
        ctx: &Context<'_>,
        unit_id: ID,
        dongle_id: String,
        connection_type: DongleConnection,
    ) -> Result<Dongle> {
        let unit = parse_id("unitId", &unit_id)?;
        Ok(Dongle(
            service::link_dongle(state(ctx)?, viewer(ctx)?, unit, &dongle_id, connection_type)
                .await?,
        ))
    }

    /// Unlinks a unit's dongle (its owner or staff); its samples stay with the unit.
    async fn unlink_dongle(&self, ctx: &Context<'_>, unit_id: ID) -> Result<bool> {
        let unit = parse_id("unitId", &unit_id)?;
        Ok(service::unlink_dongle(state(ctx)?, viewer(ctx)?, unit).await?)
    }

    /// Stores a batch of at most 5,000 samples of a linked dongle (the unit's owner or staff):
    /// samples already stored are skipped, and the unit's mileage rises to the highest odometer
    /// reading (rounded down).
    async fn ingest_telemetry(
        &self,
        ctx: &Context<'_>,
        dongle_id: String,
        samples: Vec<TelemetrySampleInput>,
    ) -> Result<IngestResult> {
        let samples: Vec<SampleInput> = samples
            .into_iter()
            .map(|s| SampleInput {
                recorded_at: s.recorded_at,
                speed_kph: s.speed_kph,
                fuel_rate_lph: s.fuel_rate_lph,
                odometer_km: s.odometer_km,
            })
            .collect();
        let done = service::ingest(state(ctx)?, viewer(ctx)?, &dongle_id, &samples).await?;
        Ok(IngestResult {
            accepted: i32::try_from(done.accepted).unwrap_or(i32::MAX),
            duplicates: i32::try_from(done.duplicates).unwrap_or(i32::MAX),
            mileage: done.mileage,
        })
    }
}
