//! Accounts: users, their sessions and refresh tokens, one-time codes, and referrals.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    PasswordHash,
    FirstName,
    LastName,
    Phone,
    PhoneVerified,
    Role,
    Status,
    EmailVerified,
    DateOfBirth,
    Address,
    ZipCode,
    Bio,
    AvatarPath,
    MembershipTier,
    ReferralCode,
    RewardsBalance,
    LastSeenAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    DeviceName,
    UserAgent,
    IpAddress,
    CreatedAt,
    LastUsedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    TokenHash,
    SessionId,
    CreatedAt,
    RotatedAt,
}

#[derive(DeriveIden)]
enum OneTimeCodes {
    Table,
    Id,
    Purpose,
    Target,
    UserId,
    CodeHash,
    Attempts,
    ExpiresAt,
    ConsumedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Referrals {
    Table,
    Id,
    ReferrerId,
    ReferredId,
    Code,
    Status,
    RewardPoints,
    CreatedAt,
    CreditedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(string_len_uniq(Users::Email, 254))
                    .col(string(Users::PasswordHash))
                    .col(string_len(Users::FirstName, 100))
                    .col(string_len(Users::LastName, 100))
                    .col(string_len_null(Users::Phone, 32))
                    .col(boolean(Users::PhoneVerified).default(false))
                    .col(string_len(Users::Role, 16))
                    .col(string_len(Users::Status, 32))
                    .col(boolean(Users::EmailVerified).default(false))
                    .col(date_null(Users::DateOfBirth))
                    .col(string_len_null(Users::Address, 300))
                    .col(string_len_null(Users::ZipCode, 20))
                    .col(string_len_null(Users::Bio, 2000))
                    .col(string_null(Users::AvatarPath))
                    .col(string_len(Users::MembershipTier, 16))
                    .col(string_len_uniq(Users::ReferralCode, 16))
                    .col(integer(Users::RewardsBalance).default(0))
                    .col(timestamp_with_time_zone_null(Users::LastSeenAt))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_users_phone")
                    .table(Users::Table)
                    .col(Users::Phone)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(pk_uuid(Sessions::Id))
                    .col(uuid(Sessions::UserId))
                    .col(string_len_null(Sessions::DeviceName, 100))
                    .col(string_len_null(Sessions::UserAgent, 300))
                    .col(string_len_null(Sessions::IpAddress, 64))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastUsedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user")
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(string_len(RefreshTokens::TokenHash, 64).primary_key())
                    .col(uuid(RefreshTokens::SessionId))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RotatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refresh_tokens_session")
                            .from(RefreshTokens::Table, RefreshTokens::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_session")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::SessionId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OneTimeCodes::Table)
                    .col(pk_uuid(OneTimeCodes::Id))
                    .col(string_len(OneTimeCodes::Purpose, 32))
                    .col(string_len(OneTimeCodes::Target, 254))
                    .col(uuid_null(OneTimeCodes::UserId))
                    .col(string_len(OneTimeCodes::CodeHash, 64))
                    .col(integer(OneTimeCodes::Attempts).default(0))
                    .col(timestamp_with_time_zone(OneTimeCodes::ExpiresAt))
                    .col(timestamp_with_time_zone_null(OneTimeCodes::ConsumedAt))
                    .col(timestamp_with_time_zone(OneTimeCodes::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_one_time_codes_user")
                            .from(OneTimeCodes::Table, OneTimeCodes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_one_time_codes_target")
                    .table(OneTimeCodes::Table)
                    .col(OneTimeCodes::Purpose)
                    .col(OneTimeCodes::Target)
                    .col(OneTimeCodes::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Referrals::Table)
                    .col(pk_uuid(Referrals::Id))
                    .col(uuid(Referrals::ReferrerId))
                    .col(uuid_uniq(Referrals::ReferredId))
                    .col(string_len(Referrals::Code, 16))
                    .col(string_len(Referrals::Status, 16))
                    .col(integer(Referrals::RewardPoints))
                    .col(timestamp_with_time_zone(Referrals::CreatedAt))
                    .col(timestamp_with_time_zone_null(Referrals::CreditedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_referrals_referrer")
                            .from(Referrals::Table, Referrals::ReferrerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_referrals_referred")
                            .from(Referrals::Table, Referrals::ReferredId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_referrals_referrer")
                    .table(Referrals::Table)
                    .col(Referrals::ReferrerId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Referrals::Table.into_iden(),
            OneTimeCodes::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
