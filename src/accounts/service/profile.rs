//! Profiles and privacy.

use super::*;

/// The signed-in user, or `None` when nobody is signed in. A bad token is an error.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn me(state: &AppState, viewer: &Viewer) -> AppResult<Option<Person>> {
    match viewer {
        Viewer::Anonymous => Ok(None),
        _ => {
            let identity = viewer.identity()?;
            Ok(Some(Person::own(
                get_user(&state.db, identity.user_id).await?,
            )))
        }
    }
}

/// Anyone signed in may look a user up; what they see of them is decided by `Person`.
#[tracing::instrument(skip_all, fields(viewer = %viewer, id = %id))]
pub async fn user(state: &AppState, viewer: &Viewer, id: Uuid) -> AppResult<Option<Person>> {
    viewer.identity()?;
    let row = user::Entity::find_by_id(id).one(&state.db).await?;
    Ok(row.map(|row| Person::seen_by(viewer, row)))
}

/// Email, phone, address, date of birth (and referral details) are for the user and staff.
fn may_see_private(viewer: &Viewer, user: Uuid) -> bool {
    viewer.is_staff() || viewer.user_id() == Some(user)
}

/// A user as one viewer may see them: the row, and whether its private fields are shown. Only
/// the accounts domain makes one, through the privacy rule, so whatever shows a user (a resolver,
/// a loader of another domain) cannot forget it.
#[derive(Debug, Clone)]
pub struct Person {
    row: user::Model,
    private: bool,
}

impl Person {
    /// `row` as `viewer` may see it.
    pub fn seen_by(viewer: &Viewer, row: user::Model) -> Self {
        Self {
            private: may_see_private(viewer, row.id),
            row,
        }
    }

    /// The account a request just created, signed in to or changed, shown to its owner.
    pub(in crate::accounts) fn own(row: user::Model) -> Self {
        Self { row, private: true }
    }

    /// What everyone may see: id, names, picture, role, status, dates.
    pub fn row(&self) -> &user::Model {
        &self.row
    }

    /// The row with its private fields, when this viewer may see them.
    pub fn private(&self) -> Option<&user::Model> {
        self.private.then_some(&self.row)
    }
}

/// What a list shows of a person: id, name and picture. Lists that join their users read only
/// these columns; `User` loads the rest of the row if a field asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCard {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub avatar_path: Option<String>,
}

/// Absent fields stay as they are; an empty string clears an optional field.
#[derive(Default)]
pub struct ProfileChanges {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub date_of_birth: Option<chrono::NaiveDate>,
    pub address: Option<String>,
    pub zip_code: Option<String>,
    pub bio: Option<String>,
}

#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn update_profile(
    state: &AppState,
    viewer: &Viewer,
    changes: ProfileChanges,
) -> AppResult<Person> {
    let identity = viewer.identity()?;
    let user = get_user(&state.db, identity.user_id).await?;
    let old_phone = user.phone.clone();
    let mut active = user.into_active_model();
    if let Some(v) = changes.first_name {
        active.first_name = Set(input::required("firstName", &v, NAME_MAX)?);
    }
    if let Some(v) = changes.last_name {
        active.last_name = Set(input::required("lastName", &v, NAME_MAX)?);
    }
    if let Some(v) = changes.phone {
        let phone = parse_phone(Some(&v))?.map(Phone::into_inner);
        if phone != old_phone {
            // A new number has to be proven again.
            active.phone_verified = Set(false);
        }
        active.phone = Set(phone);
    }
    if let Some(date) = changes.date_of_birth {
        let today = state.today();
        if date > today || date < today - chrono::Days::new(365 * 130) {
            return Err(AppError::bad_input(
                "dateOfBirth",
                "Enter a real date of birth.",
            ));
        }
        active.date_of_birth = Set(Some(date));
    }
    if let Some(v) = changes.address {
        active.address = Set(input::optional("address", Some(&v), 300)?);
    }
    if let Some(v) = changes.zip_code {
        active.zip_code = Set(input::optional("zipCode", Some(&v), 20)?);
    }
    if let Some(v) = changes.bio {
        active.bio = Set(input::optional("bio", Some(&v), 2000)?);
    }
    active.updated_at = Set(clock::now());
    Ok(Person::own(active.update(&state.db).await?))
}

/// The viewer accepts the TERMS version in effect; any other version is `BAD_USER_INPUT`.
#[tracing::instrument(skip_all, fields(viewer = %viewer, version))]
pub async fn accept_terms(state: &AppState, viewer: &Viewer, version: i32) -> AppResult<Person> {
    let identity = viewer.identity()?;
    let current = crate::content::service::terms_version(state).await?;
    if current != Some(version) {
        let message = match current {
            Some(v) => format!("The terms in effect are version {v}."),
            None => "No terms are in effect yet.".to_owned(),
        };
        return Err(AppError::bad_input("version", message));
    }
    let mut active = get_user(&state.db, identity.user_id)
        .await?
        .into_active_model();
    active.accepted_terms_version = Set(Some(version));
    active.updated_at = Set(clock::now());
    Ok(Person::own(active.update(&state.db).await?))
}

/// Must a user with this accepted version accept the terms in effect? Yes once a TERMS version
/// is in effect that they have not accepted (a newer one, or any when they accepted none).
pub fn must_accept_terms(accepted: Option<i32>, in_effect: Option<i32>) -> bool {
    match (accepted, in_effect) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(a), Some(e)) => a < e,
    }
}

/// Replaces the viewer's picture (JPEG, PNG or WebP by content); the old file is removed.
#[tracing::instrument(skip_all, fields(viewer = %viewer))]
pub async fn upload_avatar(
    state: &AppState,
    viewer: &Viewer,
    file: crate::media::Incoming,
) -> AppResult<Person> {
    let identity = viewer.identity()?;
    let user = get_user(&state.db, identity.user_id).await?;
    let stored = state.media.store_image("file", "avatars", &file).await?;
    let old = user.avatar_path.clone();
    let mut active = user.into_active_model();
    active.avatar_path = Set(Some(stored.path.clone()));
    active.updated_at = Set(clock::now());
    match active.update(&state.db).await {
        Ok(user) => {
            if let Some(old) = old {
                state.media.remove(&old).await;
            }
            Ok(Person::own(user))
        }
        Err(err) => {
            state.media.remove(&stored.path).await;
            Err(err.into())
        }
    }
}
