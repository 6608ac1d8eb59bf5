import { Worker } from "node:worker_threads"
import { describe, expect, it } from "vitest"
import { growTree, toTreeArrays, type GrownTree } from "../../src/ml/tree/grower.js"
import { defaultCriterion, makeGrowJob } from "../../src/ml/tree/params.js"
import { argmaxRows, compileTrees, sumLeafValues } from "../../src/ml/tree/predict.js"

/**
 * Tree growth with max_depth: null must not use the call stack in proportion to the tree's depth
 * (issue #10 item 4): a million rows can make a tree thousands of levels deep. The grower keeps
 * pending nodes on an explicit stack; this test grows a tree ~3,000 levels deep from 500,000 rows
 * in a worker whose JS stack is so small that a plain recursion of that depth overflows there
 * (checked in the same worker settings, so the test fails if growth ever becomes recursive).
 */

const STACK_MB = 0.4
const N = 500_000
const CHAIN = 3_000

/** Runs `fn(data)` (self-contained source) in a worker with a small stack; resolves its result or error text. */
const inSmallStack = <R>(fnSource: string, data: unknown): Promise<{ ok?: R; err?: string }> =>
  new Promise((resolve, reject) => {
    const w = new Worker(
      `const { parentPort, workerData } = require("node:worker_threads"); const __name = (f) => f;
       let out; try { out = { ok: (${fnSource})(workerData) } } catch (e) { out = { err: String(e) } }
       parentPort.postMessage(out)`,
      { eval: true, workerData: data, resourceLimits: { stackSizeMb: STACK_MB } }
    )
    w.once("message", (m) => {
      void w.terminate()
      resolve(m)
    })
    w.once("error", reject)
  })

/**
 * 500,000 rows: a pure block of one class at x = -1, then CHAIN rows x = 0, 1, 2, … with alternating
 * classes. Gini peels one row off the chain per split, so the tree is about CHAIN levels deep.
 */
const degenerate = () => {
  const x = new Float64Array(N),
    y = new Float64Array(N)
  for (let i = 0; i < N; i++) {
    const k = i - (N - CHAIN)
    x[i] = k < 0 ? -1 : k
    y[i] = k < 0 ? 0 : k % 2
  }
  return { x, y }
}

const depthOf = (t: Pick<GrownTree, "nodeCount" | "left" | "right">): number => {
  const depth = new Int32Array(t.nodeCount)
  let max = 0
  for (let i = 0; i < t.nodeCount; i++) {
    const l = t.left[i]!
    if (l < 0) continue
    depth[l] = depth[t.right[i]!] = depth[i]! + 1
    if (depth[i]! + 1 > max) max = depth[i]! + 1
  }
  return max
}

describe("tree growth without data-sized recursion", () => {
  it("the worker's stack is small enough that a recursion as deep as the tree overflows", async () => {
    const recursion = `(n) => { const f = (d) => (d === 0 ? 0 : 1 + f(d - 1)); return f(n) }`
    const r = await inSmallStack<number>(recursion, CHAIN)
    expect(r.err).toMatch(/Maximum call stack size exceeded/)
  })

  it(`grows a ~${CHAIN}-level tree from ${N.toLocaleString("en")} rows in that stack; predictions recover every label`, async () => {
    const { x, y } = degenerate()
    const params = {
      criterion: defaultCriterion("classification"),
      max_depth: null,
      min_samples_split: 2,
      min_samples_leaf: 1,
      max_features: null
    }
    const job = makeGrowJob(x, N, 1, y, 2, "classification", params, Float64Array.of(0), false, N)
    const r = await inSmallStack<GrownTree>(`(job) => (${growTree.toString()})(job, 0)`, job)
    if (r.ok === undefined) throw new Error(`growTree failed in the small stack: ${r.err}`)
    const grown = r.ok
    expect(depthOf(grown)).toBeGreaterThanOrEqual(CHAIN - 2)
    expect(grown.nodeCount).toBeGreaterThanOrEqual(2 * CHAIN - 3)

    const compiled = compileTrees({}, [toTreeArrays(grown)], 2)
    const pred = argmaxRows(sumLeafValues(compiled, { rows: N, cols: 1, data: x }), N, 2)
    let wrong = 0
    for (let i = 0; i < N; i++) if (pred[i] !== y[i]) wrong++
    expect(wrong).toBe(0)
  })
})
