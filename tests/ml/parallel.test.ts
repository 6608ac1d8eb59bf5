import { describe, expect, it } from "vitest"
import { parallelMapSync, resolveThreads } from "../../src/ml/parallel.js"

describe("parallelMapSync", () => {
  it("runs tasks in worker threads and returns results by index", () => {
    // self-contained kernel: busy work, then report which thread ran it
    const kernel = (shared: { n: number }, i: number): [number, boolean] => {
      let s = 0
      for (let k = 0; k < shared.n; k++) s += Math.sqrt(k + i)
      return [i, (globalThis as { __driftgateWorker?: boolean }).__driftgateWorker === true && s > 0]
    }
    const out = parallelMapSync(kernel, { n: 2_000_000 }, 16, 2)
    expect(out.map((r) => r[0])).toEqual(Array.from({ length: 16 }, (_, i) => i))
    expect(out.some((r) => r[1])).toBe(true)
  })

  it("runs a task on the calling thread when a worker cannot (kernel refers to an outer variable)", () => {
    const outer = 10
    const out = parallelMapSync((_: null, i: number) => i * outer, null, 12, 2)
    expect(out).toEqual(Array.from({ length: 12 }, (_, i) => i * 10))
  })

  it("resolves n_jobs", () => {
    expect(resolveThreads(null)).toBe(1)
    expect(resolveThreads(undefined)).toBe(1)
    expect(resolveThreads(3)).toBe(3)
    expect(resolveThreads(-1)).toBeGreaterThanOrEqual(1)
  })
})
