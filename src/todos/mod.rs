//! The todo feature: shared types and validation, server functions, database access
//! and views, side by side.

pub mod api;
pub mod error;
pub mod listing;
pub mod model;
#[cfg(feature = "ssr")]
pub mod repo;
pub mod view;
