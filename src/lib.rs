//! Tasks: a todo app rendered on the server and hydrated in the browser.
//!
//! The crate is built twice by cargo-leptos: once with `ssr` as the server binary, once
//! with `hydrate` as the browser's WebAssembly. `server` exists only in the server
//! build; the todo feature keeps its own server-only parts (database access, the
//! helpers of its server functions) in `ssr` blocks of its files.

pub mod app;
pub mod lists;
#[cfg(feature = "ssr")]
pub mod server;
pub mod text_rules;
pub mod todos;

/// Entry point of the WebAssembly bundle: takes over the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
