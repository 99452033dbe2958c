#!/usr/bin/env python3
"""Fails when a migration would break the release that keeps serving while it runs.

The deploy migrates first (a Helm pre-upgrade Job) while the pods of the previous release
keep serving, and a rollback runs that release on the new schema. So a migration may only
expand, must not hold a lock that stops reads or writes for longer than a moment, and
contracts (takes away) only what no running release uses any more. Rules, for every
migration not in GRANDFATHERED ("existing table" = one not created in the same file):

index-concurrently  CREATE [UNIQUE] INDEX on an existing table must be CONCURRENTLY, and
                    ADD CONSTRAINT ... UNIQUE / PRIMARY KEY must be USING INDEX (one built
                    that way): a plain build blocks every write to the table until it ends.
no-transaction      a statement with CONCURRENTLY needs a file whose first line is
                    `-- no-transaction`: PostgreSQL refuses it in a transaction block.
one-statement       a `-- no-transaction` file holds exactly one statement. sqlx sends the
                    file as one simple query, and PostgreSQL runs several statements of one
                    query as one implicit transaction block, which CONCURRENTLY refuses too
                    ("cannot run inside a transaction block", checked on PostgreSQL 15).
index-recovery      a CONCURRENTLY build that fails (lock or statement timeout, a duplicate
                    key) leaves its index behind marked INVALID: not used by queries but
                    kept up to date on every write (PostgreSQL 15 docs, CREATE INDEX,
                    "Building Indexes Concurrently"; their advice: drop it and build again).
                    `IF NOT EXISTS` is refused: it only looks at the name, so the Job's
                    retry would skip the INVALID index (a NOTICE, "already exists,
                    skipping") and sqlx would record the migration as applied. Without it
                    the retry fails loudly. The index must be named, and a comment of the
                    file must give the recovery: `DROP INDEX CONCURRENTLY <name>`.
constraint-not-valid  ADD CONSTRAINT ... FOREIGN KEY | CHECK on an existing table must be
                    NOT VALID: otherwise it scans the whole table under the lock of ALTER
                    TABLE, which blocks reads and writes. (A new column's inline REFERENCES
                    or CHECK does the same: add the column, then the constraint.)
validate-later      each NOT VALID constraint is validated by VALIDATE CONSTRAINT in a later
                    migration file: there, in a transaction of its own, the scan holds a lock
                    that lets reads and writes go on. Not in the same file: that transaction
                    still holds the strong lock of the ADD.
set-not-null        ALTER COLUMN ... SET NOT NULL on an existing table scans the table under
                    that strong lock, unless a valid CHECK (col IS NOT NULL) proves it
                    (PostgreSQL 12+, ALTER TABLE docs). So: ADD CONSTRAINT c CHECK (col IS
                    NOT NULL) NOT VALID, VALIDATE CONSTRAINT c later, then SET NOT NULL in a
                    later release; the script accepts it in any file after the one that
                    validated such a constraint.
add-column-not-null ADD COLUMN ... NOT NULL without DEFAULT on an existing table: fails on
                    any row, and the previous release's inserts do not name the column.
rewrite             ADD COLUMN with a volatile DEFAULT (random(), gen_random_uuid(),
                    clock_timestamp(), nextval(), a serial type) or GENERATED (identity,
                    stored) rewrites the whole table under that lock. now() and
                    CURRENT_TIMESTAMP are STABLE, not volatile: the value is computed once
                    and stored in the catalog, nothing is rewritten (checked on PostgreSQL 15
                    with pg_relation_filenode). Functions of our own are not looked up.
contraction         DROP COLUMN, DROP TABLE, DROP INDEX, RENAME COLUMN / TABLE and ALTER
                    COLUMN TYPE on something that existed before break the release that
                    still uses it. Allowed only in a file with a marker comment that names
                    the thing:
                        -- contraction: <thing> unused since release <X.Y.Z>
                    meaning release X.Y.Z and every later one neither read nor write <thing>,
                    and X.Y.Z is deployed (and no rollback goes further back) before the
                    release carrying this migration. The marker is a promise for review to
                    check; this script checks only that it is there and names the thing.
parse               a statement this script cannot read is reported, not guessed at.

Statements are matched after comments, string literals and dollar-quoted bodies are taken
out, so SQL inside a function body or a DO block is not seen. Findings are printed one a
line, `file:line: [rule] problem. Fix: ...`; the exit status is 1 when there is any.

Usage: python3 scripts/check-migrations.py [migrations-dir]   (default: migrations)
       python3 scripts/check-migrations.py --self-test        (bad examples must fail)
"""

import re
import sys
import tempfile
from pathlib import Path

# Applied wherever Tasks runs before this check existed, and frozen: sqlx refuses to run
# when an applied migration's file changed (checksum). Each breaks a rule the message
# names; the script reports an entry that breaks none, so that it leaves this list.
GRANDFATHERED = {
    "20261128100000_complete_edit_and_page_todos.sql": "CHECK validated at once, CREATE "
    "INDEX without CONCURRENTLY and DROP INDEX on todos",
    "20261202000000_lists.sql": "SET NOT NULL and a FOREIGN KEY validated at once on "
    "todos, CREATE INDEX without CONCURRENTLY",
}

NO_TX = "-- no-transaction"
MARKER = re.compile(r"^--\s*contraction:(.*)$", re.I)
MARKER_FORM = re.compile(r"^\s*(\S.*?)\s+unused since release\s+v?\d+\.\d+\.\d+\s*$", re.I)
VOLATILE = {"random", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v4",
            "clock_timestamp", "timeofday", "nextval"}
SERIAL = {"SERIAL", "BIGSERIAL", "SMALLSERIAL", "SERIAL2", "SERIAL4", "SERIAL8"}
TOKEN = re.compile(r"""(?P<word>[A-Za-z_][A-Za-z0-9_$]*)|(?P<dollar>\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$)
                       |(?P<ident>"(?:[^"]|"")*")|(?P<num>[0-9][0-9.]*)|(?P<other>\S)""", re.X)


def tokenize(sql):
    """(tokens, comments): tokens are (text, line) without comments, each string literal
    becomes "''" and each dollar-quoted body "$$"; comments are (text, line)."""
    tokens, comments, i, line = [], [], 0, 1
    while i < len(sql):
        start, first_line = i, line
        if sql[i].isspace():
            i += 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = end if end >= 0 else len(sql)
            comments.append((sql[start:i], line))
        elif sql.startswith("/*", i):  # block comments nest in PostgreSQL
            depth, i = 1, i + 2
            while i < len(sql) and depth:
                step = {"/*": 1, "*/": -1}.get(sql[i : i + 2], 0)
                depth, i = depth + step, i + (2 if step else 1)
            comments.append((sql[start:i], line))
        else:
            m = TOKEN.match(sql, i)
            text, i = m.group(), m.end()
            if m.lastgroup == "dollar":
                end = sql.find(text, i)
                i = len(sql) if end < 0 else end + len(text)
                text = "$$"
            elif text == "'" or (text in ("E", "e") and sql.startswith("'", i)):
                backslash = text != "'"  # E'...' takes backslash escapes too
                i += backslash  # past the quote after E
                while i < len(sql):
                    if sql.startswith("''", i) or backslash and sql[i] == "\\":
                        i += 2  # '' stands for one quote, \x for x
                    elif sql[i] == "'":
                        break
                    else:
                        i += 1
                i, text = i + 1, "''"
            tokens.append((text, first_line))
        line += sql.count("\n", start, i)
    return tokens, comments


def statements(tokens):
    """Splits at `;` into statements, each a list of (TEXT, name, line, depth): TEXT upper
    case (a quoted identifier keeps its quotes, so it never equals a keyword), name as
    PostgreSQL folds it, depth the nesting of parentheses."""
    out, current, depth = [], [], 0
    for text, line in tokens:
        if text == ";" and depth == 0:
            out, current = out + [current] if current else out, []
            continue
        depth -= text == ")"
        quoted = text.startswith('"')
        current.append((text if quoted else text.upper(),
                        text[1:-1].replace('""', '"') if quoted else text.lower(), line, depth))
        depth += text == "("
    return out + [current] if current else out


def words(toks):
    return [t[0] for t in toks]


def has(toks, *seq, top=True):
    """Whether the words `seq` follow each other in toks (outside parentheses if top)."""
    kw = [t[0] if not top or t[3] == 0 else None for t in toks]
    return any(kw[i : i + len(seq)] == list(seq) for i in range(len(kw)))


def name_at(toks, i):
    """The (last part of a possibly schema-qualified) name at i, and the index after it."""
    while i + 2 < len(toks) and toks[i + 1][0] == ".":
        i += 2
    return (toks[i][1], i + 1) if i < len(toks) else ("", i)


def skip(kw, i, *optional):
    """Skips each optional word sequence (a tuple) present at i, in order."""
    for seq in optional:
        if tuple(kw[i : i + len(seq)]) == seq:
            i += len(seq)
    return i


def actions(toks, i):
    """ALTER TABLE's comma-separated actions from i, split outside parentheses."""
    out, current = [], []
    for t in toks[i:]:
        if t[0] == "," and t[3] == 0:
            out, current = out + [current], []
        else:
            current.append(t)
    return [a for a in out + [current] if a]


class Migration:
    def __init__(self, path):
        self.path, self.sql = path, path.read_text()
        tokens, self.comments = tokenize(self.sql)
        self.statements = statements(tokens)
        self.no_tx = self.sql.startswith(NO_TX)
        self.markers = [(m.group(1), line) for text, line in self.comments
                        if (m := MARKER.match(text))]
        # The comments as one text, so that a phrase may wrap from one line to the next.
        self.prose = " ".join(text.strip("-/* ") for text, _ in self.comments)
        self.created = set()  # tables and indexes created in this file
        self.findings = []


class Checker:
    """Reads the migrations in order. What a file adds NOT VALID or validates is kept for
    the files after it."""

    def __init__(self):
        self.not_valid = {}  # (table, constraint) -> (Migration, line, number)
        self.validated = {}  # (table, constraint) -> number of the validating migration
        self.not_null_checks = {}  # (table, constraint) -> column of CHECK (col IS NOT NULL)

    def report(self, line, rule, problem, fix):
        self.m.findings.append(f"{self.m.path}:{line}: [{rule}] {problem}. Fix: {fix}")

    def migration(self, m, number):
        self.m, self.number = m, number
        for text, line in m.markers:
            if not MARKER_FORM.match(text):
                self.report(line, "contraction", "malformed contraction marker",
                            "write `-- contraction: <thing> unused since release X.Y.Z`")
        if m.no_tx and len(m.statements) != 1:
            self.report(1, "one-statement", f"`{NO_TX}` file with {len(m.statements)} "
                        "statements, sent as one query: an implicit transaction block",
                        f"one statement per `{NO_TX}` file; move the others to their own")
        for st in m.statements:
            try:
                self.statement(st)
            except (IndexError, ValueError):  # cut short or unusual: say so, do not guess
                self.report(st[0][2], "parse", "statement not understood by this check",
                            "write it in a plainer form, or teach scripts/check-migrations.py")

    def statement(self, st):
        kw, line = words(st), st[0][2]
        if has(st, "CONCURRENTLY") and not self.m.no_tx:
            self.report(line, "no-transaction", "CONCURRENTLY inside a transaction, which "
                        "PostgreSQL refuses", f"make `{NO_TX}` the file's first line")
        if kw[0] == "CREATE" and "TABLE" in kw[1:4]:
            i = skip(kw, kw.index("TABLE") + 1, ("IF", "NOT", "EXISTS"))
            self.m.created.add(name_at(st, i)[0])
        elif kw[0] == "CREATE" and "INDEX" in kw[1:3]:
            self.create_index(st, kw, line)
        elif kw[:2] in (["DROP", "TABLE"], ["DROP", "INDEX"]):
            i = skip(kw, 2, ("CONCURRENTLY",), ("IF", "EXISTS"))
            while i < len(st):
                thing, i = name_at(st, i)
                self.contraction(line, f"DROP {kw[1]}", thing)
                i += 1 if i < len(st) and kw[i] == "," else len(st)
        elif kw[:2] == ["ALTER", "TABLE"]:
            table, i = name_at(st, skip(kw, 2, ("IF", "EXISTS"), ("ONLY",)))
            for action in actions(st, skip(kw, i, ("*",))):
                self.action(action, table)

    def create_index(self, st, kw, line):
        i = skip(kw, kw.index("INDEX") + 1, ("CONCURRENTLY",), ("IF", "NOT", "EXISTS"))
        name = "" if kw[i] == "ON" else name_at(st, i)[0]
        table = name_at(st, skip(kw, kw.index("ON") + 1, ("ONLY",)))[0]
        self.m.created.add(name)
        recovery = re.compile(rf"DROP\s+INDEX\s+CONCURRENTLY\s+(IF\s+EXISTS\s+)?(\w+\.)?"
                              rf"{re.escape(name)}\b", re.I)
        if table in self.m.created:
            return
        if "CONCURRENTLY" not in kw:
            self.report(line, "index-concurrently", f"index on existing table {table} built "
                        "without CONCURRENTLY blocks the table's writes until it is built",
                        f"CREATE INDEX CONCURRENTLY, alone in a `{NO_TX}` file")
        elif not name or has(st, "IF", "NOT", "EXISTS"):
            self.report(line, "index-recovery", "CONCURRENTLY build " + (
                "with IF NOT EXISTS, which would skip an INVALID index left by a failed "
                "attempt" if name else "without a name"), "name the index, drop IF NOT "
                "EXISTS, and give the recovery in a comment: `DROP INDEX CONCURRENTLY <name>`")
        elif not recovery.search(self.m.prose):
            self.report(line, "index-recovery", f"a failed CONCURRENTLY build leaves {name} "
                        "INVALID, and no comment says how to recover", "add a comment: "
                        f"`DROP INDEX CONCURRENTLY {name};`, then deploy again")

    def action(self, a, table):
        kw, line = words(a), a[0][2]
        if kw[0] == "VALIDATE":
            constraint = a[2][1]
            self.validated[(table, constraint)] = self.number
            if self.not_valid.get((table, constraint), (0, 0, -1))[2] == self.number:
                self.report(line, "validate-later", f"{constraint} validated in the migration "
                            "that adds it: the scan runs under the ADD's lock", "move "
                            "VALIDATE CONSTRAINT to a later migration file")
        if table in self.m.created:
            return
        if kw[0] == "ADD":
            self.add(a, kw, line, table)
        elif kw[0] == "ALTER":
            i = skip(kw, 1, ("COLUMN",))
            column = a[i][1]
            if kw[i + 1 : i + 4] == ["SET", "NOT", "NULL"]:
                if not any(t == table and c == column and
                           self.validated.get((t, n), self.number) < self.number
                           for (t, n), c in self.not_null_checks.items()):
                    self.report(line, "set-not-null", f"SET NOT NULL on {table}.{column} scans "
                                "the table under a lock that blocks reads and writes",
                                f"ADD CONSTRAINT <name> CHECK ({column} IS NOT NULL) NOT VALID, "
                                "VALIDATE CONSTRAINT <name> in a later migration, SET NOT NULL "
                                "in a later release (PostgreSQL 12+ then skips the scan)")
            elif "TYPE" in kw[i + 1 : i + 4]:
                self.contraction(line, "ALTER COLUMN TYPE of", column, table)
        elif kw[0] == "DROP" and kw[1] != "CONSTRAINT":
            column = a[skip(kw, 1, ("COLUMN",), ("IF", "EXISTS"))][1]
            self.contraction(line, "DROP COLUMN", column, table)
        elif kw[0] == "RENAME" and kw[1] == "TO":
            self.contraction(line, "RENAME TABLE", table)
        elif kw[0] == "RENAME" and kw[1] != "CONSTRAINT":
            self.contraction(line, "RENAME COLUMN", a[skip(kw, 1, ("COLUMN",))][1], table)

    def add(self, a, kw, line, table):
        constraint = a[2][1] if kw[1] == "CONSTRAINT" else None
        kind = kw[3] if constraint else kw[1]
        what = {"FOREIGN": "FOREIGN KEY", "PRIMARY": "PRIMARY KEY"}.get(kind, kind)
        if kind in ("CHECK", "FOREIGN"):
            if not has(a, "NOT", "VALID"):
                self.report(line, "constraint-not-valid", f"{what} constraint on existing "
                            f"table {table} scans it under a lock that blocks reads and "
                            "writes", "add it NOT VALID, VALIDATE CONSTRAINT in a later migration")
            elif not constraint:
                self.report(line, "validate-later", "an unnamed NOT VALID constraint cannot be "
                            "validated by name", "name it: ADD CONSTRAINT <name> ...")
            else:
                self.not_valid[(table, constraint)] = (self.m, line, self.number)
                body = a[4:10]
                if [t[0] for t in body[:1] + body[2:]] == ["(", "IS", "NOT", "NULL", ")"]:
                    self.not_null_checks[(table, constraint)] = body[1][1]
        elif kind in ("UNIQUE", "PRIMARY", "EXCLUDE"):
            if not has(a, "USING", "INDEX"):
                self.report(line, "index-concurrently", f"{what} constraint on existing table "
                            f"{table} builds its index while blocking writes", "build a unique "
                            "index CONCURRENTLY first, then ADD CONSTRAINT <name> UNIQUE USING "
                            "INDEX <index>")
        else:  # a column: ADD [COLUMN] [IF NOT EXISTS] name type ...
            i = skip(kw, 1, ("COLUMN",), ("IF", "NOT", "EXISTS"))
            column, after = f"{table}.{a[i][1]}", i + 1
            start = kw.index("DEFAULT") if "DEFAULT" in kw else len(kw)
            volatile = [a[j][1] + "()" for j in range(start, len(a) - 1)
                        if a[j][1] in VOLATILE and kw[j + 1] == "("]
            volatile += [kw[after].lower()] if after < len(kw) and kw[after] in SERIAL else []
            volatile += ["GENERATED"] if has(a, "GENERATED") else []
            if volatile:
                self.report(line, "rewrite", f"new column {column} with {volatile[0]} rewrites "
                            "the whole table under a lock that blocks reads and writes",
                            "add it nullable or with a constant default, backfill in batches, "
                            "then SET DEFAULT")
            if has(a, "NOT", "NULL") and "DEFAULT" not in kw and not volatile:
                self.report(line, "add-column-not-null", f"new column {column} NOT NULL "
                            "without DEFAULT fails on existing rows and on the previous "
                            "release's inserts", "give it a constant DEFAULT, or add it "
                            "nullable and follow the SET NOT NULL steps")
            if has(a, "REFERENCES") or has(a, "CHECK"):
                self.report(line, "constraint-not-valid", f"inline constraint on new column "
                            f"{column} scans the table under the lock of ALTER TABLE",
                            "add the column plain, then ADD CONSTRAINT ... NOT VALID")

    def contraction(self, line, what, thing, table=None):
        """A marker must name the table or index, or the column as `column` or
        `table.column`."""
        if (table or thing) in self.m.created:
            return
        names = {name.lower() for text, _ in self.m.markers if (m := MARKER_FORM.match(text))
                 for name in re.findall(r"[\w.$]+", m.group(1))}
        full = f"{table}.{thing}" if table else thing
        if not names & {thing, full}:
            self.report(line, "contraction", f"{what} {full}, which the previous release may "
                        "still use", f"ship it in a release after the one that stopped using "
                        f"it, marked `-- contraction: {full} unused since release X.Y.Z`")


def check(directory, grandfathered):
    """Returns (findings, number checked, number grandfathered)."""
    paths = sorted(Path(directory).glob("*.sql"), key=lambda p: int(p.name.split("_")[0]))
    checker, migrations, findings = Checker(), [Migration(p) for p in paths], []
    for number, m in enumerate(migrations):
        checker.migration(m, number)
    for (table, constraint), (m, line, number) in checker.not_valid.items():
        # Validated in the same file: reported there already.
        if checker.validated.get((table, constraint), -1) < number:
            m.findings.append(
                f"{m.path}:{line}: [validate-later] NOT VALID constraint {constraint} is not "
                f"validated by a later migration. Fix: add a migration `ALTER TABLE {table} "
                f"VALIDATE CONSTRAINT {constraint};`")
    for m in migrations:
        if m.path.name not in grandfathered:
            findings += m.findings
        elif not m.findings:
            findings.append(f"{m.path}:1: [grandfather] breaks no rule. Fix: take it off "
                            "GRANDFATHERED in scripts/check-migrations.py")
    findings += [f"{directory}/{name}: [grandfather] listed but missing. Fix: take it off "
                 "GRANDFATHERED" for name in grandfathered if name not in {p.name for p in paths}]
    checked = sum(p.name not in grandfathered for p in paths)
    return findings, checked, len(paths) - checked


RECOVERY = "-- Should the build fail: DROP INDEX CONCURRENTLY todos_title; then deploy again.\n"
MARKED = "-- contraction: todos.updated_at, todo_counts, todos_active unused since release 0.3.0\n"

# (what, the migration files in order, the findings expected as rule@line: none = passes).
EXAMPLES = [
    ("plain index on an existing table", ["CREATE INDEX todos_title ON todos (title);"],
     ["index-concurrently@1"]),
    ("CONCURRENTLY in a transaction",
     [RECOVERY + "CREATE UNIQUE INDEX CONCURRENTLY todos_title ON todos (title);"],
     ["no-transaction@2"]),
    ("two statements in a no-transaction file", [NO_TX + "\n" + RECOVERY + "CREATE INDEX "
     "CONCURRENTLY todos_title ON todos (title);\nALTER TABLE todos ADD COLUMN x int;"],
     ["one-statement@1"]),
    ("IF NOT EXISTS on a concurrent build", [NO_TX + "\n" + RECOVERY + "CREATE INDEX "
     "CONCURRENTLY IF NOT EXISTS todos_title ON todos (title);"], ["index-recovery@3"]),
    ("concurrent build without its recovery",
     [NO_TX + "\nCREATE UNIQUE INDEX CONCURRENTLY todos_title ON todos (title);"],
     ["index-recovery@2"]),
    ("UNIQUE constraint building its own index",
     ["ALTER TABLE todos ADD CONSTRAINT todos_title_key UNIQUE (title);"],
     ["index-concurrently@1"]),
    ("foreign key validated at once", ["ALTER TABLE todos\n    ADD CONSTRAINT todos_owner "
     "FOREIGN KEY (owner) REFERENCES users (id);"], ["constraint-not-valid@2"]),
    ("inline REFERENCES on a new column",
     ["ALTER TABLE todos ADD COLUMN owner uuid REFERENCES users (id);"],
     ["constraint-not-valid@1"]),
    ("NOT VALID never validated", ["ALTER TABLE todos ADD CONSTRAINT todos_short "
     "CHECK (char_length(title) < 100) NOT VALID;"], ["validate-later@1"]),
    ("validated in the same file", ["ALTER TABLE todos ADD CONSTRAINT todos_short CHECK "
     "(char_length(title) < 100) NOT VALID;\nALTER TABLE todos VALIDATE CONSTRAINT "
     "todos_short;"], ["validate-later@2"]),
    ("SET NOT NULL on an existing table",
     ["ALTER TABLE todos ALTER COLUMN owner SET NOT NULL;"], ["set-not-null@1"]),
    ("SET NOT NULL before the CHECK is validated", [
        "ALTER TABLE todos ADD CONSTRAINT owner_set CHECK (owner IS NOT NULL) NOT VALID;",
        "ALTER TABLE todos ALTER COLUMN owner SET NOT NULL;",
        "ALTER TABLE todos VALIDATE CONSTRAINT owner_set;"], ["set-not-null@1"]),
    ("NOT NULL column without a default",
     ["ALTER TABLE todos ADD COLUMN priority int NOT NULL;"], ["add-column-not-null@1"]),
    ("volatile default",
     ["ALTER TABLE todos ADD COLUMN token uuid DEFAULT gen_random_uuid();"], ["rewrite@1"]),
    ("serial column", ["ALTER TABLE todos ADD COLUMN position bigserial;"], ["rewrite@1"]),
    ("identity column", ["ALTER TABLE todos ADD COLUMN n int GENERATED ALWAYS AS IDENTITY;"],
     ["rewrite@1"]),
    ("DROP COLUMN without a marker", ["ALTER TABLE todos DROP COLUMN updated_at;"],
     ["contraction@1"]),
    ("DROP TABLE with a marker naming something else",
     [MARKED.replace("todo_counts", "list_counts") + "DROP TABLE todo_counts;"],
     ["contraction@2"]),
    ("RENAME COLUMN", ["ALTER TABLE todos RENAME COLUMN text TO body;"], ["contraction@1"]),
    ("RENAME TABLE under a marker for one of its columns",
     [MARKED + "ALTER TABLE todos RENAME TO tasks;"], ["contraction@2"]),
    ("a statement the check cannot read", ["CREATE INDEX todos_title;"], ["parse@1"]),
    ("ALTER COLUMN TYPE", ["ALTER TABLE todos ALTER COLUMN title TYPE varchar(200);"],
     ["contraction@1"]),
    ("marker without its release", ["-- contraction: todos.updated_at is unused\n"
     "ALTER TABLE todos DROP COLUMN updated_at;"], ["contraction@1", "contraction@2"]),
    ("a real statement after strings, comments and a body that hide `;`", [
        "COMMENT ON TABLE todos IS 'it''s; -- no comment';\n"
        "COMMENT ON COLUMN todos.text IS E'a \\' b; DROP TABLE todos; --';\n"
        "CREATE FUNCTION one() RETURNS int LANGUAGE sql AS $fn$ SELECT 1; $fn$; /* a\n"
        "/* nested */ ; */ CREATE INDEX todos_title ON todos (title);"],
     ["index-concurrently@4"]),
    ("grandfathered file that breaks no rule", ["ALTER TABLE todos ADD COLUMN note text;"],
     ["grandfather@1"]),
    # Good examples: each must pass.
    ("a new table with its indexes and constraints", [
        "CREATE TABLE tags (id bigint PRIMARY KEY, todo_id bigint, name text);\n"
        "CREATE INDEX tags_by_todo ON tags (todo_id);\n"
        "ALTER TABLE tags ADD CONSTRAINT tags_todo FOREIGN KEY (todo_id) REFERENCES todos (id),"
        "\n    ALTER COLUMN name SET NOT NULL, ADD COLUMN at timestamptz NOT NULL;"], []),
    ("a concurrent index, alone, with its recovery", [NO_TX + "\n" + RECOVERY
     + "CREATE UNIQUE INDEX CONCURRENTLY todos_title ON todos (title);"], []),
    ("NOT VALID, validated later, then SET NOT NULL", [
        "ALTER TABLE todos ADD CONSTRAINT todos_owner FOREIGN KEY (owner) REFERENCES users (id) "
        "NOT VALID,\n    ADD CONSTRAINT owner_set CHECK (owner IS NOT NULL) NOT VALID;",
        "ALTER TABLE todos VALIDATE CONSTRAINT todos_owner;\n"
        "ALTER TABLE todos VALIDATE CONSTRAINT owner_set;",
        "ALTER TABLE todos ALTER COLUMN owner SET NOT NULL;"], []),
    ("columns that rewrite nothing", [
        "ALTER TABLE todos ADD COLUMN pinned boolean NOT NULL DEFAULT false,\n"
        "    ADD COLUMN seen_at timestamptz NOT NULL DEFAULT now(), ADD COLUMN note text;\n"
        "ALTER TABLE todos ALTER COLUMN note SET DEFAULT '';"], []),
    ("a marked contraction", [MARKED + "ALTER TABLE todos DROP COLUMN updated_at;\n"
     "DROP TABLE todo_counts;\nDROP INDEX todos_active;"], []),
    ("risky words only in comments, strings and bodies", [
        "-- DROP TABLE todos; CREATE INDEX x ON todos (id);\n"
        "/* outer /* ALTER TABLE todos DROP COLUMN title; */ DROP TABLE todos; */\n"
        "COMMENT ON COLUMN todos.title IS 'ALTER TABLE todos DROP COLUMN title; -- ''q''';\n"
        "COMMENT ON TABLE todos IS E'it\\'s; DROP TABLE todos';\n"
        "CREATE FUNCTION wipe() RETURNS void LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n    EXECUTE 'DROP TABLE todos';\nEND $body$;\n"
        "SELECT $$ CREATE INDEX y ON todos (id) $$;"], []),
    ("a grandfathered file that breaks rules", ["CREATE INDEX todos_title ON todos (title);"],
     []),
]


def self_test():
    """Checks each example in a directory of its own (the first file of an example about
    grandfathering is grandfathered) and compares the findings with those expected."""
    failed = 0
    for what, sources, expected in EXAMPLES:
        with tempfile.TemporaryDirectory() as directory:
            for number, sql in enumerate(sources):
                Path(directory, f"2027010100000{number}_example.sql").write_text(sql + "\n")
            listed = {"20270101000000_example.sql": "example"} if "grandfathered" in what else {}
            findings = check(directory, listed)[0]
        got = sorted(f"{m[2]}@{m[1]}" for f in findings
                     if (m := re.search(r":(\d+): \[([a-z-]+)\]", f)))
        if got != sorted(expected):
            failed += 1
            print(f"self-test: FAILED {what}: expected {expected or 'no finding'}, got:")
            print("\n".join(f"    {f}" for f in findings) or "    no finding")
        else:
            print(f"self-test: {'caught' if expected else 'passes'} {what}"
                  + (f" ({', '.join(expected)})" if expected else ""))
    bad = sum(1 for _, _, expected in EXAMPLES if expected)
    if failed:
        print(f"self-test: {failed} of {len(EXAMPLES)} examples went wrong")
        return 1
    print(f"self-test: {bad} bad examples caught, {len(EXAMPLES) - bad} good ones pass, ok")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    directory = argv[1] if len(argv) > 1 else "migrations"
    findings, checked, grandfathered = check(directory, GRANDFATHERED)
    for finding in findings:
        print(finding)
    if findings:
        print(f"migrations: {len(findings)} problem(s); the rules: scripts/check-migrations.py, "
              "docs/architecture.md (Schema changes)")
        return 1
    print(f"migrations: {checked} checked, {grandfathered} grandfathered, ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
