//! What every request handler and server function shares.

use super::{db::Database, in_flight::InFlight};
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

/// The router's state. leptos_axum also provides it as context to server rendering and
/// to server functions; handlers take the parts they need through `FromRef`.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Database,
    pub in_flight: InFlight,
    /// Served over HTTPS (`PUBLIC_URL`): cookies are `Secure` and `__Host-` prefixed.
    pub secure_cookies: bool,
    /// The app's origin as browsers see it (`PUBLIC_URL`), when configured.
    pub public_url: Option<String>,
    /// At most this many todos in one list.
    pub list_max_todos: i64,
    /// `/readyz` adds live probes of every database (`READYZ_DETAILS`).
    #[from_ref(skip)]
    pub readyz_details: bool,
}
