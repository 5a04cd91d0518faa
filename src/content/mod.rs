//! Content: policy documents (privacy policy, terms, about us) in versions that take effect on
//! their date, rendered from Markdown to sanitised HTML; the shop's information; the TERMS
//! version in effect, which users accept.

pub mod entity;
pub mod graphql;
pub mod loaders;
pub mod service;
pub mod types;
