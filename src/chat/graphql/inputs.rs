//! Chat's inputs.

use super::*;

/// What a chat room may be about.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ChatSubjectType {
    /// A unit.
    Unit,
    /// A service record.
    ServiceRecord,
    /// A sale.
    Sale,
    /// A booking.
    Booking,
}

impl From<ChatSubjectType> for SubjectType {
    fn from(t: ChatSubjectType) -> Self {
        match t {
            ChatSubjectType::Unit => Self::Unit,
            ChatSubjectType::ServiceRecord => Self::ServiceRecord,
            ChatSubjectType::Sale => Self::Sale,
            ChatSubjectType::Booking => Self::Booking,
        }
    }
}

/// Opens (or finds) a support room.
#[derive(InputObject)]
pub struct OpenSupportRoomInput {
    /// What it is about, in a few words.
    pub(super) title: String,
    /// The kind of subject, with `subjectId`.
    pub(super) subject_type: Option<ChatSubjectType>,
    /// The subject: the customer's unit, service record or sale.
    pub(super) subject_id: Option<ID>,
    /// Staff only: the customer the room is for.
    pub(super) customer_id: Option<ID>,
}

/// A new group room (staff).
#[derive(InputObject)]
pub struct CreateGroupRoomInput {
    /// Its name.
    pub(super) title: String,
    /// What it is for.
    pub(super) description: Option<String>,
    /// A label for clients (every group room is read by its members only).
    pub(super) is_private: Option<bool>,
    /// Staff to add besides the creator.
    pub(super) member_ids: Option<Vec<ID>>,
}

/// Changes to a room; absent fields stay.
#[derive(InputObject)]
pub struct UpdateChatRoomInput {
    /// A new name.
    pub(super) title: Option<String>,
    /// A new description; an empty string clears it.
    pub(super) description: Option<String>,
    /// False closes the room.
    pub(super) is_active: Option<bool>,
    /// A label for clients (every group room is read by its members only).
    pub(super) is_private: Option<bool>,
}

impl TryFrom<OpenSupportRoomInput> for OpenSupport {
    type Error = AppError;

    fn try_from(i: OpenSupportRoomInput) -> Result<Self, AppError> {
        let subject = match (
            i.subject_type,
            parse_optional_id("subjectId", i.subject_id.as_ref())?,
        ) {
            (Some(kind), Some(id)) => Some((kind.into(), id)),
            (None, None) => None,
            _ => {
                return Err(AppError::bad_input(
                    "subjectId",
                    "Give subjectType and subjectId together.",
                ))
            }
        };
        Ok(Self {
            title: i.title,
            subject,
            customer_id: parse_optional_id("customerId", i.customer_id.as_ref())?,
        })
    }
}

impl TryFrom<CreateGroupRoomInput> for NewGroup {
    type Error = AppError;

    fn try_from(i: CreateGroupRoomInput) -> Result<Self, AppError> {
        let member_ids = i
            .member_ids
            .unwrap_or_default()
            .iter()
            .map(|id| parse_id("memberIds", id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            title: i.title,
            description: i.description,
            is_private: i.is_private.unwrap_or(false),
            member_ids,
        })
    }
}

impl From<UpdateChatRoomInput> for RoomUpdate {
    fn from(i: UpdateChatRoomInput) -> Self {
        Self {
            title: i.title,
            description: i.description,
            is_active: i.is_active,
            is_private: i.is_private,
        }
    }
}
