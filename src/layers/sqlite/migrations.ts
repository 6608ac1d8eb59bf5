/**
 * The store's schema, one migration a step. Applied in order inside one transaction each and
 * recorded in schema_migrations; a migration is never edited once released — add a new one.
 */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

export const migrations: ReadonlyArray<Migration> = [
  {
    version: 1,
    name: "tracking",
    sql: `
      CREATE TABLE experiments (
        name TEXT PRIMARY KEY,
        created_at TEXT NOT NULL
      );
      CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        experiment TEXT NOT NULL REFERENCES experiments(name),
        status TEXT NOT NULL CHECK (status IN ('running','completed','failed','blocked','cancelled')),
        started_at TEXT NOT NULL,
        ended_at TEXT,
        error TEXT,
        execution_id TEXT,
        config_hash TEXT,
        dataset_version TEXT,
        random_seed TEXT,
        driftgate_version TEXT,
        code_revision TEXT,
        anchors_json TEXT NOT NULL
      );
      CREATE INDEX runs_by_experiment ON runs(experiment, started_at);
      CREATE TABLE params (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      );
      CREATE TABLE metrics (
        run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value REAL NOT NULL,
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
    `
  },
  {
    version: 2,
    name: "registry",
    sql: `
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
        PRIMARY KEY (name, version)
      );
      -- The registry's central rule, enforced by the database as well as by the code.
      CREATE UNIQUE INDEX model_versions_one_production ON model_versions(name) WHERE stage = 'Production';
      CREATE TABLE aliases (
        name TEXT NOT NULL,
        alias TEXT NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (name, alias),
        FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
      );
      CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
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
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
      BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: records cannot be updated'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
      BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: records cannot be deleted'); END;
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
    `
  },
  {
    version: 3,
    name: "runs_liveness",
    // A run records which process runs it (pid, host, the process's start time) and a heartbeat, so
    // that the next command can tell a run whose process is gone and mark it 'interrupted'. SQLite
    // cannot widen a CHECK in place, and renaming a parent table with foreign keys on rewrites (or
    // cascades into) its children, so the five tracking tables are copied into new ones together.
    sql: `
      CREATE TABLE runs_v3 (
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
      INSERT INTO runs_v3 (run_id, experiment, status, started_at, ended_at, error, execution_id, config_hash,
          dataset_version, random_seed, driftgate_version, code_revision, anchors_json)
        SELECT run_id, experiment, status, started_at, ended_at, error, execution_id, config_hash,
          dataset_version, random_seed, driftgate_version, code_revision, anchors_json FROM runs;
      CREATE TABLE params_v3 (
        run_id TEXT NOT NULL REFERENCES runs_v3(run_id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      );
      INSERT INTO params_v3 SELECT run_id, key, value FROM params;
      CREATE TABLE metrics_v3 (
        run_id TEXT NOT NULL REFERENCES runs_v3(run_id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value REAL NOT NULL,
        step INTEGER NOT NULL DEFAULT 0,
        at TEXT NOT NULL,
        PRIMARY KEY (run_id, key, step)
      );
      INSERT INTO metrics_v3 SELECT run_id, key, value, step, at FROM metrics;
      CREATE TABLE tags_v3 (
        run_id TEXT NOT NULL REFERENCES runs_v3(run_id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      );
      INSERT INTO tags_v3 SELECT run_id, key, value FROM tags;
      CREATE TABLE artifacts_v3 (
        run_id TEXT NOT NULL REFERENCES runs_v3(run_id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT,
        PRIMARY KEY (run_id, name)
      );
      INSERT INTO artifacts_v3 SELECT run_id, name, path, sha256 FROM artifacts;
      DROP TABLE params;
      DROP TABLE metrics;
      DROP TABLE tags;
      DROP TABLE artifacts;
      DROP TABLE runs;
      ALTER TABLE runs_v3 RENAME TO runs;
      ALTER TABLE params_v3 RENAME TO params;
      ALTER TABLE metrics_v3 RENAME TO metrics;
      ALTER TABLE tags_v3 RENAME TO tags;
      ALTER TABLE artifacts_v3 RENAME TO artifacts;
      CREATE INDEX runs_by_experiment ON runs(experiment, started_at);
      -- the sweep for orphaned runs reads only these
      CREATE INDEX runs_running ON runs(run_id) WHERE status = 'running';
    `
  },
  {
    version: 4,
    name: "artifact_files",
    sql: `
      -- Every file of a registered version with its SHA-256, written in the registering transaction.
      -- Versions registered before this migration have none: files_recorded = 0 says so.
      ALTER TABLE model_versions ADD COLUMN files_recorded INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE artifact_files (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        file TEXT NOT NULL,
        sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
        bytes INTEGER NOT NULL CHECK (bytes >= 0),
        PRIMARY KEY (name, version, file),
        FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
      );
      CREATE TRIGGER artifact_files_no_update BEFORE UPDATE ON artifact_files
      BEGIN SELECT RAISE(ABORT, 'artifact_files is append-only: recorded digests cannot be changed'); END;
      CREATE TRIGGER artifact_files_no_delete BEFORE DELETE ON artifact_files
      BEGIN SELECT RAISE(ABORT, 'artifact_files is append-only: recorded digests cannot be deleted'); END;
    `
  },
  {
    version: 5,
    name: "run_pages",
    // The dashboard's run list: one page sorted and filtered by the store (queryRuns), fast at 10,000 runs.
    sql: `
      CREATE INDEX runs_by_started ON runs(started_at, run_id);
      CREATE INDEX runs_by_status ON runs(status, started_at);
      CREATE INDEX runs_by_dataset_version ON runs(dataset_version);
      CREATE INDEX tags_by_key_value ON tags(key, value);
    `
  }
]
