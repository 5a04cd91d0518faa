//! Chat: support, direct and group rooms, members with read marks, messages
//! numbered per room, typing indicators; every change published to the room once it commits.

pub mod entity;
pub mod events;
pub mod graphql;
pub mod loaders;
pub mod service;
pub mod typing;
