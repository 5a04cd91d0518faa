//! The accounts' inputs.

use super::*;

/// A new customer account.
#[derive(InputObject)]
pub struct RegisterInput {
    /// Email address; a code is sent there to verify it.
    pub(super) email: String,
    /// At least 8 characters, not only digits, not a common password, not containing the email or names.
    pub(super) password: String,
    /// Given name.
    pub(super) first_name: String,
    /// Family name.
    pub(super) last_name: String,
    /// Phone number, for sign-in by texted code.
    pub(super) phone: Option<String>,
    /// Someone's referral code (`REF-XXXXXX`).
    pub(super) referral_code: Option<String>,
    /// Must be true: the user accepts the terms of service.
    pub(super) accept_terms: bool,
}

/// Changes to the viewer's profile. Absent fields stay as they are; an empty string clears one.
#[derive(InputObject)]
pub struct UpdateProfileInput {
    /// Given name.
    pub(super) first_name: Option<String>,
    /// Family name.
    pub(super) last_name: Option<String>,
    /// Phone number; a new number must be verified again.
    pub(super) phone: Option<String>,
    /// Date of birth.
    pub(super) date_of_birth: Option<NaiveDate>,
    /// Postal address.
    pub(super) address: Option<String>,
    /// Postal code.
    pub(super) zip_code: Option<String>,
    /// A few words about the user.
    pub(super) bio: Option<String>,
}

/// A staff or admin account, active at once.
#[derive(InputObject)]
pub struct CreateStaffInput {
    /// Email address.
    pub(super) email: String,
    /// Initial password (same policy as sign-up).
    pub(super) password: String,
    /// Given name.
    pub(super) first_name: String,
    /// Family name.
    pub(super) last_name: String,
    /// Phone number.
    pub(super) phone: Option<String>,
    /// STAFF or ADMIN.
    pub(super) role: Role,
}

/// Narrows `users`; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct UserFilter {
    /// Part of the email, first or last name, case-insensitive.
    pub(super) search: Option<String>,
    /// Only these roles.
    pub(super) roles: Option<Vec<Role>>,
    /// Only these statuses.
    pub(super) statuses: Option<Vec<AccountStatus>>,
}

impl From<RegisterInput> for NewCustomer {
    fn from(i: RegisterInput) -> Self {
        Self {
            account: NewAccount {
                email: i.email,
                password: i.password,
                first_name: i.first_name,
                last_name: i.last_name,
                phone: i.phone,
            },
            referral_code: i.referral_code,
            accept_terms: i.accept_terms,
        }
    }
}

impl From<UpdateProfileInput> for ProfileChanges {
    fn from(i: UpdateProfileInput) -> Self {
        Self {
            first_name: i.first_name,
            last_name: i.last_name,
            phone: i.phone,
            date_of_birth: i.date_of_birth,
            address: i.address,
            zip_code: i.zip_code,
            bio: i.bio,
        }
    }
}

/// The account part (the role is passed beside it).
impl From<CreateStaffInput> for NewAccount {
    fn from(i: CreateStaffInput) -> Self {
        Self {
            email: i.email,
            password: i.password,
            first_name: i.first_name,
            last_name: i.last_name,
            phone: i.phone,
        }
    }
}

impl From<UserFilter> for service::UserFilter {
    fn from(f: UserFilter) -> Self {
        Self {
            search: f.search,
            roles: f.roles,
            statuses: f.statuses,
        }
    }
}
