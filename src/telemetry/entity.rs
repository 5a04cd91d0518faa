//! The tables of telemetry: dongles linked to units, and the samples they send.

use sea_orm::entity::prelude::*;

/// How a dongle talks to the app.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DongleConnection {
    /// Bluetooth Low Energy, through the phone.
    #[sea_orm(string_value = "BLE")]
    Ble,
    /// The car's or the dongle's Wi-Fi.
    #[sea_orm(string_value = "WIFI")]
    Wifi,
    /// The dongle's own mobile connection to a cloud service.
    #[sea_orm(string_value = "CLOUD")]
    Cloud,
}

pub mod dongle {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dongles")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(unique)]
        pub unit_id: Uuid,
        /// The hardware id, as the dongle reports it.
        #[sea_orm(unique)]
        pub dongle_id: String,
        pub connection_type: DongleConnection,
        pub linked_at: DateTimeUtc,
        pub last_sample_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod sample {
    use super::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "telemetry_samples")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub unit_id: Uuid,
        pub dongle_id: String,
        /// Microseconds since the Unix epoch.
        pub recorded_us: i64,
        pub speed_kph: Option<f64>,
        pub fuel_rate_lph: Option<f64>,
        pub odometer_km: Option<f64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
