/**
 * The PostgreSQL store's schema, one migration a step, recorded in schema_migrations (as for
 * SQLite, whose history this does not share: version 1 here is the SQLite store's final shape).
 * A migration is never edited once released — add a new one.
 *
 * Text columns keep what the SQLite store keeps byte for byte (ISO timestamps, canonical JSON):
 * the audit chain hashes them, so a record read back from either store hashes the same.
 */
export interface PgMigration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

export const pgMigrations: ReadonlyArray<PgMigration> = [
  {
    version: 1,
    name: "tracking_and_registry",
    sql: `
      CREATE TABLE experiments (
        name TEXT PRIMARY KEY,
        created_at TEXT NOT NULL
      );
      CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        experiment TEXT NOT NULL REFERENCES experiments(name),
        status TEXT NOT NULL CHECK (status IN ('running','completed','failed','blocked','cancelled','interrupted')),
        started_at TEXT NOT NULL,
        ended_at TEXT,
        error TEXT,
        execution_id TEXT,
        config_hash TEXT,
        dataset_version TEXT,
        random_seed TEXT,
        driftgate_version TEXT,
        code_revision TEXT,
        anchors_json TEXT NOT NULL,
        pid INTEGER,
        host TEXT,
        process_start TEXT,
        heartbeat_at TEXT,
        interrupted_at TEXT
      );
      CREATE INDEX runs_by_experiment ON runs(experiment, started_at);
      CREATE INDEX runs_running ON runs(run_id) WHERE status = 'running';
      CREATE TABLE params (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      );
      CREATE TABLE metrics (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        step INTEGER NOT NULL DEFAULT 0,
        at TEXT NOT NULL,
        PRIMARY KEY (run_id, key, step)
      );
      CREATE TABLE tags (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      );
      CREATE TABLE artifacts (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT,
        PRIMARY KEY (run_id, name)
      );

      CREATE TABLE registered_models (
        name TEXT PRIMARY KEY,
        description TEXT,
        created_at TEXT NOT NULL
      );
      CREATE TABLE model_versions (
        name TEXT NOT NULL REFERENCES registered_models(name),
        version INTEGER NOT NULL CHECK (version >= 1),
        run_id TEXT NOT NULL,
        stage TEXT NOT NULL CHECK (stage IN ('None','Staging','Production','Archived')),
        artifact_path TEXT NOT NULL,
        tags_json TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        files_recorded BOOLEAN NOT NULL DEFAULT FALSE,
        PRIMARY KEY (name, version)
      );
      -- The registry's central rule, enforced by the database as well as by the transaction.
      CREATE UNIQUE INDEX model_versions_one_production ON model_versions(name) WHERE stage = 'Production';
      CREATE TABLE aliases (
        name TEXT NOT NULL,
        alias TEXT NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (name, alias),
        FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
      );
      CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY CHECK (seq >= 1),
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        model TEXT NOT NULL,
        version INTEGER,
        from_stage TEXT,
        to_stage TEXT,
        reason TEXT,
        details_json TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      -- Two records linking to the same predecessor would be a forked chain.
      CREATE UNIQUE INDEX audit_log_one_successor ON audit_log(prev_hash);
      CREATE INDEX audit_log_by_model ON audit_log(model, seq);
      CREATE FUNCTION driftgate_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only: records cannot be %', TG_TABLE_NAME,
          CASE TG_OP WHEN 'UPDATE' THEN 'updated' WHEN 'DELETE' THEN 'deleted' ELSE 'truncated' END;
      END $$;
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION driftgate_append_only();
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION driftgate_append_only();
      CREATE TABLE rollback_intents (
        id TEXT PRIMARY KEY,
        model TEXT NOT NULL REFERENCES registered_models(name),
        from_version INTEGER,
        to_version INTEGER NOT NULL,
        reason TEXT NOT NULL,
        actor TEXT NOT NULL,
        created_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending','completed','abandoned')),
        FOREIGN KEY (model, to_version) REFERENCES model_versions(name, version)
      );
      -- At most one rollback in flight per model.
      CREATE UNIQUE INDEX rollback_intents_one_pending ON rollback_intents(model) WHERE status = 'pending';
      CREATE TABLE artifact_files (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        file TEXT NOT NULL,
        sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
        bytes BIGINT NOT NULL CHECK (bytes >= 0),
        PRIMARY KEY (name, version, file),
        FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
      );
      CREATE TRIGGER artifact_files_no_update BEFORE UPDATE OR DELETE ON artifact_files
        FOR EACH ROW EXECUTE FUNCTION driftgate_append_only();
      CREATE TRIGGER artifact_files_no_truncate BEFORE TRUNCATE ON artifact_files
        FOR EACH STATEMENT EXECUTE FUNCTION driftgate_append_only();
    `
  },
  {
    version: 2,
    name: "content_addressed_files",
    sql: `
      -- File contents, content-addressed: one row per distinct SHA-256, its bytes in chunks.
      CREATE TABLE blobs (
        sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
        bytes BIGINT NOT NULL CHECK (bytes >= 0),
        chunks INTEGER NOT NULL CHECK (chunks >= 0)
      );
      CREATE TABLE blob_chunks (
        sha256 TEXT NOT NULL REFERENCES blobs(sha256) ON DELETE CASCADE,
        idx INTEGER NOT NULL CHECK (idx >= 0),
        data BYTEA NOT NULL,
        PRIMARY KEY (sha256, idx)
      );
      -- Workspace keys kept in the store (artifacts, reports, drift history) and the blob each names now.
      CREATE TABLE files (
        key TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL REFERENCES blobs(sha256),
        written_at TEXT NOT NULL
      );
    `
  },
  {
    version: 3,
    name: "store_imports",
    sql: `
      -- Each SQLite store copied in by \`driftgate store migrate\`: a rerun after an interruption resumes.
      CREATE TABLE store_imports (
        source TEXT PRIMARY KEY,
        started_at TEXT NOT NULL,
        completed_at TEXT
      );
    `
  },
  {
    version: 4,
    name: "run_pages",
    // The dashboard's run list: one page sorted and filtered by the store (queryRuns), as in SQLite's migration 5.
    sql: `
      -- bytewise ("C") like the queries' ORDER BY, so a cluster with a locale collation still uses them
      CREATE INDEX runs_by_started ON runs(started_at COLLATE "C", run_id COLLATE "C");
      CREATE INDEX runs_by_status ON runs(status COLLATE "C", started_at COLLATE "C");
      CREATE INDEX runs_by_dataset_version ON runs(dataset_version);
      CREATE INDEX tags_by_key_value ON tags(key, value);
    `
  }
]
