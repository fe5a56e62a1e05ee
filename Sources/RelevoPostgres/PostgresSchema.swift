// The tables of a run in PostgreSQL: one schema per run.

/// The layout of a run's schema, `relevo_<run>`. The same tables and
/// columns as a SQLite journal (times are seconds since 2001-01-01 as
/// `double precision`, `set_key` is '' for a global phase, `seed` is the
/// UInt64 seed's bit pattern as a `bigint`), except that free text that may
/// hold any character (a step's detail and evidence, a set's detail, an
/// event's message) is `bytea`: PostgreSQL's `text` cannot hold NUL.
///
/// Two tables only the work queue uses (docs/scale.md): `leases` (which
/// worker owns which set, until when, on which hosts) and `workers` (each
/// worker process, its last sign of life, its counts).
enum PostgresSchema {
    static let version: Int64 = 1

    static let create = """
        CREATE TABLE IF NOT EXISTS meta (
            id          integer PRIMARY KEY CHECK (id = 1),
            version     bigint NOT NULL
        );
        CREATE TABLE IF NOT EXISTS run (
            id          integer PRIMARY KEY CHECK (id = 1),
            mode        text NOT NULL,
            plan_name   text NOT NULL,
            plan_digest text NOT NULL,
            started_at  double precision NOT NULL,
            seed        bigint NOT NULL,
            holder      text NOT NULL,
            opened_at   double precision NOT NULL,
            opens       integer NOT NULL DEFAULT 1
        );
        CREATE TABLE IF NOT EXISTS steps (
            id          bigserial PRIMARY KEY,
            phase       text NOT NULL,
            set_key     text NOT NULL,
            idx         integer NOT NULL,
            operation   text NOT NULL,
            undo        integer NOT NULL CHECK (undo IN (0, 1)),
            detail      bytea NOT NULL,
            intent_at   double precision NOT NULL,
            intents     integer NOT NULL DEFAULT 1,
            status      text CHECK (status IN ('done', 'failed', 'skipped')),
            undo_json   text,
            evidence    bytea,
            bytes       bigint,
            messages    integer,
            seconds     double precision,
            result_at   double precision,
            UNIQUE (phase, set_key, idx, undo)
        );
        CREATE TABLE IF NOT EXISTS sets (
            id          bigserial PRIMARY KEY,
            phase       text NOT NULL,
            set_key     text NOT NULL,
            state       text NOT NULL CHECK (state IN
                            ('pending', 'running', 'migrated', 'failed', 'undone', 'skipped')),
            detail      bytea,
            updated_at  double precision NOT NULL,
            UNIQUE (phase, set_key)
        );
        CREATE TABLE IF NOT EXISTS events (
            seq         bigserial PRIMARY KEY,
            kind        text NOT NULL,
            at          double precision NOT NULL,
            phase       text,
            set_key     text,
            operation   text,
            message     bytea NOT NULL,
            bytes       bigint NOT NULL,
            recorded_at double precision NOT NULL
        );
        CREATE TABLE IF NOT EXISTS approvals (
            id          bigserial PRIMARY KEY,
            name        text NOT NULL UNIQUE,
            approved_by text NOT NULL,
            approved_at double precision NOT NULL
        );
        CREATE TABLE IF NOT EXISTS leases (
            phase       text NOT NULL,
            set_key     text NOT NULL,
            owner       text NOT NULL,
            hosts       text NOT NULL DEFAULT '',     -- comma-separated plan hosts the set uses
            claimed_at  timestamptz NOT NULL,
            expires_at  timestamptz NOT NULL,
            claims      integer NOT NULL DEFAULT 1,   -- >1: taken over after a lease expired
            released    boolean NOT NULL DEFAULT false,
            PRIMARY KEY (phase, set_key)
        );
        CREATE TABLE IF NOT EXISTS workers (
            owner       text PRIMARY KEY,             -- host:pid:n
            started_at  timestamptz NOT NULL,
            seen_at     timestamptz NOT NULL,
            sets_done   integer NOT NULL DEFAULT 0,
            sets_failed integer NOT NULL DEFAULT 0,
            state       text NOT NULL DEFAULT 'working'
        );
        """
}
