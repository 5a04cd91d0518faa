//! The service records table.

use sea_orm::entity::prelude::*;

/// Where a piece of work stands. SCHEDULED → IN_PROGRESS → COMPLETED; SCHEDULED or IN_PROGRESS →
/// CANCELLED; nothing leaves COMPLETED or CANCELLED.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ServiceStatus {
    /// Requested or planned; work has not started.
    #[sea_orm(string_value = "SCHEDULED")]
    Scheduled,
    /// Work has started; the unit is IN_SERVICE.
    #[sea_orm(string_value = "IN_PROGRESS")]
    InProgress,
    /// Done; `completedAt` says when.
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    /// Called off.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

impl ServiceStatus {
    /// The status as a notification says it: "started", "completed"…
    pub fn as_words(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::InProgress => "started",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    /// The transition table: which status may follow which.
    pub fn may_become(self, to: Self) -> bool {
        matches!(
            (self, to),
            (Self::Scheduled, Self::InProgress)
                | (Self::InProgress, Self::Completed)
                | (Self::Scheduled | Self::InProgress, Self::Cancelled)
        )
    }
}

pub mod service_record {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "service_records")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub unit_id: Uuid,
        pub description: String,
        pub location: Option<String>,
        pub scheduled_for: Option<Date>,
        pub completed_at: Option<DateTimeUtc>,
        pub cost_cents: Option<i64>,
        pub status: ServiceStatus,
        pub is_past_history: bool,
        pub technician_id: Option<Uuid>,
        pub notes: Option<String>,
        pub created_by: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[cfg(test)]
mod tests {
    use super::ServiceStatus::{self, *};

    #[test]
    fn the_transition_table() {
        let all = [Scheduled, InProgress, Completed, Cancelled];
        let allowed: Vec<(ServiceStatus, ServiceStatus)> = all
            .iter()
            .flat_map(|a| all.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a.may_become(*b))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Scheduled, InProgress),
                (Scheduled, Cancelled),
                (InProgress, Completed),
                (InProgress, Cancelled)
            ]
        );
    }
}
