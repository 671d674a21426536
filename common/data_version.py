"""The database's data version: a number that changes whenever a transaction that wrote any table commits.

Pages cached under it (``common.page_cache``) can never be stale: the number and the rows it stands for become
visible in the same commit. How it is kept (PostgreSQL only; elsewhere there is no version and nothing is
cached):

* every table has a statement trigger (``data_version_mark``, after INSERT, UPDATE, DELETE, TRUNCATE — so raw
  SQL, ``COPY`` and the ORM alike) that, on the transaction's first write, notes the write in a transaction-local
  setting and queues one deferred constraint trigger;
* that trigger runs at commit and sets the single ``data_version`` row to the next value of a sequence (never
  reused, even after the row is emptied by a test flush). The row is locked only between that trigger and the
  end of the commit, so a long job (the hourly check) never holds it while it works.

A transaction that has written reads no version (``current()`` is None): its own uncommitted rows are not in
any cached page. ``install_triggers`` runs after every ``migrate``: new tables get their trigger, and the
version moves (new code, new pages).
"""

from django.db import connections

# Tables whose writes no cached page shows: sessions, the beat heartbeat (every minute), sign-in records.
UNTRACKED_TABLES = {
    "django_session",
    "django_migrations",
    "health_heartbeat",
    "axes_accessattempt",
    "axes_accesslog",
    "axes_accessfailurelog",
    "data_version",
    "data_version_pending",
}

CREATE_SQL = """
CREATE TABLE IF NOT EXISTS data_version (id integer PRIMARY KEY CHECK (id = 1), version bigint NOT NULL);
CREATE TABLE IF NOT EXISTS data_version_pending (id bigserial PRIMARY KEY);
CREATE SEQUENCE IF NOT EXISTS data_version_seq;

CREATE OR REPLACE FUNCTION data_version_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('sla.data_written', true) IS DISTINCT FROM 'yes' THEN
        PERFORM set_config('sla.data_written', 'yes', true);
        INSERT INTO data_version_pending DEFAULT VALUES;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION data_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_version (id, version) VALUES (1, nextval('data_version_seq'))
        ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
    DELETE FROM data_version_pending WHERE id = NEW.id;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS data_version_bump ON data_version_pending;
CREATE CONSTRAINT TRIGGER data_version_bump AFTER INSERT ON data_version_pending
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_version_bump();
INSERT INTO data_version (id, version) VALUES (1, nextval('data_version_seq')) ON CONFLICT (id) DO NOTHING;
"""

DROP_SQL = """
DROP TABLE IF EXISTS data_version_pending;
DROP TABLE IF EXISTS data_version;
DROP FUNCTION IF EXISTS data_version_mark() CASCADE;
DROP FUNCTION IF EXISTS data_version_bump() CASCADE;
DROP SEQUENCE IF EXISTS data_version_seq;
"""


def install_triggers(using="default"):
    """Give every table of the schema that lacks it the statement trigger (idempotent; PostgreSQL only), and
    move the version: a deploy runs ``migrate``, so pages rendered by the previous code are not served."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regproc('data_version_mark')")
        if cursor.fetchone()[0] is None:  # before the migration that creates it
            return
        cursor.execute(
            """
            SELECT c.relname FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'data_version_mark')
            """
        )
        for (table,) in cursor.fetchall():
            if table in UNTRACKED_TABLES:
                continue
            cursor.execute(
                f"CREATE TRIGGER data_version_mark AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "
                f"{connection.ops.quote_name(table)} FOR EACH STATEMENT EXECUTE FUNCTION data_version_mark()"
            )
        cursor.execute("UPDATE data_version SET version = nextval('data_version_seq')")


def current(using="default"):
    """The committed data version, or None: not PostgreSQL, or this transaction has written."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT version FROM data_version WHERE id = 1), current_setting('sla.data_written', true)"
        )
        row = cursor.fetchone()
    if row is None or row[0] is None or row[1] == "yes":
        return None
    return row[0]
