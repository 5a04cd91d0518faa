//! The GraphQL face of content: policy documents, the shop's information.

use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::{DateTime, NaiveDate, Utc};

use super::entity::{document, shop, DocumentKind};
use super::service::{self, ShopInput};
use crate::bookings::graphql::{OpeningHours, OpeningHoursInput};
use crate::graphql::{parse_id, state, to_id, viewer};

pub struct PolicyDocument(pub document::Model);

/// One version of a policy document (privacy policy, terms, about us).
#[Object]
impl PolicyDocument {
    /// This version's id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Which document.
    async fn kind(&self) -> DocumentKind {
        self.0.kind
    }
    /// 1, 2, … per kind.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The text, in Markdown.
    async fn content(&self) -> &str {
        &self.0.content
    }
    /// The text rendered as HTML and sanitised: no script, no event handler, no `javascript:`
    /// link.
    async fn content_html(&self) -> String {
        service::html_of(&self.0).to_string()
    }
    /// The shop's local date from which this version is in effect.
    async fn effective_date(&self) -> NaiveDate {
        self.0.effective_date
    }
    /// When it was published.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

pub struct ShopInfo(pub shop::Model);

/// Who and where the shop is, and when it is open.
#[Object]
impl ShopInfo {
    /// The shop's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// A line under the name.
    async fn tagline(&self) -> Option<&str> {
        self.0.tagline.as_deref()
    }
    /// A few paragraphs about the shop.
    async fn about(&self) -> Option<&str> {
        self.0.about.as_deref()
    }
    /// Its street address.
    async fn address(&self) -> Option<&str> {
        self.0.address.as_deref()
    }
    /// Its phone number.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// Its email address.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// Its website.
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
    /// Links to its social media pages.
    async fn social_links(&self) -> Vec<String> {
        service::social_links(&self.0)
    }
    /// When it is open, in the shop's local time, by weekday.
    async fn opening_hours(&self) -> Vec<OpeningHours> {
        service::opening_hours(&self.0)
            .iter()
            .map(OpeningHours::from)
            .collect()
    }
    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// The shop's information as an admin writes it. Social links and opening hours left out keep
/// their values.
#[derive(InputObject)]
pub struct ShopInfoInput {
    /// The shop's name.
    name: String,
    /// A line under the name (at most 200 characters).
    tagline: Option<String>,
    /// A few paragraphs about the shop (at most 10,000 characters).
    about: Option<String>,
    /// Its street address.
    address: Option<String>,
    /// Its phone number.
    phone: Option<String>,
    /// Its email address.
    email: Option<String>,
    /// Its website (`https://…`).
    website: Option<String>,
    /// Links to its social media pages (at most 10, each `https://…`).
    social_links: Option<Vec<String>>,
    /// When it is open: at most four intervals a weekday, none overlapping.
    opening_hours: Option<Vec<OpeningHoursInput>>,
}

#[derive(Default)]
pub struct ContentQuery;

#[Object]
impl ContentQuery {
    /// The version of a document in effect today (public); null before the first.
    async fn document(
        &self,
        ctx: &Context<'_>,
        kind: DocumentKind,
    ) -> Result<Option<PolicyDocument>> {
        Ok(service::document(state(ctx)?, kind)
            .await?
            .map(PolicyDocument))
    }

    /// Every version of a document, newest first, also those not yet in effect (staff).
    async fn document_history(
        &self,
        ctx: &Context<'_>,
        kind: DocumentKind,
    ) -> Result<Vec<PolicyDocument>> {
        Ok(service::history(state(ctx)?, viewer(ctx)?, kind)
            .await?
            .into_iter()
            .map(PolicyDocument)
            .collect())
    }

    /// The shop's information (public).
    async fn shop_info(&self, ctx: &Context<'_>) -> Result<ShopInfo> {
        Ok(ShopInfo(service::shop_info(state(ctx)?).await?))
    }
}

#[derive(Default)]
pub struct ContentMutation;

#[Object]
impl ContentMutation {
    /// Publishes the next version of a document, in effect from `effectiveDate` (admin).
    async fn publish_document(
        &self,
        ctx: &Context<'_>,
        kind: DocumentKind,
        content: String,
        effective_date: NaiveDate,
    ) -> Result<PolicyDocument> {
        Ok(PolicyDocument(
            service::publish(state(ctx)?, viewer(ctx)?, kind, &content, effective_date).await?,
        ))
    }

    /// Changes a version not yet in effect (admin); one in effect or past is `CONFLICT`.
    async fn update_document(
        &self,
        ctx: &Context<'_>,
        id: ID,
        content: Option<String>,
        effective_date: Option<NaiveDate>,
    ) -> Result<PolicyDocument> {
        let id = parse_id("id", &id)?;
        Ok(PolicyDocument(
            service::update(
                state(ctx)?,
                viewer(ctx)?,
                id,
                content.as_deref(),
                effective_date,
            )
            .await?,
        ))
    }

    /// Deletes the newest version of a document while it is not yet in effect (admin).
    async fn delete_document(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let id = parse_id("id", &id)?;
        Ok(service::delete(state(ctx)?, viewer(ctx)?, id).await?)
    }

    /// Changes the shop's information (admin).
    async fn update_shop_info(&self, ctx: &Context<'_>, input: ShopInfoInput) -> Result<ShopInfo> {
        let input = ShopInput {
            name: input.name,
            tagline: input.tagline,
            about: input.about,
            address: input.address,
            phone: input.phone,
            email: input.email,
            website: input.website,
            social_links: input.social_links,
            opening_hours: input
                .opening_hours
                .map(|hours| hours.into_iter().map(Into::into).collect()),
        };
        Ok(ShopInfo(
            service::update_shop_info(state(ctx)?, viewer(ctx)?, input).await?,
        ))
    }
}
