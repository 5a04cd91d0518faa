//! DataLoaders, created per request (so nothing is cached across viewers or requests): every
//! field that loads a related row goes through one of these, one query per batch.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::accounts::entity::user;
use crate::chat::entity::{member, message, room};
use crate::chat::service as chat;
use crate::error::AppError;
use crate::sales::entity::sale;
use crate::sales::service as sales;
use crate::units::entity::{unit, unit_photo};
use crate::units::service as units;
use crate::workshop::entity::service_record;
use crate::workshop::service as workshop;

pub struct Loaders {
    /// Users by id: buyer, createdBy, referrer…
    pub users: DataLoader<UserLoader>,
    /// Users again, one loader per relation that nested pages reach at different moments
    /// (owners with the page, technicians after the records, salespeople after the sales): each
    /// batch then holds exactly the keys one level produced, so a query's statement count does
    /// not depend on which level finishes first.
    pub owners: DataLoader<UserLoader>,
    pub technicians: DataLoader<UserLoader>,
    pub salespeople: DataLoader<UserLoader>,
    /// Units by id: the unit of a service record or a sale.
    pub units: DataLoader<UnitLoader>,
    /// A unit's photos in order (also gives its primary photo).
    pub photos: DataLoader<PhotosLoader>,
    /// A unit's service records, newest first.
    pub unit_records: DataLoader<UnitRecordsLoader>,
    /// A unit's sale.
    pub unit_sale: DataLoader<UnitSaleLoader>,
    /// Chat rooms by id.
    pub rooms: DataLoader<RoomLoader>,
    /// A room's members in the order they joined.
    pub room_members: DataLoader<RoomMembersLoader>,
    /// A room's newest message, by room and its `last_seq`.
    pub last_message: DataLoader<LastMessageLoader>,
    /// The viewer's unread messages per room.
    pub unread: DataLoader<UnreadLoader>,
}

impl Loaders {
    /// `delay`: how long each loader gathers keys before it runs its batch; `viewer`: whose
    /// unread counts the `unread` loader reads.
    pub fn new(db: DatabaseConnection, delay: std::time::Duration, viewer: Option<Uuid>) -> Self {
        let users = || DataLoader::new(UserLoader { db: db.clone() }, tokio::spawn).delay(delay);
        Self {
            users: users(),
            owners: users(),
            technicians: users(),
            salespeople: users(),
            units: DataLoader::new(UnitLoader { db: db.clone() }, tokio::spawn).delay(delay),
            photos: DataLoader::new(PhotosLoader { db: db.clone() }, tokio::spawn).delay(delay),
            unit_records: DataLoader::new(UnitRecordsLoader { db: db.clone() }, tokio::spawn)
                .delay(delay),
            unit_sale: DataLoader::new(UnitSaleLoader { db: db.clone() }, tokio::spawn)
                .delay(delay),
            rooms: DataLoader::new(RoomLoader { db: db.clone() }, tokio::spawn).delay(delay),
            room_members: DataLoader::new(RoomMembersLoader { db: db.clone() }, tokio::spawn)
                .delay(delay),
            last_message: DataLoader::new(LastMessageLoader { db: db.clone() }, tokio::spawn)
                .delay(delay),
            unread: DataLoader::new(UnreadLoader { db, viewer }, tokio::spawn).delay(delay),
        }
    }
}

/// Loaders made on first use: what a WebSocket connection carries (connection data cannot be
/// added to later). They batch and never cache, so one set serves the connection's lifetime.
pub struct LazyLoaders {
    db: DatabaseConnection,
    delay: std::time::Duration,
    viewer: Option<Uuid>,
    made: std::sync::OnceLock<Loaders>,
}

impl LazyLoaders {
    pub fn new(db: DatabaseConnection, delay: std::time::Duration, viewer: Option<Uuid>) -> Self {
        Self {
            db,
            delay,
            viewer,
            made: std::sync::OnceLock::new(),
        }
    }

    pub fn get(&self) -> &Loaders {
        self.made
            .get_or_init(|| Loaders::new(self.db.clone(), self.delay, self.viewer))
    }
}

/// `Loader::Error` must be `Clone`; `AppError` is, and keeps its code.
#[derive(Clone)]
pub struct LoadError(pub AppError);

impl From<LoadError> for async_graphql::Error {
    fn from(err: LoadError) -> Self {
        err.0.into()
    }
}

impl From<AppError> for LoadError {
    fn from(err: AppError) -> Self {
        Self(err)
    }
}

pub struct UserLoader {
    db: DatabaseConnection,
}

impl Loader<Uuid> for UserLoader {
    type Value = user::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = user::Entity::find()
            .filter(user::Column::Id.is_in(keys.iter().copied()))
            .all(&self.db)
            .await
            .map_err(|e| LoadError(e.into()))?;
        Ok(rows.into_iter().map(|u| (u.id, u)).collect())
    }
}

pub struct UnitLoader {
    db: DatabaseConnection,
}

impl Loader<Uuid> for UnitLoader {
    type Value = unit::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = units::units_by_id(&self.db, keys).await?;
        Ok(rows.into_iter().map(|u| (u.id, u)).collect())
    }
}

/// Groups rows by their parent id, keeping their order.
fn grouped<M>(rows: Vec<M>, parent: impl Fn(&M) -> Uuid) -> HashMap<Uuid, Vec<M>> {
    let mut map: HashMap<Uuid, Vec<M>> = HashMap::new();
    for row in rows {
        map.entry(parent(&row)).or_default().push(row);
    }
    map
}

pub struct PhotosLoader {
    db: DatabaseConnection,
}

impl Loader<Uuid> for PhotosLoader {
    type Value = Vec<unit_photo::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = units::photos_of(&self.db, keys).await?;
        Ok(grouped(rows, |p| p.unit_id))
    }
}

pub struct UnitRecordsLoader {
    db: DatabaseConnection,
}

impl Loader<Uuid> for UnitRecordsLoader {
    type Value = Vec<service_record::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = workshop::records_of_units(&self.db, keys).await?;
        Ok(grouped(rows, |r| r.unit_id))
    }
}

pub struct UnitSaleLoader {
    db: DatabaseConnection,
}

impl Loader<Uuid> for UnitSaleLoader {
    type Value = sale::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = sales::sales_of_units(&self.db, keys).await?;
        Ok(rows.into_iter().map(|s| (s.unit_id, s)).collect())
    }
}

pub struct RoomLoader {
    db: DatabaseConnection,
}

impl Loader<Uuid> for RoomLoader {
    type Value = room::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = chat::rooms_by_ids(&self.db, keys).await?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

pub struct RoomMembersLoader {
    db: DatabaseConnection,
}

impl Loader<Uuid> for RoomMembersLoader {
    type Value = Vec<member::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = chat::members_of(&self.db, keys).await?;
        Ok(grouped(rows, |m| m.room_id))
    }
}

pub struct LastMessageLoader {
    db: DatabaseConnection,
}

impl Loader<(Uuid, i64)> for LastMessageLoader {
    type Value = message::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[(Uuid, i64)],
    ) -> Result<HashMap<(Uuid, i64), Self::Value>, Self::Error> {
        let rows = chat::last_messages(&self.db, keys).await?;
        Ok(rows.into_iter().map(|m| ((m.room_id, m.seq), m)).collect())
    }
}

pub struct UnreadLoader {
    db: DatabaseConnection,
    viewer: Option<Uuid>,
}

impl Loader<Uuid> for UnreadLoader {
    type Value = u64;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let Some(viewer) = self.viewer else {
            return Ok(HashMap::new());
        };
        Ok(chat::unread_in_rooms(&self.db, viewer, keys).await?)
    }
}
