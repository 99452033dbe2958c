-- Completion, concurrent-edit detection, paging and counts.
--
-- All three new columns have constant (or stable) defaults, so adding them rewrites
-- nothing: existing rows read the default.
ALTER TABLE todos
    ADD COLUMN completed  boolean     NOT NULL DEFAULT false,
    -- Raised by every change. A change names the version it was made against and is
    -- refused when the todo moved on meanwhile (another tab, another user): nobody's
    -- edit is overwritten without them seeing it.
    ADD COLUMN version    integer     NOT NULL DEFAULT 1,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT todos_version_positive CHECK (version > 0);

-- The list is ordered by id, newest first, and paged by id (keyset: "the 50 ids below
-- this one"). Identity ids come from a sequence without a per-session cache, so they
-- increase in insertion order; the primary key serves "All". The filtered views get
-- partial indexes, so a page of 50 active or completed todos reads about 50 index
-- entries however many todos there are.
DROP INDEX todos_newest_first;
CREATE INDEX todos_active    ON todos (id) WHERE NOT completed;
CREATE INDEX todos_completed ON todos (id) WHERE completed;

-- "3 items left" on every page load must not count 100,000 rows. Triggers keep running
-- totals instead. The totals are spread over 16 slots, each session writing the one of
-- its backend process: concurrent creates then rarely wait for each other's row lock,
-- which a single counter row would make them do until commit. Readers sum 16 rows.
CREATE TABLE todo_counts (
    slot      smallint PRIMARY KEY CHECK (slot BETWEEN 0 AND 15),
    total     bigint   NOT NULL DEFAULT 0,
    completed bigint   NOT NULL DEFAULT 0
);
INSERT INTO todo_counts (slot) SELECT generate_series(0, 15);
UPDATE todo_counts
SET total     = (SELECT count(*) FROM todos),
    completed = (SELECT count(*) FROM todos WHERE completed)
WHERE slot = 0;

-- Statement-level triggers with transition tables: "mark all as done" over 100,000
-- rows updates one counter row once, not 100,000 times.
CREATE FUNCTION todo_counts_add(total_delta bigint, completed_delta bigint)
RETURNS void LANGUAGE sql AS $$
    UPDATE todo_counts
    SET total = total + total_delta, completed = completed + completed_delta
    WHERE slot = pg_backend_pid() % 16
      AND (total_delta <> 0 OR completed_delta <> 0);
$$;

CREATE FUNCTION todo_counts_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM todo_counts_add(
        (SELECT count(*) FROM inserted),
        (SELECT count(*) FROM inserted WHERE completed));
    RETURN NULL;
END $$;

CREATE FUNCTION todo_counts_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM todo_counts_add(
        0,
        (SELECT count(*) FROM after_update WHERE completed)
          - (SELECT count(*) FROM before_update WHERE completed));
    RETURN NULL;
END $$;

CREATE FUNCTION todo_counts_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM todo_counts_add(
        -(SELECT count(*) FROM deleted),
        -(SELECT count(*) FROM deleted WHERE completed));
    RETURN NULL;
END $$;

CREATE FUNCTION todo_counts_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE todo_counts SET total = 0, completed = 0;
    RETURN NULL;
END $$;

CREATE TRIGGER todo_counts_insert AFTER INSERT ON todos
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION todo_counts_after_insert();
CREATE TRIGGER todo_counts_update AFTER UPDATE ON todos
    REFERENCING OLD TABLE AS before_update NEW TABLE AS after_update
    FOR EACH STATEMENT EXECUTE FUNCTION todo_counts_after_update();
CREATE TRIGGER todo_counts_delete AFTER DELETE ON todos
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION todo_counts_after_delete();
CREATE TRIGGER todo_counts_truncate AFTER TRUNCATE ON todos
    FOR EACH STATEMENT EXECUTE FUNCTION todo_counts_after_truncate();
