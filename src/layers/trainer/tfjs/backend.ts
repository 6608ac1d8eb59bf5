// Picks the fastest tfjs backend that can *train* convolutions here, and says which it picked
// (the name is logged and recorded with the run: a model's speed and its last bits depend on it).
import { createRequire } from "node:module"
import * as path from "node:path"
import type * as Tf from "@tensorflow/tfjs"
import { registerConvBlockKernels } from "./convBlock.js"
import { registerCpuConvBackpropFilter, registerWasmGradients, type WasmGradientReport } from "./wasmGradients.js"

export type TfModule = typeof Tf

/** What the caller may ask for; "auto" tries node-gpu, node, wasm, cpu in that order. */
export type TfBackendPreference = "auto" | "node-gpu" | "node" | "wasm" | "cpu"

export interface TfBackendInfo {
  /** tfjs backend name as `tf.getBackend()` reports it: "tensorflow" (tfjs-node[-gpu]), "wasm" or "cpu". */
  readonly name: string
  /** Which package provides it: "@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node", "@tensorflow/tfjs-backend-wasm", "@tensorflow/tfjs". */
  readonly provider: string
  readonly tf: TfModule
  /** wasm only: SIMD binary in use, and the thread count XNNPACK runs with. */
  readonly simd?: boolean
  readonly threads?: number
  /** wasm only: the gradient kernels that were missing and the ones registered here. */
  readonly gradients?: WasmGradientReport
  /** Backends that were tried first and why they were skipped (e.g. "not installed"). */
  readonly skipped: ReadonlyArray<string>
}

const requireHere = createRequire(import.meta.url)

const loadTfjs = async (): Promise<TfModule> => (await import("@tensorflow/tfjs")) as TfModule

// Optional packages: imported by a variable name so neither tsc nor a bundler requires them.
// undefined when the package is absent; any other failure (e.g. libtensorflow missing) throws.
const importOptional = async (pkg: string): Promise<TfModule | undefined> => {
  try {
    return (await import(pkg)) as TfModule
  } catch (e) {
    const code = (e as { code?: string }).code
    const absent =
      (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && String((e as Error).message).includes(pkg)
    if (absent) return undefined
    throw e
  }
}

const wasmDir = (): string => path.dirname(requireHere.resolve("@tensorflow/tfjs-backend-wasm/package.json")) + "/dist/"

// Emscripten's Node glue adds process-wide 'uncaughtException'/'unhandledRejection' listeners
// that rethrow from inside the minified module: any later crash of the host process then prints
// a ~100 kB line of wasm glue before the real error. They do nothing else for tfjs: drop them.
const withoutEmscriptenHandlers = async <A>(init: () => Promise<A>): Promise<A> => {
  const events: ReadonlyArray<string> = ["uncaughtException", "unhandledRejection"]
  const before = events.map((e) => new Set<unknown>(process.listeners(e as "uncaughtException")))
  try {
    return await init()
  } finally {
    events.forEach((e, i) => {
      for (const l of process.listeners(e as "uncaughtException")) {
        if (!before[i]!.has(l)) process.removeListener(e, l as (...args: Array<unknown>) => void)
      }
    })
  }
}

let wasmReady: Promise<{ simd: boolean; gradients: WasmGradientReport }> | undefined

/**
 * Loads and initialises the wasm backend once: binaries from node_modules (offline), the
 * missing gradient kernels registered. In Node 20, tfjs-backend-wasm 4.22 runs single-threaded
 * (its WASM_HAS_MULTITHREAD_SUPPORT flag is hard-wired to false under Node), SIMD where available.
 */
const initWasm = async (tf: TfModule) => {
  wasmReady ??= (async () => {
    const wasm = await import("@tensorflow/tfjs-backend-wasm")
    wasm.setWasmPaths(wasmDir())
    const gradients = registerWasmGradients(tf)
    registerConvBlockKernels(tf)
    const ok = await withoutEmscriptenHandlers(() => tf.setBackend("wasm"))
    if (!ok) throw new Error("tfjs wasm backend failed to initialise")
    const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) as boolean
    return { simd, gradients }
  })()
  try {
    return await wasmReady
  } catch (e) {
    wasmReady = undefined
    throw e
  }
}

const threadsOf = async (): Promise<number> => {
  const wasm = await import("@tensorflow/tfjs-backend-wasm")
  return wasm.getThreadsCount()
}

/**
 * Selects and activates a backend. "auto": `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`
 * when installed, else `wasm` with our gradient kernels, else the pure-JS `cpu` with a faster
 * Conv2DBackpropFilter (still ~15× slower than wasm for a CNN). Works offline.
 */
export const selectTfBackend = async (preference: TfBackendPreference = "auto"): Promise<TfBackendInfo> => {
  const skipped: Array<string> = []
  const order: ReadonlyArray<Exclude<TfBackendPreference, "auto">> =
    preference === "auto" ? ["node-gpu", "node", "wasm", "cpu"] : [preference]
  for (const candidate of order) {
    try {
      if (candidate === "node-gpu" || candidate === "node") {
        const pkg = candidate === "node-gpu" ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node"
        const tf = await importOptional(pkg)
        if (tf === undefined) {
          skipped.push(`${pkg}: not installed`)
          continue
        }
        if (!(await tf.setBackend("tensorflow"))) {
          skipped.push(`${pkg}: backend "tensorflow" failed to initialise`)
          continue
        }
        return { name: tf.getBackend(), provider: pkg, tf, skipped }
      }
      const tf = await loadTfjs()
      if (candidate === "wasm") {
        const { simd, gradients } = await initWasm(tf)
        if (!(await tf.setBackend("wasm"))) throw new Error("setBackend('wasm') returned false")
        return {
          name: tf.getBackend(),
          provider: "@tensorflow/tfjs-backend-wasm",
          tf,
          simd,
          threads: await threadsOf(),
          gradients,
          skipped
        }
      }
      registerConvBlockKernels(tf)
      registerCpuConvBackpropFilter(tf)
      if (!(await tf.setBackend("cpu"))) throw new Error("setBackend('cpu') returned false")
      return { name: tf.getBackend(), provider: "@tensorflow/tfjs", tf, skipped }
    } catch (e) {
      skipped.push(`${candidate}: ${e instanceof Error ? e.message : String(e)}`)
    }
  }
  throw new Error(`no tfjs backend could be initialised: ${skipped.join("; ")}`)
}
