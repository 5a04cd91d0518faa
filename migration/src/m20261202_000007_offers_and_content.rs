//! Offers with their eligibility (tiers, makes, locations), membership plans (one per tier, made
//! here so they exist from the first start), what a booking's price took off, policy documents
//! in versions, the shop's information (one row, a default made here), and the TERMS version each
//! user accepted.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    AcceptedTermsVersion,
}

#[derive(DeriveIden, Clone, Copy)]
enum ServiceLocations {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Bookings {
    Table,
    OfferId,
    OfferTitle,
    OfferDiscountCents,
    PlanDiscountCents,
}

#[derive(DeriveIden, Clone, Copy)]
enum Offers {
    Table,
    Id,
    Title,
    Description,
    Terms,
    DiscountKind,
    DiscountValue,
    StartsAt,
    ExpiresAt,
    IsActive,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OfferTiers {
    Table,
    OfferId,
    Tier,
}

#[derive(DeriveIden, Clone, Copy)]
enum OfferMakes {
    Table,
    OfferId,
    Make,
    MakeKey,
}

#[derive(DeriveIden, Clone, Copy)]
enum OfferLocations {
    Table,
    OfferId,
    LocationId,
}

#[derive(DeriveIden, Clone, Copy)]
enum MembershipPlans {
    Table,
    Tier,
    Name,
    MonthlyPriceCents,
    Benefits,
    DiscountBasisPoints,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PolicyDocuments {
    Table,
    Id,
    Kind,
    Version,
    Content,
    EffectiveDate,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ShopInfo {
    Table,
    Id,
    Name,
    Tagline,
    About,
    Address,
    Phone,
    Email,
    Website,
    SocialLinks,
    OpeningHours,
    UpdatedAt,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .to_owned()
}

/// The plans of the first start: (tier, name, monthly cents, discount in basis points, benefits).
const PLANS: [(&str, &str, i64, i32, &str); 4] = [
    ("NONE", "No membership", 0, 0, "[]"),
    (
        "BASIC",
        "Basic",
        999,
        500,
        r#"["5% off every service","Member offers"]"#,
    ),
    (
        "PLUS",
        "Plus",
        1999,
        1000,
        r#"["10% off every service","Member offers","Free seasonal check"]"#,
    ),
    (
        "PREMIUM",
        "Premium",
        2999,
        1500,
        r#"["15% off every service","Member offers","Free seasonal check","Courtesy car"]"#,
    ),
];

/// Monday to Friday 08:00–18:00, Saturday 09:00–13:00 (minutes after local midnight).
const DEFAULT_HOURS: &str = r#"[{"weekday":1,"opens":480,"closes":1080},{"weekday":2,"opens":480,"closes":1080},{"weekday":3,"opens":480,"closes":1080},{"weekday":4,"opens":480,"closes":1080},{"weekday":5,"opens":480,"closes":1080},{"weekday":6,"opens":540,"closes":780}]"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict};
        manager
            .create_table(
                Table::create()
                    .table(Offers::Table)
                    .col(pk_uuid(Offers::Id))
                    .col(string_len(Offers::Title, 120))
                    .col(string_len(Offers::Description, 2000))
                    .col(string_len_null(Offers::Terms, 4000))
                    .col(string_len(Offers::DiscountKind, 16))
                    // Hundredths: cents of an AMOUNT, hundredths of a percent of a PERCENT.
                    .col(big_integer(Offers::DiscountValue))
                    .col(timestamp_with_time_zone(Offers::StartsAt))
                    .col(timestamp_with_time_zone(Offers::ExpiresAt))
                    .col(boolean(Offers::IsActive).default(true))
                    .col(timestamp_with_time_zone(Offers::CreatedAt))
                    .col(timestamp_with_time_zone(Offers::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_offers_expires_at")
                    .table(Offers::Table)
                    .col(Offers::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        // No rows of an offer in a table below means "every tier / make / location".
        manager
            .create_table(
                Table::create()
                    .table(OfferTiers::Table)
                    .col(uuid(OfferTiers::OfferId))
                    .col(string_len(OfferTiers::Tier, 16))
                    .primary_key(
                        Index::create()
                            .col(OfferTiers::OfferId)
                            .col(OfferTiers::Tier),
                    )
                    .foreign_key(&mut fk(
                        "fk_offer_tiers_offer",
                        (OfferTiers::Table, OfferTiers::OfferId),
                        (Offers::Table, Offers::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OfferMakes::Table)
                    .col(uuid(OfferMakes::OfferId))
                    .col(string_len(OfferMakes::Make, 60))
                    // Folded (case and Unicode form): makes compare case-insensitively.
                    .col(string_len(OfferMakes::MakeKey, 60))
                    .primary_key(
                        Index::create()
                            .col(OfferMakes::OfferId)
                            .col(OfferMakes::MakeKey),
                    )
                    .foreign_key(&mut fk(
                        "fk_offer_makes_offer",
                        (OfferMakes::Table, OfferMakes::OfferId),
                        (Offers::Table, Offers::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OfferLocations::Table)
                    .col(uuid(OfferLocations::OfferId))
                    .col(uuid(OfferLocations::LocationId))
                    .primary_key(
                        Index::create()
                            .col(OfferLocations::OfferId)
                            .col(OfferLocations::LocationId),
                    )
                    .foreign_key(&mut fk(
                        "fk_offer_locations_offer",
                        (OfferLocations::Table, OfferLocations::OfferId),
                        (Offers::Table, Offers::Id),
                        Cascade,
                    ))
                    // A location an offer names is not deleted: the offer would silently
                    // become valid everywhere.
                    .foreign_key(&mut fk(
                        "fk_offer_locations_location",
                        (OfferLocations::Table, OfferLocations::LocationId),
                        (ServiceLocations::Table, ServiceLocations::Id),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_offer_locations_location")
                    .table(OfferLocations::Table)
                    .col(OfferLocations::LocationId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MembershipPlans::Table)
                    .col(string_len(MembershipPlans::Tier, 16).primary_key())
                    .col(string_len(MembershipPlans::Name, 120))
                    .col(big_integer(MembershipPlans::MonthlyPriceCents))
                    // A JSON array of strings.
                    .col(text(MembershipPlans::Benefits))
                    .col(integer(MembershipPlans::DiscountBasisPoints))
                    .col(timestamp_with_time_zone(MembershipPlans::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        let mut plans = Query::insert();
        plans.into_table(MembershipPlans::Table).columns([
            MembershipPlans::Tier,
            MembershipPlans::Name,
            MembershipPlans::MonthlyPriceCents,
            MembershipPlans::DiscountBasisPoints,
            MembershipPlans::Benefits,
            MembershipPlans::UpdatedAt,
        ]);
        for (tier, name, price, discount, benefits) in PLANS {
            plans.values_panic([
                tier.into(),
                name.into(),
                price.into(),
                discount.into(),
                benefits.into(),
                Expr::current_timestamp(),
            ]);
        }
        manager.exec_stmt(plans).await?;
        for column in [
            ColumnDef::new(Bookings::OfferId).uuid().null().to_owned(),
            ColumnDef::new(Bookings::OfferTitle)
                .string_len(120)
                .null()
                .to_owned(),
            ColumnDef::new(Bookings::OfferDiscountCents)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(Bookings::PlanDiscountCents)
                .big_integer()
                .null()
                .to_owned(),
        ] {
            // One column per statement: SQLite alters one thing at a time.
            manager
                .alter_table(
                    Table::alter()
                        .table(Bookings::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(ColumnDef::new(Users::AcceptedTermsVersion).integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PolicyDocuments::Table)
                    .col(pk_uuid(PolicyDocuments::Id))
                    .col(string_len(PolicyDocuments::Kind, 16))
                    .col(integer(PolicyDocuments::Version))
                    .col(text(PolicyDocuments::Content))
                    .col(date(PolicyDocuments::EffectiveDate))
                    .col(timestamp_with_time_zone(PolicyDocuments::CreatedAt))
                    .col(timestamp_with_time_zone(PolicyDocuments::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Two publications racing for the next version: the database keeps one.
        manager
            .create_index(
                Index::create()
                    .name("idx_policy_documents_kind_version")
                    .table(PolicyDocuments::Table)
                    .col(PolicyDocuments::Kind)
                    .col(PolicyDocuments::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ShopInfo::Table)
                    // Always 1: there is one shop.
                    .col(integer(ShopInfo::Id).primary_key())
                    .col(string_len(ShopInfo::Name, 120))
                    .col(string_len_null(ShopInfo::Tagline, 200))
                    .col(text_null(ShopInfo::About))
                    .col(string_len_null(ShopInfo::Address, 300))
                    .col(string_len_null(ShopInfo::Phone, 40))
                    .col(string_len_null(ShopInfo::Email, 254))
                    .col(string_len_null(ShopInfo::Website, 500))
                    // JSON arrays: links, and opening intervals in local minutes.
                    .col(text(ShopInfo::SocialLinks))
                    .col(text(ShopInfo::OpeningHours))
                    .col(timestamp_with_time_zone(ShopInfo::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(ShopInfo::Table)
                    .columns([
                        ShopInfo::Id,
                        ShopInfo::Name,
                        ShopInfo::Tagline,
                        ShopInfo::SocialLinks,
                        ShopInfo::OpeningHours,
                        ShopInfo::UpdatedAt,
                    ])
                    .values_panic([
                        1.into(),
                        "AutoHub".into(),
                        "Sales and service under one roof".into(),
                        "[]".into(),
                        DEFAULT_HOURS.into(),
                        Expr::current_timestamp(),
                    ])
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ShopInfo::Table.into_iden(),
            PolicyDocuments::Table.into_iden(),
            MembershipPlans::Table.into_iden(),
            OfferLocations::Table.into_iden(),
            OfferMakes::Table.into_iden(),
            OfferTiers::Table.into_iden(),
            Offers::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::AcceptedTermsVersion)
                    .to_owned(),
            )
            .await?;
        for column in [
            Bookings::OfferId,
            Bookings::OfferTitle,
            Bookings::OfferDiscountCents,
            Bookings::PlanDiscountCents,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Bookings::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
