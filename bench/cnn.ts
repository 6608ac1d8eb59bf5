// CNN training throughput per tfjs backend: `npx tsx bench/cnn.ts [--batch 64,128] [--epochs 6]
// [--images 2048] [--cpu-steps 2] [--stock-cpu-steps 1] [--no-cpu]`. Reference network from the
// issue: conv16-pool-conv32-pool-dense10 on 32×32×3, Adam, synthetic random inputs (throughput
// does not depend on them). "stock cpu" is tfjs-layers on tfjs's own cpu kernels (what the issue
// measured); "cpu" is driftgate's trainer with its faster Conv2DBackpropFilter registered.
import * as tf from "@tensorflow/tfjs"
import * as os from "node:os"
import { selectTfBackend, type TfBackendInfo } from "../src/layers/trainer/tfjs/backend.js"
import { buildCnn, trainCnn, disposeCnn, type CnnArch } from "../src/layers/trainer/tfjs/cnn.js"
import { rng } from "../src/domain/random.js"

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}
const batches = arg("batch", "64,128").split(",").map(Number)
const timedEpochs = Number(arg("epochs", "6"))
const nImages = Number(arg("images", "2048"))
const cpuSteps = Number(arg("cpu-steps", "2"))
const stockCpuSteps = Number(arg("stock-cpu-steps", "1"))
const withCpu = !process.argv.includes("--no-cpu")

const PYTORCH =
  "1,340–2,100 images/s (PyTorch CPU, same network and batch 64, on this machine; quoted from the issue — PyTorch is not installed here, see bench/cnn_pytorch_note.md)"

const arch: CnnArch = {
  conv: [
    { filters: 16, kernel: 3 },
    { filters: 32, kernel: 3 }
  ],
  pool: "max",
  dense: [],
  dropout: 0
}

const synthetic = (n: number, seed: number) => {
  const r = rng(seed)
  const data = new Float32Array(n * 32 * 32 * 3)
  for (let i = 0; i < data.length; i++) data[i] = r.next()
  const labels = Int32Array.from({ length: n }, () => r.int(10))
  return { images: { data, shape: [n, 32, 32, 3] as const }, labels }
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** One warm-up epoch (unless told not to), then `epochs` timed epochs; images/s as the trainer reports it. */
const measure = async (n: number, batchSize: number, epochs: number, warmUp = true) => {
  const { images, labels } = synthetic(n, 7)
  const rates: Array<number> = []
  const result = await trainCnn({
    images,
    labels,
    arch,
    nClasses: 10,
    epochs: epochs + (warmUp ? 1 : 0),
    batchSize,
    learningRate: 1e-3,
    optimizer: "adam",
    seed: 1,
    onEpoch: (epoch, s) => {
      if (epoch > 1 || !warmUp) rates.push(s.imagesPerSecond)
    }
  })
  disposeCnn(result.model)
  return { median: median(rates), min: Math.min(...rates), max: Math.max(...rates), runs: rates.length }
}

const cpu = os.cpus()
console.log(
  `machine: ${cpu[0]?.model ?? "unknown"}, ${cpu.length} cores, ${os.platform()} ${os.arch()}, Node ${process.version}`
)
console.log(
  `load average at start: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")} (other processes skew the figures)`
)
console.log(`network: conv16-pool-conv32-pool-dense10, 32×32×3, Adam; ${nImages} synthetic images per epoch`)
console.log(`reference: ${PYTORCH}`)
console.log("")

const describe = (b: TfBackendInfo): string =>
  b.name === "wasm"
    ? `wasm (SIMD ${b.simd ? "on" : "off"}, ${b.threads} thread${b.threads === 1 ? "" : "s"}; registered ${b.gradients?.registered.join(", ") || "none"}; replaced ${b.gradients?.replaced.join(", ") || "none"})`
    : `${b.name} (${b.provider})`

const rows: Array<string> = []
for (const pref of ["node-gpu", "node", "wasm"] as const) {
  let info: TfBackendInfo
  try {
    info = await selectTfBackend(pref)
  } catch (e) {
    console.log(`${pref}: unavailable — ${e instanceof Error ? e.message : String(e)}`)
    continue
  }
  console.log(`backend ${describe(info)}`)
  for (const batchSize of batches) {
    const r = await measure(nImages, batchSize, timedEpochs)
    const line = `${info.name.padEnd(10)} batch ${String(batchSize).padStart(4)}: ${r.median.toFixed(0).padStart(6)} images/s (median of ${r.runs} epochs, range ${r.min.toFixed(0)}–${r.max.toFixed(0)})`
    console.log("  " + line)
    rows.push(line)
  }
}
/** Plain tfjs: layers' own forward, tfjs's gradients and kernels, one optimizer step at a time. */
const stockStep = (steps: number): number => {
  const m = buildCnn(arch, [32, 32, 3], 10, 1)
  const { images, labels } = synthetic(64, 7)
  const vars = m.model.trainableWeights.map((w) => w.read() as tf.Variable)
  const optimizer = tf.train.adam(1e-3)
  const x = tf.tensor4d(images.data, [64, 32, 32, 3])
  const y = tf.oneHot(tf.tensor1d(labels, "int32"), 10)
  const t0 = performance.now()
  for (let i = 0; i < steps; i++) {
    tf.tidy(() => {
      optimizer
        .minimize(() => tf.losses.softmaxCrossEntropy(y, m.model.apply(x) as tf.Tensor) as tf.Scalar, true, vars)!
        .dataSync()
    })
  }
  const rate = (64 * steps) / ((performance.now() - t0) / 1000)
  tf.dispose([x, y])
  optimizer.dispose()
  disposeCnn(m)
  return rate
}

if (withCpu && stockCpuSteps > 0) {
  // before selectTfBackend("cpu") swaps in driftgate's Conv2DBackpropFilter
  await tf.setBackend("cpu")
  console.log(`backend cpu, stock tfjs kernels and tfjs-layers ops: ${stockCpuSteps} step(s) of batch 64 (≈ 30 s each)`)
  const rate = stockStep(stockCpuSteps)
  const line = `${"stock cpu".padEnd(10)} batch   64: ${rate.toFixed(1).padStart(6)} images/s (${stockCpuSteps} step(s), no warm-up)`
  console.log("  " + line)
  rows.push(line)
}
if (withCpu && cpuSteps > 0) {
  const info = await selectTfBackend("cpu")
  console.log(
    `backend ${describe(info)} with driftgate's Conv2DBackpropFilter: a warm-up epoch, then one of ${cpuSteps} steps of batch 64`
  )
  const r = await measure(64 * cpuSteps, 64, 1)
  const line = `${"cpu".padEnd(10)} batch   64: ${r.median.toFixed(1).padStart(6)} images/s (${cpuSteps} steps after a warm-up epoch)`
  console.log("  " + line)
  rows.push(line)
}
console.log("")
console.log("summary")
for (const r of rows) console.log("  " + r)
console.log(`  pytorch    batch   64: ${PYTORCH}`)
