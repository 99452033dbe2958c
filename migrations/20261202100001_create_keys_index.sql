-- no-transaction
-- (sqlx runs a migration starting with that line outside a transaction: CREATE INDEX
-- CONCURRENTLY cannot run in one.) Built without blocking writes to todos. Should the
-- build fail (a lock or statement timeout), PostgreSQL leaves an INVALID index behind
-- and sqlx records nothing: the retry then fails loudly on "already exists" rather than
-- skipping a broken index (as IF NOT EXISTS would). Recovery: `DROP INDEX CONCURRENTLY
-- todos_create_key;` then rerun the migration (docs/deploy.md, migrations).
CREATE UNIQUE INDEX CONCURRENTLY todos_create_key
    ON todos (list_id, create_key) WHERE create_key IS NOT NULL;
