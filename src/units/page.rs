//! The units page's read model, in one place: what a page reads of each unit (its card), of its
//! owner and of its primary photo, how a row of the page's statement is decoded, and which
//! GraphQL fields each part answers in place.
//!
//! The card is one table of fields (`card!` below): each field names its column and, if it is
//! shown as it is, its GraphQL field and value. The struct, the columns the page selects, the
//! row decoder and the in-place values all come from that table, so they cannot disagree; a
//! field of `Unit` that is not on the card needs nothing here (the page then reads whole rows,
//! decoded by name). `tests/units.rs` checks every field of a page against `unit(id)`.

use async_graphql::{InputType, Value};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, SelectStatement};
use sea_orm::{DbErr, FromQueryResult, IdenStatic, Iterable, QueryResult};
use uuid::Uuid;

use super::entity::{unit, unit_photo, UnitStatus};
use crate::accounts::entity::user;
use crate::accounts::service::UserCard;
use crate::money;
use crate::paging::Columns;

/// Declares the card: `field: Type = Column` and, for a field shown as it is,
/// `, "graphqlName" => |card| value`.
macro_rules! card {
    ($( $field:ident : $ty:ty = $col:ident $(, $gql:literal => $show:expr)? ;)+) => {
        /// What the units page shows of a unit: a page that asks for nothing else reads only
        /// these columns, and `Unit` loads the rest of the row if a field needs it. Also what
        /// the page's cursors and the relations (owner, photos, records, sale) need.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct UnitCard {
            $(pub $field: $ty,)+
        }

        /// The card's columns, in the order `UnitCard::read` reads them.
        pub const CARD_COLUMNS: &[unit::Column] = &[$(unit::Column::$col,)+];

        impl From<&unit::Model> for UnitCard {
            fn from(u: &unit::Model) -> Self {
                Self { $($field: u.$field.clone(),)+ }
            }
        }

        impl UnitCard {
            fn read(c: &mut Columns) -> Result<Self, DbErr> {
                Ok(Self { $($field: c.read()?,)+ })
            }

            /// The GraphQL fields the card answers as they are.
            pub const FIELDS: &[&str] = &[$($($gql,)?)+];

            /// Field `name`'s value as its resolver gives it; `None` for a field the card does
            /// not answer.
            pub fn value(&self, name: &str) -> Option<Value> {
                $($(
                    if name == $gql {
                        let show: fn(&Self) -> Value = $show;
                        return Some(show(self));
                    }
                )?)+
                None
            }
        }
    };
}

card! {
    id: Uuid = Id, "id" => |c| Value::String(c.id.to_string());
    vin: String = Vin, "vin" => |c| Value::String(c.vin.clone());
    make: String = Make, "make" => |c| Value::String(c.make.clone());
    model: String = Model, "model" => |c| Value::String(c.model.clone());
    year: i32 = Year, "year" => |c| c.year.to_value();
    mileage: i32 = Mileage, "mileage" => |c| c.mileage.to_value();
    status: UnitStatus = Status, "status" => |c| c.status.to_value();
    is_listed: bool = IsListed, "isListed" => |c| Value::Boolean(c.is_listed);
    list_price_cents: Option<i64> = ListPriceCents,
        "listPrice" => |c| c.list_price_cents.map(money::decimal).to_value();
    price_sort: i64 = PriceSort;
    owner_id: Option<Uuid> = OwnerId;
    created_at: DateTime<Utc> = CreatedAt, "createdAt" => |c| c.created_at.to_value();
}

/// The fields of `Unit` a page answers without reading whole rows: the card's, and the
/// relations (which load what they need).
fn on_the_card(name: &str) -> bool {
    UnitCard::FIELDS.contains(&name)
        || matches!(
            name,
            "__typename" | "owner" | "primaryPhoto" | "photos" | "serviceRecords" | "sale"
        )
}

/// What `UnitPhoto` shows of a photo: the image, and (read when a field asks for them) its
/// details. Never the unit, size or upload time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhotoCard {
    pub id: Uuid,
    pub path: String,
    pub details: Option<PhotoDetails>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhotoDetails {
    pub content_type: String,
    pub alt_text: Option<String>,
    pub position: i32,
    pub is_primary: bool,
}

impl From<unit_photo::Model> for PhotoCard {
    fn from(p: unit_photo::Model) -> Self {
        Self {
            id: p.id,
            path: p.path,
            details: Some(PhotoDetails {
                content_type: p.content_type,
                alt_text: p.alt_text,
                position: p.position,
                is_primary: p.is_primary,
            }),
        }
    }
}

/// The fields of `UnitPhoto` its image answers (the others need its details).
pub const PHOTO_IMAGE_FIELDS: [&str; 3] = ["__typename", "id", "url"];

/// The photo card's columns, in the order `read_photo` reads them: the image, then the details.
const PHOTO_IMAGE: [unit_photo::Column; 2] = [unit_photo::Column::Id, unit_photo::Column::Path];
const PHOTO_DETAILS: [unit_photo::Column; 4] = [
    unit_photo::Column::ContentType,
    unit_photo::Column::AltText,
    unit_photo::Column::Position,
    unit_photo::Column::IsPrimary,
];

/// The owner's columns a page reads: the card (`User` loads the rest if asked).
const OWNER_CARD: [user::Column; 4] = [
    user::Column::Id,
    user::Column::FirstName,
    user::Column::LastName,
    user::Column::AvatarPath,
];

/// A unit's owner and primary photo, read with the page when the client asks for them.
#[derive(Clone, Debug)]
pub struct Preloaded {
    pub owner: Option<UserCard>,
    pub primary_photo: Option<PhotoCard>,
}

/// What a units page reads besides each unit's card.
#[derive(Clone, Copy, Debug, Default)]
pub struct PageReads {
    /// The units' whole rows.
    pub whole_rows: bool,
    /// Each unit's owner card and primary photo, joined.
    pub owner_and_photo: bool,
    /// With the primary photo, its details.
    pub photo_details: bool,
}

impl PageReads {
    /// What a page reads for the fields selected on its units (`edges.node` and `nodes` of the
    /// connection field `page`): whole rows unless the cards answer every field, and the
    /// owner's card and the primary photo in the same statement when either is selected (the
    /// photo's details when asked for).
    pub fn for_selection(page: async_graphql::SelectionField<'_>) -> Self {
        let mut reads = Self::default();
        let units = page.selection_set().flat_map(|f| match f.name() {
            "edges" => f.selection_set().filter(|e| e.name() == "node").collect(),
            "nodes" => vec![f],
            _ => Vec::new(),
        });
        for unit in units {
            for field in unit.selection_set() {
                match field.name() {
                    "owner" => reads.owner_and_photo = true,
                    "primaryPhoto" => {
                        reads.owner_and_photo = true;
                        reads.photo_details |= field
                            .selection_set()
                            .any(|f| !PHOTO_IMAGE_FIELDS.contains(&f.name()));
                    }
                    name => reads.whole_rows |= !on_the_card(name),
                }
            }
        }
        reads
    }

    /// Narrows a units query to what is read: the card's columns unless whole rows are.
    pub fn columns(&self, query: sea_orm::Select<unit::Entity>) -> sea_orm::Select<unit::Entity> {
        use sea_orm::QuerySelect;
        if self.whole_rows {
            query
        } else {
            query.select_only().columns(CARD_COLUMNS.iter().copied())
        }
    }

    /// Adds the owner's card (columns `o_*`) and the primary photo's (`p_*`) to a units
    /// statement, LEFT JOINed, when they are read. The one place the units domain reads the
    /// accounts' table itself: it saves the page a statement, the largest single cost of the
    /// units page (see `benches/units.rs`).
    pub fn join(&self, query: &mut SelectStatement) {
        if !self.owner_and_photo {
            return;
        }
        query.join(
            JoinType::LeftJoin,
            user::Entity,
            Expr::col((user::Entity, user::Column::Id))
                .equals((unit::Entity, unit::Column::OwnerId)),
        );
        // The primary flag as a bare column, not `= ?`: a bound value compared against the
        // partial index's condition would make SQLite re-prepare the statement on every run.
        query.join(
            JoinType::LeftJoin,
            unit_photo::Entity,
            Expr::col((unit_photo::Entity, unit_photo::Column::UnitId))
                .equals((unit::Entity, unit::Column::Id))
                .and(Expr::col((
                    unit_photo::Entity,
                    unit_photo::Column::IsPrimary,
                ))),
        );
        for col in OWNER_CARD {
            query.expr_as(
                Expr::col((user::Entity, col)),
                Alias::new(format!("o_{}", col.as_str())),
            );
        }
        let details = if self.photo_details {
            &PHOTO_DETAILS[..]
        } else {
            &[]
        };
        for &col in PHOTO_IMAGE.iter().chain(details) {
            query.expr_as(
                Expr::col((unit_photo::Entity, col)),
                Alias::new(format!("p_{}", col.as_str())),
            );
        }
    }

    /// Decodes one row of the page's statement: the card (by the card table's order) or the
    /// whole row (by name), then the joined owner and photo, each in its column list's order.
    pub fn decode(&self, row: &QueryResult) -> Result<PageUnit, DbErr> {
        let mut columns = Columns::new(row);
        let (card, whole) = if self.whole_rows {
            let whole = unit::Model::from_query_result(row, "")?;
            columns.skip(unit::Column::iter().count());
            (UnitCard::from(&whole), Some(whole))
        } else {
            (UnitCard::read(&mut columns)?, None)
        };
        let preloaded = if self.owner_and_photo {
            Some(Preloaded {
                owner: read_owner(&mut columns)?,
                primary_photo: read_photo(&mut columns, self.photo_details)?,
            })
        } else {
            None
        };
        Ok(PageUnit {
            card,
            whole,
            preloaded,
        })
    }
}

/// A unit of a page: its card, its whole row when read, what was read with it.
pub struct PageUnit {
    pub card: UnitCard,
    pub whole: Option<unit::Model>,
    pub preloaded: Option<Preloaded>,
}

/// The joined owner's card; none when the unit has no owner.
fn read_owner(c: &mut Columns) -> Result<Option<UserCard>, DbErr> {
    let Some(id) = c.read()? else {
        c.skip(OWNER_CARD.len() - 1);
        return Ok(None);
    };
    Ok(Some(UserCard {
        id,
        first_name: c.read()?,
        last_name: c.read()?,
        avatar_path: c.read()?,
    }))
}

/// The joined primary photo, with its details when they were read; none when the unit has none.
/// Its columns come last in the row: nothing follows that a missing photo would shift.
fn read_photo(c: &mut Columns, details: bool) -> Result<Option<PhotoCard>, DbErr> {
    let Some(id) = c.read()? else {
        return Ok(None);
    };
    let path = c.read()?;
    let details = if details {
        Some(PhotoDetails {
            content_type: c.read()?,
            alt_text: c.read()?,
            position: c.read()?,
            is_primary: c.read()?,
        })
    } else {
        None
    };
    Ok(Some(PhotoCard { id, path, details }))
}
