/**
 * The PostgreSQL tests' server: DRIFTGATE_TEST_PG_URL (scripts/ci/postgres.sh start prints one).
 * Each test gets a database of its own, created here and dropped when the file's tests end.
 * Without the variable the PostgreSQL tests skip with one printed line — except under CI=true,
 * where a missing server is a failure, never a silent skip.
 */
import { afterAll, describe, it } from "@effect/vitest"
import { createRequire } from "node:module"
import type * as Pg from "pg"

export const PG_URL = process.env["DRIFTGATE_TEST_PG_URL"] ?? ""
const CI = /^(1|true|yes)$/i.test(process.env["CI"] ?? "")

const require = createRequire(import.meta.url)
const pg = require("pg") as typeof Pg

let said = false
/**
 * `describe` when a server is configured; otherwise one line and a skip locally, and a failing
 * test under CI=true.
 */
export const describePg = (name: string, body: () => void) => {
  if (PG_URL !== "") return describe(name, body)
  if (CI)
    return describe(name, () => {
      it("needs a PostgreSQL server", () => {
        throw new Error("CI=true but DRIFTGATE_TEST_PG_URL is not set: start one with scripts/ci/postgres.sh start")
      })
    })
  if (!said) {
    said = true
    console.log('PostgreSQL tests skipped: DRIFTGATE_TEST_PG_URL is not set (eval "$(scripts/ci/postgres.sh env)")')
  }
  return describe.skip(name, body)
}

const created: string[] = []
let counter = 0

const withDatabase = (name: string): string => {
  const u = new URL(PG_URL)
  u.pathname = `/${name}`
  return u.toString()
}

const admin = async <A>(f: (c: Pg.Client) => Promise<A>): Promise<A> => {
  const c = new pg.Client({ connectionString: PG_URL })
  await c.connect()
  try {
    return await f(c)
  } finally {
    await c.end()
  }
}

/** A fresh, empty database on the test server; its URL. */
export const freshDatabase = async (): Promise<string> => {
  const name = `dg_${process.pid}_${Date.now().toString(36)}_${counter++}`
  await admin((c) => c.query(`CREATE DATABASE ${name}`))
  created.push(name)
  return withDatabase(name)
}

/** Drops the databases this file created (called from the test file's afterAll). */
export const dropDatabases = async () => {
  if (PG_URL === "" || created.length === 0) return
  const names = created.splice(0)
  await admin(async (c) => {
    for (const n of names) await c.query(`DROP DATABASE IF EXISTS ${n} WITH (FORCE)`)
  })
}

/** Registers the clean-up for the calling test file. */
export const cleanUpDatabases = () => afterAll(dropDatabases)

/** A raw client on `url`, for checks that go around the layers. */
export const withClient = async <A>(url: string, f: (c: Pg.Client) => Promise<A>): Promise<A> => {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return await f(c)
  } finally {
    await c.end()
  }
}
