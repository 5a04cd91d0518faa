//! The API's behaviour tests: one binary, so the suite links once. Each test starts the real
//! server on a free port with a fresh database (SQLite, or PostgreSQL when TEST_DATABASE_URL is
//! set) and speaks HTTP to it as a frontend does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod accounts_codes;
mod accounts_roles;
mod accounts_signup;
mod accounts_throttle;
mod accounts_tokens;
mod bookings;
mod bookings_flow;
mod chat;
mod clients;
mod content;
mod delivery;
mod demo;
mod exports;
mod fanout;
mod in_place;
mod limits;
mod live;
mod nested;
mod offers;
mod payments;
mod photos;
mod push;
mod referral_credit;
mod sales;
mod scale_out;
mod schema;
mod search;
mod server;
mod social;
mod telemetry;
mod units;
mod uploads;
mod visibility;
mod workshop;
