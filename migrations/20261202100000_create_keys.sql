-- Idempotent creates: a create names a key, chosen by the form that sends it (one per
-- form shown), and a repeated key stores nothing new. A create answered with an error
-- after its commit (a timeout, a failover) is then safe to send again.
--
-- Expand only: a nullable column without a default rewrites nothing and takes its lock
-- for a moment; the previous release never sets it. The unique index comes in the next
-- migration, built CONCURRENTLY (outside a transaction), so that writes go on meanwhile.
ALTER TABLE todos ADD COLUMN create_key uuid;
