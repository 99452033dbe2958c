//! Which todos a list page shows: the filter, the page, and the counts around them.
//! Shared by the server and the browser; the page's URL is the source of truth, so a
//! filtered or paged view survives a reload and can be shared.

use super::{
    error::TodoError,
    model::{CreatedAt, Todo},
};
use crate::lists::model::ListId;
use serde::{Deserialize, Serialize};

/// Todos per page.
pub const PAGE_SIZE: usize = 50;

/// The three views of the list (TodoMVC's filters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Filter {
    #[default]
    All,
    Active,
    Completed,
}

impl Filter {
    pub const EVERY: [Self; 3] = [Self::All, Self::Active, Self::Completed];

    pub fn label(self) -> &'static str {
        match self {
            Self::All => "All",
            Self::Active => "Active",
            Self::Completed => "Completed",
        }
    }

    /// The value of `?filter=` for this view; "All" is the bare list.
    fn query_value(self) -> Option<&'static str> {
        match self {
            Self::All => None,
            Self::Active => Some("active"),
            Self::Completed => Some("completed"),
        }
    }

    /// Whether a todo in this state belongs in this view.
    pub fn shows(self, completed: bool) -> bool {
        match self {
            Self::All => true,
            Self::Active => !completed,
            Self::Completed => completed,
        }
    }

    /// What an empty view says.
    pub fn empty_message(self) -> &'static str {
        match self {
            Self::All => "No todos yet",
            Self::Active => "No active todos",
            Self::Completed => "No completed todos",
        }
    }
}

/// Where a page starts. Pages are cut by id (keyset paging): "the next page" is the
/// todos older than the last one shown, so a page costs the same however deep it is,
/// and todos added meanwhile do not shift it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Cursor {
    /// The newest todos.
    #[default]
    First,
    /// The todos just older than the one with this id.
    OlderThan(i64),
    /// The todos just newer than the one with this id.
    NewerThan(i64),
}

/// A page of a list as its URL's query describes it: ``, `?filter=active`,
/// `?after=120`, `?filter=completed&before=80` (after the list's path, `/lists/<id>`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ListQuery {
    pub filter: Filter,
    pub cursor: Cursor,
}

impl ListQuery {
    /// Reads the list's parameters from a page URL's query (`get` looks one up by name).
    /// Other parameters are left to whoever uses them; a malformed list parameter is an
    /// error rather than silently another page than the one asked for.
    pub fn from_url_query(get: impl Fn(&str) -> Option<String>) -> Result<Self, TodoError> {
        let filter = match get("filter").as_deref() {
            None | Some("" | "all") => Filter::All,
            Some("active") => Filter::Active,
            Some("completed") => Filter::Completed,
            Some(_) => return Err(TodoError::BadRequest),
        };
        let id = |name| -> Result<Option<i64>, TodoError> {
            get(name)
                .map(|value| value.parse().map_err(|_| TodoError::BadRequest))
                .transpose()
        };
        let cursor = Self::cursor(id("after")?, id("before")?)?;
        Ok(Self { filter, cursor })
    }

    /// The cursor from the `after` / `before` ids, of which at most one may be given.
    pub fn cursor(after: Option<i64>, before: Option<i64>) -> Result<Cursor, TodoError> {
        match (after, before) {
            (None, None) => Ok(Cursor::First),
            (Some(id), None) => Ok(Cursor::OlderThan(id)),
            (None, Some(id)) => Ok(Cursor::NewerThan(id)),
            (Some(_), Some(_)) => Err(TodoError::BadRequest),
        }
    }

    /// `after` and `before`, as the URL and the `list_todos` server function take them.
    pub fn after_and_before(self) -> (Option<i64>, Option<i64>) {
        match self.cursor {
            Cursor::First => (None, None),
            Cursor::OlderThan(id) => (Some(id), None),
            Cursor::NewerThan(id) => (None, Some(id)),
        }
    }

    /// The URL query parameters of this page, by name.
    pub fn url_params(self) -> Vec<(&'static str, String)> {
        let (after, before) = self.after_and_before();
        [
            self.filter
                .query_value()
                .map(|value| ("filter", value.to_owned())),
            after.map(|id| ("after", id.to_string())),
            before.map(|id| ("before", id.to_string())),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// This page of `list`: its URL's path and query.
    pub fn href(self, list: ListId) -> String {
        let params: Vec<String> = self
            .url_params()
            .into_iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        let path = list.href();
        if params.is_empty() {
            path
        } else {
            format!("{path}?{}", params.join("&"))
        }
    }

    /// The first page of another view.
    pub fn first_page_of(filter: Filter) -> Self {
        Self {
            filter,
            cursor: Cursor::First,
        }
    }
}

/// One page of the list, with what the controls around it need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TodoPage {
    /// Newest first.
    pub todos: Vec<Todo>,
    pub counts: TodoCounts,
    /// The page of newer todos, if there are any.
    pub newer: Option<ListQuery>,
    /// The page of older todos, if there are any.
    pub older: Option<ListQuery>,
}

/// A page of the list as the list page holds it. It is sent with the server's HTML for
/// hydration, and the titles, texts and times are already in that HTML: sending them
/// again (as JSON) nearly doubled the page. So only the todos' ids, versions and states
/// travel, and the browser reads the rest back from the HTML (`todos::view::dom`);
/// a todo the HTML does not show as the list does travels in full.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownPage {
    pub page: TodoPage,
    /// The todo the server renders in its edit form (`?edit=`), whose title and text
    /// the HTML shows as form fields, maybe with refused input instead.
    pub editing: Option<i64>,
}

/// How a [`ShownPage`] travels with the HTML.
#[derive(Serialize, Deserialize)]
struct ShownPageData {
    /// `[id, version, completed]` of every todo, newest first.
    todos: Vec<(i64, i32, bool)>,
    /// In full: the todo in its edit form, and texts with a carriage return, which the
    /// HTML parser reads as a line feed.
    full: Vec<Todo>,
    counts: TodoCounts,
    newer: Option<ListQuery>,
    older: Option<ListQuery>,
}

impl Serialize for ShownPage {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let TodoPage {
            todos,
            counts,
            newer,
            older,
        } = &self.page;
        let in_full = |todo: &&Todo| Some(todo.id) == self.editing || todo.text.contains('\r');
        ShownPageData {
            todos: todos
                .iter()
                .map(|todo| (todo.id, todo.version, todo.completed))
                .collect(),
            full: todos.iter().filter(in_full).cloned().collect(),
            counts: *counts,
            newer: *newer,
            older: *older,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ShownPage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let ShownPageData {
            todos,
            mut full,
            counts,
            newer,
            older,
        } = ShownPageData::deserialize(deserializer)?;
        let todos = todos
            .into_iter()
            .map(|(id, version, completed)| {
                match full.iter().position(|todo| todo.id == id) {
                    Some(index) => full.swap_remove(index),
                    // Title, text and time to be read from the HTML (`Todo::awaits_html`).
                    None => Todo {
                        id,
                        title: String::new(),
                        text: String::new(),
                        created_at: CreatedAt::default(),
                        completed,
                        version,
                    },
                }
            })
            .collect();
        Ok(Self {
            page: TodoPage {
                todos,
                counts,
                newer,
                older,
            },
            editing: None,
        })
    }
}

/// How many todos there are, in the whole list (not just this page).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TodoCounts {
    pub active: i64,
    pub completed: i64,
}

impl TodoCounts {
    pub fn total(self) -> i64 {
        self.active + self.completed
    }

    /// The counts once one todo became completed (or active again).
    pub fn with_one_marked(self, completed: bool) -> Self {
        let shift = if completed { 1 } else { -1 };
        Self {
            active: self.active - shift,
            completed: self.completed + shift,
        }
    }

    /// The counts once one todo in this state is deleted.
    pub fn without_one(self, completed: bool) -> Self {
        if completed {
            Self {
                completed: self.completed - 1,
                ..self
            }
        } else {
            Self {
                active: self.active - 1,
                ..self
            }
        }
    }

    /// "1 item left", "2 items left", "0 items left".
    pub fn items_left(self) -> String {
        let noun = if self.active == 1 { "item" } else { "items" };
        format!("{} {noun} left", self.active)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &[(&str, &str)]) -> Result<ListQuery, TodoError> {
        ListQuery::from_url_query(|name| {
            query
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
    }

    const LIST: &str = "/lists/00000000000000000000000042";

    fn list() -> ListId {
        LIST.trim_start_matches("/lists/").parse().unwrap()
    }

    fn todo(id: i64, title: &str, text: &str) -> Todo {
        Todo {
            id,
            title: title.to_owned(),
            text: text.to_owned(),
            created_at: CreatedAt::from_html("2026-12-02T05:09:10.356Z".into(), "2 Dec".into()),
            completed: id % 2 == 0,
            version: 3,
        }
    }

    #[test]
    fn a_shown_page_sends_only_what_its_html_does_not_show() {
        let page = TodoPage {
            todos: vec![
                todo(4, "Shown", "in the HTML"),
                todo(3, "Being edited", "as form fields"),
                todo(2, "Carriage", "line\r\nbreak"),
            ],
            counts: TodoCounts {
                active: 2,
                completed: 1,
            },
            newer: None,
            older: Some(ListQuery {
                filter: Filter::Active,
                cursor: Cursor::OlderThan(2),
            }),
        };
        let shown = ShownPage {
            page: page.clone(),
            editing: Some(3),
        };
        let json = serde_json::to_string(&shown).unwrap();
        assert!(
            !json.contains("Shown") && !json.contains("in the HTML"),
            "{json}"
        );

        let received: ShownPage = serde_json::from_str(&json).unwrap();
        let [plain, edited, carriage] = &received.page.todos[..] else {
            panic!("{received:?}");
        };
        // Id, version and state of every todo, in order; the rest awaits the HTML...
        assert!(plain.awaits_html());
        assert_eq!((plain.id, plain.version, plain.completed), (4, 3, true));
        // ...except where the HTML does not show it as the list does.
        assert_eq!([edited, carriage], [&page.todos[1], &page.todos[2]]);
        assert!(!edited.awaits_html() && !carriage.awaits_html());
        assert_eq!(
            (
                received.page.counts,
                received.page.newer,
                received.page.older
            ),
            (page.counts, page.newer, page.older)
        );
    }

    #[test]
    fn a_bare_url_is_the_first_page_of_all_todos() {
        assert_eq!(parse(&[]).unwrap(), ListQuery::default());
        assert_eq!(ListQuery::default().href(list()), LIST);
    }

    #[test]
    fn urls_round_trip() {
        for query in [
            "",
            "?filter=active",
            "?filter=completed&after=120",
            "?before=7",
        ] {
            let href = format!("{LIST}{query}");
            let query: Vec<(&str, &str)> = query
                .trim_start_matches('?')
                .split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| pair.split_once('=').unwrap())
                .collect();
            assert_eq!(parse(&query).unwrap().href(list()), href);
        }
    }

    #[test]
    fn other_parameters_are_left_alone() {
        let query = parse(&[("filter", "active"), ("edit", "5"), ("__err", "x")]).unwrap();
        assert_eq!(query, ListQuery::first_page_of(Filter::Active));
    }

    #[test]
    fn malformed_parameters_are_refused() {
        for query in [
            &[("filter", "done")][..],
            &[("after", "abc")],
            &[("before", "1.5")],
            &[("after", "1"), ("before", "2")],
        ] {
            assert_eq!(parse(query), Err(TodoError::BadRequest), "{query:?}");
        }
    }

    #[test]
    fn the_count_is_pluralised() {
        let left = |active| TodoCounts {
            active,
            completed: 3,
        };
        assert_eq!(left(0).items_left(), "0 items left");
        assert_eq!(left(1).items_left(), "1 item left");
        assert_eq!(left(2).items_left(), "2 items left");
        assert_eq!(left(2).total(), 5);
    }

    #[test]
    fn counts_follow_one_change() {
        let counts = TodoCounts {
            active: 2,
            completed: 1,
        };
        let marked = counts.with_one_marked(true);
        assert_eq!((marked.active, marked.completed), (1, 2));
        assert_eq!(marked.with_one_marked(false), counts);
        assert_eq!(counts.without_one(true).completed, 0);
        assert_eq!(counts.without_one(false).active, 1);
    }

    #[test]
    fn filters_show_what_they_say() {
        assert!(Filter::All.shows(true) && Filter::All.shows(false));
        assert!(Filter::Active.shows(false) && !Filter::Active.shows(true));
        assert!(Filter::Completed.shows(true) && !Filter::Completed.shows(false));
    }
}
