//! Errors the todo server functions can return, shared by the server and the browser.
//!
//! Each variant carries only what the user may see. Internal causes (SQL, connection
//! details) are logged on the server where they happen and never cross the wire.

use super::model::{FieldErrors, TodoInput, TEXT_MAX_CHARS, TITLE_MAX_CHARS};
use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum TodoError {
    /// The input broke a validation rule (HTTP 422).
    #[error("Please correct the highlighted fields.")]
    Invalid {
        errors: FieldErrors,
        /// What was typed. A form posted without JavaScript is answered with the list
        /// page showing this error; this lets it show the input again.
        submitted: SubmittedTodo,
    },
    /// A list's new name broke a validation rule (HTTP 422).
    #[error("{message}")]
    InvalidName {
        message: String,
        /// What was typed (shortened), to show again.
        submitted: String,
    },
    /// The list holds as many todos as a list may (HTTP 422). `max` is for API
    /// clients; the message leaves it out, since a page shows it from the error in its
    /// URL (no JavaScript), where a crafted link could put any number.
    #[error("This list is full. Delete some todos to add more.")]
    ListFull { max: i64 },
    /// The request was not one our form sends: missing or malformed arguments (HTTP 400).
    #[error("The request was not understood. Please reload the page and try again.")]
    BadRequest,
    /// The todo does not exist (any more): deleted here or elsewhere (HTTP 404).
    #[error("This todo no longer exists: it was deleted, maybe in another tab.")]
    NotFound,
    /// The todo was changed since the page showed it, so the change was not made: it
    /// would have overwritten the other change unseen (HTTP 409).
    #[error("This todo was changed elsewhere, so your change was not saved. Reload the page to see the latest version.")]
    Conflict,
    /// The database cannot take the request right now (HTTP 503).
    #[error("Can't save right now. Please try again in a moment.")]
    Unavailable,
    /// The browser could not reach the server at all.
    #[error("Couldn't reach the server. Check your connection and try again.")]
    Network,
    /// Anything unexpected (HTTP 500). Details are in the server's log only.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
}

/// The raw input of a rejected create, shortened to a bound so that the page showing
/// it again stays a reasonable size even for absurdly long input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmittedTodo {
    pub title: String,
    pub text: String,
}

impl SubmittedTodo {
    pub fn new(title: &str, text: &str) -> Self {
        Self {
            title: title.chars().take(2 * TITLE_MAX_CHARS).collect(),
            text: text.chars().take(2 * TEXT_MAX_CHARS).collect(),
        }
    }

    /// Why this input is refused, worked out here with the shared rules. A page shows
    /// these, never the messages of an error read from its URL: a crafted link could
    /// put any text there (content spoofing).
    pub fn errors(&self) -> FieldErrors {
        TodoInput::parse(&self.title, &self.text)
            .err()
            .unwrap_or_default()
    }
}

impl FromServerFnError for TodoError {
    type Encoder = JsonEncoding;

    /// Errors raised by the server-function machinery itself rather than by our code:
    /// undecodable arguments on the server, an unreachable server in the browser.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let error = match value {
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::MissingArg(_)
            | ServerFnErrorErr::UnsupportedRequestMethod(_) => Self::BadRequest,
            // On the server both come from the request: a body that does not decode
            // (invalid UTF-8, a malformed error in a page's URL) or one the client
            // stopped sending. The client's fault, so a 400, never a 500.
            ServerFnErrorErr::Deserialization(_) | ServerFnErrorErr::Request(_)
                if cfg!(feature = "ssr") =>
            {
                Self::BadRequest
            }
            ServerFnErrorErr::Request(_) => Self::Network,
            _ => Self::Internal,
        };
        #[cfg(feature = "ssr")]
        {
            // The cause may quote the request (an unknown filter value of any length):
            // a short prefix is enough to diagnose it.
            let cause: String = value.to_string().chars().take(200).collect();
            tracing::warn!(%cause, "server function request failed");
            // The arguments did not decode: which list the form was on is unknown.
            error.set_response_status(None);
        }
        error
    }
}

/// HTTP statuses, metric labels and database errors: the server's view of an error.
#[cfg(feature = "ssr")]
mod ssr {
    use super::TodoError;
    use crate::lists::model::ListId;

    impl TodoError {
        /// The HTTP status a server function answers with when it returns this error.
        pub fn status(&self) -> http::StatusCode {
            use http::StatusCode;
            match self {
                Self::Invalid { .. } | Self::InvalidName { .. } | Self::ListFull { .. } => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                Self::BadRequest => StatusCode::BAD_REQUEST,
                Self::NotFound => StatusCode::NOT_FOUND,
                Self::Conflict => StatusCode::CONFLICT,
                Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                Self::Network | Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            }
        }

        /// A short label for metrics.
        pub fn kind(&self) -> &'static str {
            match self {
                Self::Invalid { .. } | Self::InvalidName { .. } => "invalid",
                Self::ListFull { .. } => "list_full",
                Self::BadRequest => "bad_request",
                Self::NotFound => "not_found",
                Self::Conflict => "conflict",
                Self::Unavailable => "unavailable",
                Self::Network => "network",
                Self::Internal => "internal",
            }
        }

        /// Sets this error's status on the response being built (a server function's
        /// answer, or the page being rendered). A plain HTML form post is answered with
        /// the page of the list the form was on, showing this error, with its status.
        pub fn set_response_status(&self, list: Option<ListId>) {
            use crate::server::form_posts;
            if form_posts::is_plain_form_post() {
                form_posts::answer_with_error(list, self.clone(), self.status());
            } else if let Some(response) =
                leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
            {
                response.set_status(self.status());
                if *self == Self::Unavailable {
                    // Overload or a failover: worth retrying shortly, not at once.
                    response.insert_header(
                        http::header::RETRY_AFTER,
                        http::HeaderValue::from_static("1"),
                    );
                }
            }
        }
    }

    /// Database failures become a generic error for the user; the cause goes to the log.
    impl From<sqlx::Error> for TodoError {
        fn from(error: sqlx::Error) -> Self {
            let unavailable = crate::server::db::is_unavailable(&error);
            if unavailable {
                tracing::warn!(%error, "database unavailable");
                Self::Unavailable
            } else {
                tracing::error!(%error, "database error");
                Self::Internal
            }
        }
    }
}
