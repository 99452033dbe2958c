//! The key a create is sent with (`create_todo`'s `key`): 128 random bits, 32 hex
//! digits, one per todo the form sends. Sending the same create again (a retry after a
//! timeout, a double submit) then stores it once.

/// A fresh key: from the operating system's CSPRNG on the server (the form's hidden
/// field, for posts without JavaScript), from the browser's `crypto.getRandomValues`
/// once hydrated.
pub(super) fn new_create_key() -> String {
    let mut bytes = [0u8; 16];
    #[cfg(feature = "ssr")]
    if getrandom::fill(&mut bytes).is_err() {
        // No key: the create is then simply not idempotent.
        return String::new();
    }
    #[cfg(feature = "hydrate")]
    {
        let filled = leptos::prelude::window()
            .crypto()
            .and_then(|crypto| crypto.get_random_values_with_u8_array(&mut bytes));
        if filled.is_err() {
            return String::new();
        }
    }
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
