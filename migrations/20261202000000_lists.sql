-- Lists: every todo belongs to one list, and a list's id is its capability URL
-- (/lists/<id>): whoever has the link can read and change the list; nobody can find a
-- list without it.
--
-- Rolling deploys: this migration only expands the schema. Pods of the previous release
-- keep working while this one starts:
-- * their inserts name no list: `todos.list_id` defaults to the list that holds the
--   todos of before (below), and the old counter triggers (`todo_counts`) still run;
-- * their reads see every todo of every list, as they always did: the exposure this
--   release removes lasts until the last old pod is gone (one rollout).
-- The next release contracts: it drops the default of `todos.list_id`, `todo_counts`
-- and its triggers, the list-blind indexes `todos_active` and `todos_completed`, and
-- `todos.updated_at` (docs/architecture.md, "Schema changes").

CREATE TABLE lists (
    -- 128 bits from a CSPRNG: the app's `ListId`, the 26 characters of the URL.
    id         uuid        PRIMARY KEY,
    name       text        NOT NULL DEFAULT 'My tasks',
    created_at timestamptz NOT NULL DEFAULT now(),
    -- The rules of a todo's title (src/text_rules.rs), as far as SQL can say them.
    CONSTRAINT lists_name_not_blank CHECK (btrim(name) <> ''),
    CONSTRAINT lists_name_length    CHECK (char_length(name) <= 200)
);

-- The list of the todos of before. Its id takes 16 random bytes from two
-- gen_random_uuid() calls (pg_strong_random, the server's CSPRNG), skipping the
-- version and variant bits: 128 random bits, like the ids the app makes.
-- `tasks lists` prints its URL for the operator to hand out.
INSERT INTO lists (id)
SELECT (substr(a, 1, 12) || substr(a, 21, 12) || substr(b, 1, 8))::uuid
FROM (SELECT replace(gen_random_uuid()::text, '-', '') AS a,
             replace(gen_random_uuid()::text, '-', '') AS b) AS random;

ALTER TABLE todos ADD COLUMN list_id uuid;
UPDATE todos SET list_id = (SELECT id FROM lists);
ALTER TABLE todos
    ALTER COLUMN list_id SET NOT NULL,
    ADD CONSTRAINT todos_list FOREIGN KEY (list_id) REFERENCES lists (id);
-- For the previous release's inserts during the rollout (see above).
DO $$
BEGIN
    EXECUTE format('ALTER TABLE todos ALTER COLUMN list_id SET DEFAULT %L::uuid',
                   (SELECT id FROM lists));
END $$;

-- A page of one list reads about 50 index entries of that list, whatever the other
-- lists hold: every index leads with the list.
CREATE INDEX todos_by_list           ON todos (list_id, id);
CREATE INDEX todos_active_by_list    ON todos (list_id, id) WHERE NOT completed;
CREATE INDEX todos_completed_by_list ON todos (list_id, id) WHERE completed;

-- Running totals per list, spread over 16 slots per list as `todo_counts` was (the
-- slot of the writing backend process): concurrent writes to one list rarely wait for
-- each other's row lock. A list's slot rows appear with its first write.
CREATE TABLE list_counts (
    list_id   uuid     NOT NULL REFERENCES lists (id),
    slot      smallint NOT NULL CHECK (slot BETWEEN 0 AND 15),
    total     bigint   NOT NULL DEFAULT 0,
    completed bigint   NOT NULL DEFAULT 0,
    PRIMARY KEY (list_id, slot)
);
INSERT INTO list_counts (list_id, slot, total, completed)
SELECT list_id, 0, count(*), count(*) FILTER (WHERE completed)
FROM todos
GROUP BY list_id;

-- Each trigger adds its per-list deltas to this backend's slot of each list it touched.
CREATE FUNCTION list_counts_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO list_counts AS counts (list_id, slot, total, completed)
    SELECT list_id, pg_backend_pid() % 16, count(*), count(*) FILTER (WHERE completed)
    FROM inserted GROUP BY list_id
    ON CONFLICT (list_id, slot) DO UPDATE
    SET total     = counts.total + EXCLUDED.total,
        completed = counts.completed + EXCLUDED.completed;
    RETURN NULL;
END $$;

-- A todo never moves to another list: only the completed counts change.
CREATE FUNCTION list_counts_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO list_counts AS counts (list_id, slot, completed)
    SELECT list_id, pg_backend_pid() % 16, sum(delta)
    FROM (SELECT list_id, 1 AS delta FROM after_update WHERE completed
          UNION ALL
          SELECT list_id, -1 FROM before_update WHERE completed) AS changes
    GROUP BY list_id
    HAVING sum(delta) <> 0
    ON CONFLICT (list_id, slot) DO UPDATE
    SET completed = counts.completed + EXCLUDED.completed;
    RETURN NULL;
END $$;

CREATE FUNCTION list_counts_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO list_counts AS counts (list_id, slot, total, completed)
    SELECT list_id, pg_backend_pid() % 16, -count(*), -count(*) FILTER (WHERE completed)
    FROM deleted GROUP BY list_id
    ON CONFLICT (list_id, slot) DO UPDATE
    SET total     = counts.total + EXCLUDED.total,
        completed = counts.completed + EXCLUDED.completed;
    RETURN NULL;
END $$;

CREATE FUNCTION list_counts_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE list_counts SET total = 0, completed = 0;
    RETURN NULL;
END $$;

CREATE TRIGGER list_counts_insert AFTER INSERT ON todos
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION list_counts_after_insert();
CREATE TRIGGER list_counts_update AFTER UPDATE ON todos
    REFERENCING OLD TABLE AS before_update NEW TABLE AS after_update
    FOR EACH STATEMENT EXECUTE FUNCTION list_counts_after_update();
CREATE TRIGGER list_counts_delete AFTER DELETE ON todos
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION list_counts_after_delete();
CREATE TRIGGER list_counts_truncate AFTER TRUNCATE ON todos
    FOR EACH STATEMENT EXECUTE FUNCTION list_counts_after_truncate();
