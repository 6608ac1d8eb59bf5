import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { rng } from "../../src/domain/random.js"
import { cli, tempWorkspace } from "./helpers.js"

const require = createRequire(import.meta.url)
type Db = {
  prepare: (sql: string) => { get: () => unknown; run: () => unknown }
  exec: (sql: string) => void
  pragma: (p: string, o?: { simple: boolean }) => unknown
  close: () => void
}
const open = (file: string): Db => {
  const Database = require("better-sqlite3") as new (f: string) => Db
  return new Database(file)
}

/** A used workspace: v1 promoted, then a second run whose approval was cancelled (a record that changes no state). */
let ws = ""
beforeAll(() => {
  ws = tempWorkspace()
  const first = cli(["run", "--config", "configs/breast_cancer.yaml", "--approve", "auto", "--workspace", ws])
  expect(first.code, first.stderr).toBe(0)
  const second = cli(["run", "--config", "configs/breast_cancer.yaml", "--approve", "cancel", "--workspace", ws])
  expect(second.code, second.stderr).toBe(3)
  // Fold the WAL into store.db, so that page-level edits below hit the data.
  const db = open(path.join(ws, "store.db"))
  db.pragma("wal_checkpoint(TRUNCATE)")
  db.close()
}, 240_000)

const copy = () => {
  const dest = tempWorkspace()
  fs.cpSync(ws, dest, { recursive: true })
  return dest
}

describe("registry verify finds what the probe found (exit 1, naming the problem)", () => {
  it("an untouched workspace verifies (exit 0)", () => {
    const r = cli(["registry", "verify", "--workspace", copy(), "--json"])
    expect(r.code, r.stderr).toBe(0)
    const v = JSON.parse(r.stdout)
    expect(v).toMatchObject({ ok: true, problems: [] })
    expect(v.versions).toEqual([{ model: "breast-cancer", version: 1, stage: "Production", files: "verified" }])
  })

  it("one digit of a Production model.json", () => {
    const w = copy()
    const dir = fs
      .readdirSync(path.join(w, "artifacts"))
      .find((d) => fs.existsSync(path.join(w, "artifacts", d, "model", "registration.json")))!
    const file = path.join(w, "artifacts", dir, "model", "model.json")
    const text = fs.readFileSync(file, "utf8")
    const i = text.search(/\d\.\d/) + 2
    fs.writeFileSync(file, text.slice(0, i) + String((Number(text[i]) + 1) % 10) + text.slice(i + 1))
    const r = cli(["registry", "verify", "--workspace", w])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`breast-cancer version 1 is refused: its file artifacts/${dir}/model/model.json`)
  })

  it("the tail of the audit log removed (triggers dropped, a state-free record deleted)", () => {
    const w = copy()
    const db = open(path.join(w, "store.db"))
    const last = (db.prepare("SELECT max(seq) AS n FROM audit_log").get() as { n: number }).n
    expect(
      (db.prepare("SELECT action FROM audit_log ORDER BY seq DESC LIMIT 1").get() as { action: string }).action
    ).toBe("cancelled")
    db.exec("DROP TRIGGER audit_log_no_delete")
    db.exec(`DELETE FROM audit_log WHERE seq = ${last}`)
    db.close()
    const r = cli(["registry", "verify", "--workspace", w])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain(
      `audit-head records audit record ${last}, but the audit log ends at record ${last - 1}: the tail of the log was removed`
    )
  })

  it("4 KB of garbage written into a page of store.db", () => {
    const w = copy()
    const file = path.join(w, "store.db")
    const db = open(file)
    const page = db.pragma("page_size", { simple: true }) as number
    const rootpage = (
      db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'audit_log'").get() as { rootpage: number }
    ).rootpage
    db.close()
    const random = rng(7)
    const garbage = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(random.next() * 256)))
    const fd = fs.openSync(file, "r+")
    fs.writeSync(fd, garbage, 0, garbage.length, (rootpage - 1) * page)
    fs.closeSync(fd)
    const r = cli(["registry", "verify", "--workspace", w])
    expect(r.code).toBe(1)
    expect(r.stdout + r.stderr).toMatch(/integrity_check|malformed/)
  })

  it("an empty store beside existing artifacts and reports (truncate -s 0 store.db)", () => {
    const w = copy()
    fs.truncateSync(path.join(w, "store.db"), 0)
    const r = cli(["registry", "verify", "--workspace", w])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain("store.db was wiped or replaced")
    expect(r.stdout).toContain("the tail of the log was removed")
  })

  const missing = path.join(tempWorkspace(), "typo")
  for (const args of [
    ["registry", "verify"],
    ["registry", "list"],
    ["registry", "show", "breast-cancer"],
    ["runs", "list"],
    ["drift", "summary", "--config", "configs/breast_cancer.yaml"]
  ]) {
    it(`a missing workspace: ${args.slice(0, 2).join(" ")} says so and creates nothing`, () => {
      const r = cli([...args, "--workspace", missing])
      expect(r.code).toBe(1)
      expect(r.stderr.trim()).toBe(
        `driftgate: the workspace ${missing} does not exist (no store at ${path.join(missing, "store.db")}); check --workspace or DRIFTGATE_WORKSPACE (read-only commands never create one)`
      )
      expect(fs.existsSync(missing)).toBe(false)
    })
  }
})
