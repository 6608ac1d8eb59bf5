import { expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { openPostgres } from "../../src/layers/postgres/PostgresDatabase.js"
import { pgMigrations } from "../../src/layers/postgres/migrations.js"
import { cleanUpDatabases, describePg, freshDatabase, withClient } from "./pg-support.js"

// Several processes opening a fresh store at once (the concurrent-promotion test's children) all migrate
// it: the bookkeeping table too is created under the migration lock (CREATE TABLE IF NOT EXISTS is not
// safe against itself: the loser failed on pg_type's unique index, now and then).
describePg("PostgreSQL migrations", () => {
  cleanUpDatabases()

  it.live("twelve openers at once on a fresh database: every one opens, each migration is applied once", () =>
    Effect.promise(async () => {
      for (let round = 0; round < 3; round++) {
        const url = await freshDatabase()
        const dbs = await Promise.all(Array.from({ length: 12 }, () => openPostgres(url, { max: 1 })))
        await Promise.all(dbs.map((d) => d.pool.end()))
        const rows = await withClient(
          url,
          async (c) => (await c.query("SELECT version FROM schema_migrations ORDER BY version")).rows
        )
        expect(rows.map((r) => Number(r.version))).toEqual(pgMigrations.map((m) => m.version).sort((a, b) => a - b))
      }
    })
  )
})
