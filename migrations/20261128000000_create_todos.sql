-- Todos: the one table of the app.
--
-- The CHECK constraints mirror the validation rules in src/todos/model.rs so that
-- nothing that bypasses the application (a script, a psql session, a future bug)
-- can store a todo that the app itself would reject. The app trims before storing;
-- btrim() only strips spaces, so it is the weaker of the two checks on purpose.
CREATE TABLE todos (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title      text        NOT NULL,
    text       text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT todos_title_not_blank CHECK (btrim(title) <> ''),
    CONSTRAINT todos_title_length    CHECK (char_length(title) <= 200),
    CONSTRAINT todos_text_length     CHECK (char_length(text) <= 4000)
);

-- Serves the listing: newest first, ties (same transaction timestamp) broken by id.
CREATE INDEX todos_newest_first ON todos (created_at DESC, id DESC);
