import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"

const repo = path.resolve(import.meta.dirname, "../..")
const script = path.join(repo, "scripts/deps.mjs")
const config = path.join(repo, ".dependency-cruiser.cjs")
const temps: string[] = []

/** A throwaway tree of .ts files (path → source), checked with the project's rules from its root. */
const check = (files: Record<string, string>) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "driftgate-deps-"))
  temps.push(dir)
  fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "NodeNext" } }))
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
    fs.writeFileSync(path.join(dir, rel), text)
  }
  return spawnSync(process.execPath, [script, "--config", config, "src"], { cwd: dir, encoding: "utf8" })
}

afterAll(() => {
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true })
})

describe("import rules (npm run deps)", () => {
  it("fails on a value-import cycle, naming both files", () => {
    const r = check({
      "src/programs/a.ts": 'import { b } from "./b.js"\nexport const a = () => b() + 1\n',
      "src/programs/b.ts": 'import { a } from "./a.js"\nexport const b = () => (a.length > 0 ? 1 : 0)\n'
    })
    expect(r.status).toBe(1)
    expect(r.stdout).toContain("no-circular")
    expect(r.stdout).toContain("src/programs/a.ts")
    expect(r.stdout).toContain("src/programs/b.ts")
  }, 60_000)

  it("lets type-only imports go both ways (they vanish at compile time)", () => {
    const r = check({
      "src/programs/a.ts":
        'import type { B } from "./b.js"\nexport interface A { readonly b?: B }\nexport const a = 1\n',
      "src/programs/b.ts":
        'import type { A } from "./a.js"\nexport interface B { readonly a?: A }\nexport const b = 2\n'
    })
    expect(r.stdout + r.stderr).not.toContain("no-circular")
    expect(r.status).toBe(0)
  }, 60_000)

  it("fails when a program imports a layer, or domain imports a service", () => {
    const r = check({
      "src/layers/x/Thing.ts": "export const thing = 1\n",
      "src/services/Port.ts": "export const port = 1\n",
      "src/programs/p.ts": 'import { thing } from "../layers/x/Thing.js"\nexport const p = thing\n',
      "src/domain/d.ts": 'import { port } from "../services/Port.js"\nexport const d = port\n'
    })
    expect(r.status).toBe(1)
    expect(r.stdout).toContain("programs-never-import-layers")
    expect(r.stdout).toContain("domain-imports-nothing-of-ours")
  }, 60_000)

  it("passes on the project's own src/", () => {
    const r = spawnSync(process.execPath, [script], { cwd: repo, encoding: "utf8" })
    expect(r.stdout + r.stderr).toContain("no import rule broken")
    expect(r.status).toBe(0)
  }, 180_000)
})
