//! Server functions of lists: what the list page shows around the todos, and renaming.
//! Named endpoints, as the todo feature's (`todos::api`).

use super::model::{ListHeader, ListId};
use crate::todos::error::TodoError;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use ssr::*;

/// The list's name and link, and the lists this browser used ("Your lists"), read
/// where this client's own writes are visible. Opening a list remembers it first in
/// this browser's cookie.
#[server(prefix = "/api", endpoint = "open_list")]
pub async fn open_list(list: ListId) -> Result<ListHeader, TodoError> {
    let result = async {
        let state = state()?;
        let parts = use_context::<http::request::Parts>().ok_or(TodoError::Internal)?;
        let remembered = remembered_lists::read(&parts.headers, state.secure_cookies);
        let candidates = remembered_lists::with_first(list, &remembered);
        let found = state
            .db
            .read(read_your_writes::last_write(), |connection| {
                let candidates = candidates.clone();
                Box::pin(async move { repo::names(connection, &candidates).await })
            })
            .await?;
        // Lists that were opened but never written to exist nowhere but in the cookie;
        // they are forgotten once another list is opened.
        let yours: Vec<ListLink> = candidates
            .iter()
            .filter_map(|id| match found.iter().find(|link| link.id == *id) {
                Some(link) => Some(link.clone()),
                None if *id == list => Some(ListLink {
                    id: list,
                    name: DEFAULT_NAME.to_owned(),
                }),
                None => None,
            })
            .collect();
        let kept: Vec<ListId> = yours.iter().map(|link| link.id).collect();
        if kept != remembered {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.append_header(
                    http::header::SET_COOKIE,
                    remembered_lists::set_cookie(&kept, state.secure_cookies),
                );
            }
        }
        Ok(ListHeader {
            name: repo::shown_name(&found, list),
            link: format!("{}{}", origin(&state, &parts), list.href()),
            yours,
        })
    }
    .await;
    finish("open_list", list, result)
}

/// Names the list; returns the name as stored (trimmed).
#[server(prefix = "/api", endpoint = "rename_list")]
pub async fn rename_list(list: ListId, name: String) -> Result<String, TodoError> {
    let result = async {
        let name = parse_name(&name).map_err(|message| TodoError::InvalidName {
            message,
            submitted: name.chars().take(2 * NAME_MAX_CHARS).collect(),
        })?;
        write(&database()?, list, &[], move |primary| {
            Box::pin(async move { repo::rename(primary, list, &name).await.map(|()| Ok(name)) })
        })
        .await
    }
    .await;
    finish("rename_list", list, result)
}

#[cfg(feature = "ssr")]
mod ssr {
    pub use super::super::{
        model::{parse_name, ListLink, DEFAULT_NAME, NAME_MAX_CHARS},
        repo,
    };
    use crate::server::state::AppState;
    pub use crate::server::{
        read_your_writes, remembered_lists,
        server_fns::{database, finish, state, write},
    };
    use http::{header::HOST, request::Parts};

    /// The app's origin as the browser sees it: `PUBLIC_URL`, or this request's host
    /// over plain HTTP (local development, compose).
    pub fn origin(state: &AppState, parts: &Parts) -> String {
        if let Some(public_url) = &state.public_url {
            return public_url.clone();
        }
        let host = parts
            .headers
            .get(HOST)
            .and_then(|host| host.to_str().ok())
            .or_else(|| parts.uri.authority().map(|authority| authority.as_str()))
            .unwrap_or("localhost");
        format!("http://{host}")
    }
}
