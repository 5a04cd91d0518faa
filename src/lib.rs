//! AutoHub: one GraphQL API for a business that sells and services vehicles.

/// Accounts and authentication: users, sessions, codes, staff and admin operations.
pub mod accounts;
/// `AppState` and `App::build`: connect, migrate, bind, serve.
pub mod app;
/// Authentication mechanics: JWTs, password hashing, codes, throttling, the `Viewer`.
pub mod auth;
/// Bookings: test drives, service appointments, the catalog and the locations.
pub mod bookings;
/// The one bounded map behind the process's caches.
pub mod cache;
/// Chat rooms, members, messages, read marks and typing.
pub mod chat;
/// The command line: serve, migrate, create-admin, export-schema.
pub mod cli;
/// The time at the precision the databases keep.
pub mod clock;
/// Configuration read from the environment and validated at start.
pub mod config;
/// Policy documents (Markdown, versioned), the shop's information, terms acceptance.
pub mod content;
/// `autohub seed-demo`: a believable dealership to explore.
pub mod demo;
/// Devices registered for push notifications, and the push queue.
pub mod devices;
/// `AppError`, the one error type, and its mapping to `extensions.code`.
pub mod error;
/// Publish/subscribe: events to topics, delivered to subscriptions after commit.
pub mod events;
/// CSV exports: signed URLs, rows streamed from the domains through a CSV writer.
pub mod exports;
/// Schema assembly, pagination, DataLoaders, operation metrics.
pub mod graphql;
/// The axum router and its layers.
pub mod http;
/// Input hygiene shared by every domain.
pub mod input;
/// Outgoing mail: SMTP or `.eml` files.
pub mod mail;
/// Uploaded files: type sniffing, storage, public and signed URLs.
pub mod media;
/// Counters for `/metrics`.
pub mod metrics;
/// Money: decimals at the API, cents in the database.
pub mod money;
/// Notifications: stored per user, pushed live.
pub mod notifications;
/// Offers and membership plans: the discounts of service appointments.
pub mod offers;
/// Keyset paging: orderings, cursors, windows, slices.
pub mod paging;
/// Payments of bookings and sales: counter, online through the provider, refunds, stats.
pub mod payments;
/// Who is online: sockets counted per user, shared through Redis.
pub mod presence;
/// Referral codes and referrals.
pub mod referrals;
/// Recorded sales, commissions, the sales summary and staff metrics.
pub mod sales;
/// Search that folds non-ASCII text alike on both databases (a folded search column).
pub mod search;
/// Outgoing SMS: a log sender or an HTTP gateway.
pub mod sms;
/// Telemetry: dongles, samples, summaries.
pub mod telemetry;
/// Vehicles and inventory: units and their photos.
pub mod units;
/// Presigned uploads: tickets, PUTs, attaching by `uploadId`, the sweep.
pub mod uploads;
/// The workshop: service records and their transitions.
pub mod workshop;
/// `/graphql/ws`: subscriptions over WebSocket, authenticated at `connection_init`.
pub mod ws;
