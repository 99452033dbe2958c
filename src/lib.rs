//! Tasks: a todo app rendered on the server and hydrated in the browser.
//!
//! The crate is built twice by cargo-leptos: once with `ssr` as the server binary, once
//! with `hydrate` as the browser's WebAssembly. Everything under the `ssr` block below
//! exists only on the server; the todo feature keeps its own server-only parts
//! (database access) behind the same flag in `todos/mod.rs`.

pub mod app;
pub mod todos;

// ---- server only ------------------------------------------------------------------
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod form_posts;
#[cfg(feature = "ssr")]
pub mod health;
#[cfg(feature = "ssr")]
pub mod in_flight;
#[cfg(feature = "ssr")]
pub mod metrics;
#[cfg(feature = "ssr")]
pub mod middleware;
#[cfg(feature = "ssr")]
pub mod read_your_writes;
#[cfg(feature = "ssr")]
pub mod shutdown;
#[cfg(feature = "ssr")]
pub mod startup;
#[cfg(feature = "ssr")]
pub mod telemetry;
// -----------------------------------------------------------------------------------

/// Entry point of the WebAssembly bundle: takes over the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
