// Child process for cnnPool.test.ts: data-parallel training where the pool's wait is the only
// pending work of the process (no test runner keeping Node's event loop alive). Prints one JSON
// line, then ends by itself (idle workers must not keep it alive either).
import { rng } from "../../../../src/domain/random.js"
import { selectTfBackend } from "../../../../src/layers/trainer/tfjs/backend.js"
import { trainCnn } from "../../../../src/layers/trainer/tfjs/cnn.js"

await selectTfBackend("wasm")
const r = rng(5)
const n = 64
const data = new Float32Array(n * 8 * 8 * 2)
for (let i = 0; i < data.length; i++) data[i] = r.next()
const labels = Int32Array.from({ length: n }, () => r.int(2))
const result = await trainCnn({
  images: { data, shape: [n, 8, 8, 2] },
  labels,
  arch: { conv: [{ filters: 4, kernel: 3 }], pool: "max", dense: [], dropout: 0 },
  nClasses: 2,
  epochs: 2,
  batchSize: 32,
  learningRate: 1e-3,
  optimizer: "adam",
  seed: 3,
  threads: 2
})
console.log(JSON.stringify({ threads: result.threads, epochs: result.history.length }))
