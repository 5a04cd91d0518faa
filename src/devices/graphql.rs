//! The GraphQL face of devices.

use async_graphql::{Context, Object, Result, ID};
use chrono::{DateTime, Utc};

use super::entity::{device, DevicePlatform};
use super::service;
use crate::graphql::{state, to_id, viewer};

pub struct Device(pub device::Model);

/// A phone or browser registered for the viewer's push notifications.
#[Object]
impl Device {
    /// The device's id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// IOS, ANDROID or WEB.
    async fn platform(&self) -> DevicePlatform {
        self.0.platform
    }
    /// What the app calls it ("Anna's iPhone").
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    /// When it was first registered by this user.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was last registered.
    async fn last_seen_at(&self) -> DateTime<Utc> {
        self.0.last_seen_at
    }
}

#[derive(Default)]
pub struct DevicesQuery;

#[Object]
impl DevicesQuery {
    /// The viewer's devices registered for push notifications.
    async fn my_devices(&self, ctx: &Context<'_>) -> Result<Vec<Device>> {
        Ok(service::my_devices(state(ctx)?, viewer(ctx)?)
            .await?
            .into_iter()
            .map(Device)
            .collect())
    }
}

#[derive(Default)]
pub struct DevicesMutation;

#[Object]
impl DevicesMutation {
    /// Registers this device for push notifications (for as long as this session lasts). A token
    /// registered by another user moves to the viewer.
    async fn register_device(
        &self,
        ctx: &Context<'_>,
        token: String,
        platform: DevicePlatform,
        name: Option<String>,
    ) -> Result<Device> {
        Ok(Device(
            service::register_device(state(ctx)?, viewer(ctx)?, &token, platform, name.as_deref())
                .await?,
        ))
    }

    /// Stops push notifications to one of the viewer's devices; false when it was not theirs.
    async fn unregister_device(&self, ctx: &Context<'_>, token: String) -> Result<bool> {
        Ok(service::unregister_device(state(ctx)?, viewer(ctx)?, &token).await?)
    }
}
