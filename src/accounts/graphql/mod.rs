//! The GraphQL face of accounts: `User`, `Session`, `AuthPayload`, their inputs, and the
//! account queries and mutations. Resolvers parse arguments and call the service.

use async_graphql::{Context, InputObject, Object, Result, Upload, Value, ID};
use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::entity::{session, user, AccountStatus, MembershipTier, Role};
use super::loaders::{Online, UserId, Users};
use super::service::{
    self, NewAccount, Person, ProfileChanges, RegisterInput as NewCustomer, SignedIn, UserCard,
};
use crate::app::AppState;
use crate::content::loaders::{Terms, TermsInEffect};
use crate::error::AppError;
use crate::graphql::in_place::{value, PlainFields};
use crate::graphql::pagination::{self, Page};
use crate::graphql::{client, loader, parse_id, read_file, state, to_id, viewer};
use crate::paging::PageArgs;
use crate::referrals::service::referral_link;

/// Fields whose answer depends on which staff member asks, not only on their role (see
/// `graphql::fanout`): whether a session is the viewer's own.
pub const PERSONAL: &[&str] = &["current"];

mod inputs;
mod objects;
mod operations;

pub use inputs::*;
pub use objects::*;
pub use operations::*;
