import { createRequire } from "node:module"
import { availableParallelism } from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort, type WorkerOptions } from "node:worker_threads"

/**
 * Synchronous worker-thread helpers for pure, self-contained kernels (learners' fit is synchronous).
 *
 * A kernel's source text is evaluated in each worker thread, so it must not reference imports or
 * outer variables. Typed arrays reach the workers through SharedArrayBuffers (`toShared`), never as
 * a structured-clone copy per worker. A kernel that throws in a worker is an error of the caller's
 * program: it is rethrown on the calling thread with the worker's message, never swallowed.
 */

/** Where the last parallel call's work ran, for tests and benchmarks (not part of any result). */
export interface ParallelRunInfo {
  /** Threads that took part, the calling thread included. */
  readonly threads: number
  /** Tasks run per thread; index 0 is the calling thread. */
  readonly tasksByThread: ReadonlyArray<number>
  /** Bytes of typed arrays handed to the workers by shared memory. */
  readonly sharedBytes: number
}

let lastRun: ParallelRunInfo | null = null
export const lastParallelRun = (): ParallelRunInfo | null => lastRun

/** Typed arrays larger than this go through a SharedArrayBuffer; smaller ones are cloned. */
const SHARE_MIN_BYTES = 1 << 16

type Typed =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array

const isTyped = (v: unknown): v is Typed => ArrayBuffer.isView(v) && !(v instanceof DataView)

/** A copy of `a` over a SharedArrayBuffer (or `a` itself when it is already shared). */
export const toShared = <T extends Typed>(a: T): T => {
  if (a.buffer instanceof SharedArrayBuffer) return a
  const Ctor = a.constructor as new (buffer: SharedArrayBuffer) => T
  const out = new Ctor(new SharedArrayBuffer(a.byteLength))
  out.set(a as never)
  return out
}

/** A zeroed typed array over a new SharedArrayBuffer. */
export const sharedArray = <T extends Typed>(Ctor: new (buffer: SharedArrayBuffer) => T, length: number): T => {
  const bytes = (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT
  return new Ctor(new SharedArrayBuffer(Math.max(1, length) * bytes))
}

/** `shared` with every large typed-array field (one level deep) moved onto shared memory. */
const shareFields = <S>(shared: S): { value: S; bytes: number } => {
  if (shared === null || typeof shared !== "object") return { value: shared, bytes: 0 }
  if (isTyped(shared)) {
    if (shared.byteLength < SHARE_MIN_BYTES) return { value: shared, bytes: 0 }
    return { value: toShared(shared) as S, bytes: shared.byteLength }
  }
  const out: Record<string, unknown> = {}
  let bytes = 0
  for (const [k, v] of Object.entries(shared as Record<string, unknown>)) {
    if (isTyped(v) && v.byteLength >= SHARE_MIN_BYTES) {
      out[k] = toShared(v)
      bytes += v.byteLength
    } else out[k] = v
  }
  return { value: out as S, bytes }
}

const workerError = (where: string, e: { message: string; stack?: string }): Error => {
  const err = new Error(`worker thread failed ${where}: ${e.message}`)
  if (e.stack !== undefined) err.stack = `${err.message}\n--- in the worker ---\n${e.stack}`
  return err
}

/**
 * Map workers kept between calls: starting a worker thread costs tens of milliseconds, as much as a
 * 100,000-row forest prediction, so the workers of one call serve the next (a fit's binning, then the
 * predictions). Idle workers are unref'd: they never keep the process alive.
 */
const idleMapWorkers: Worker[] = []
/** Per kept worker: a word it sets as it exits (its 'exit' event needs an event-loop turn this thread may not take). */
const exited = new WeakMap<Worker, Int32Array>()

/** An idle worker that has not exited, else a new one. */
const takeMapWorker = (): Worker => {
  for (let w = idleMapWorkers.pop(); w !== undefined; w = idleMapWorkers.pop()) {
    if (Atomics.load(exited.get(w)!, 0) === 0) return w
  }
  return startMapWorker()
}

/**
 * Starts map workers now, up to `count` idle ones (and the pool's limit), so that a parallelMapSync
 * made later finds them booted (a worker takes tens of milliseconds to start, during which the calling
 * thread does its tasks alone).
 */
export const warmMapWorkers = (count: number): void => {
  for (let i = idleMapWorkers.length; i < Math.min(count, MAX_IDLE_MAP_WORKERS); i++)
    idleMapWorkers.push(startMapWorker())
}

const startMapWorker = (): Worker => {
  const gone = new Int32Array(new SharedArrayBuffer(4))
  const w = new Worker(MAP_WORKER_SOURCE, { eval: true, workerData: { exited: gone } })
  exited.set(w, gone)
  w.unref()
  // a worker that exits (terminated, crashed) is no longer handed work
  w.once("exit", () => {
    const at = idleMapWorkers.indexOf(w)
    if (at >= 0) idleMapWorkers.splice(at, 1)
  })
  w.on("error", () => undefined)
  return w
}

/**
 * Parallel map: `kernel(shared, i)` for i in 0..count-1, results by index, so the output does not
 * depend on the thread count. The calling thread works too; tasks are handed out through a shared
 * counter. Workers that cannot be started leave their share to the calling thread.
 */
export const parallelMapSync = <S, R>(
  kernel: (shared: S, index: number) => R,
  shared: S,
  count: number,
  threads: number
): R[] => {
  const results = new Array<R>(count)
  const done = new Uint8Array(count)
  const workers = Math.min(Math.max(1, Math.floor(threads)), count) - 1
  const next = new Int32Array(new SharedArrayBuffer(4))
  const signal = new Int32Array(new SharedArrayBuffer(4))
  const ports: MessagePort[] = []
  const used: Worker[] = []
  const moved = workers > 0 ? shareFields(shared) : { value: shared, bytes: 0 }
  const src = workers > 0 ? kernel.toString() : ""
  // per worker: 0 until it takes up the job (1), or the caller closes the slot (2) for a worker that has
  // not, so that a worker that died while idle in the pool is not waited for
  const claims = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, workers)))
  for (let k = 0; k < workers; k++) {
    const { port1, port2 } = new MessageChannel()
    let w: Worker | undefined
    try {
      w = takeMapWorker()
      w.postMessage({ src, shared: moved.value, next, signal, count, port: port2, claims, slot: ports.length }, [port2])
      used.push(w)
      ports.push(port1)
    } catch {
      port1.close()
      if (w !== undefined) idleMapWorkers.push(w)
      break
    }
  }
  const byThread = new Array<number>(ports.length + 1).fill(0)
  let failure: Error | null = null
  try {
    for (;;) {
      const i = Atomics.add(next, 0, 1)
      if (i >= count) break
      results[i] = kernel(moved.value, i)
      done[i] = 1
      byThread[0]!++
    }
  } catch (e) {
    // stop handing out tasks, then wait for the workers before rethrowing
    Atomics.store(next, 0, count)
    failure = e instanceof Error ? e : new Error(String(e))
  }
  // every task has been taken: a worker that has not taken up the job by now never will
  let claimed = 0
  for (let k = 0; k < ports.length; k++) if (Atomics.compareExchange(claims, k, 0, 2) === 1) claimed++
  for (let seen = Atomics.load(signal, 0); seen < claimed; seen = Atomics.load(signal, 0)) {
    Atomics.wait(signal, 0, seen)
  }
  ports.forEach((port, w) => {
    const msg = receiveMessageOnPort(port)?.message as
      { out: Array<[number, R]>; error?: { task: number; message: string; stack?: string } } | undefined
    if (msg !== undefined) {
      for (const [i, r] of msg.out) {
        results[i] = r
        done[i] = 1
        byThread[w + 1]!++
      }
      if (msg.error !== undefined && failure === null) failure = workerError(`on task ${msg.error.task}`, msg.error)
    }
    port.close()
  })
  // the workers go back to the pool for the next call (a kernel error was caught in the worker: it is sound)
  for (const w of used)
    if (idleMapWorkers.length < MAX_IDLE_MAP_WORKERS) idleMapWorkers.push(w)
    else void w.terminate()
  if (failure !== null) throw failure
  // a worker that died before reporting (it could not start): its tasks run here
  for (let i = 0; i < count; i++) {
    if (done[i] === 0) {
      results[i] = kernel(moved.value, i)
      byThread[0]!++
    }
  }
  lastRun = { threads: byThread.length, tasksByThread: byThread, sharedBytes: moved.bytes }
  return results
}

/** Idle map workers kept for later calls (more are started when a call asks for more threads). */
const MAX_IDLE_MAP_WORKERS = Math.max(1, availableParallelism() - 1)

/**
 * A worker thread running one of our module entries (the CNN replicas, the chart and profile threads).
 * `from` is the caller's import.meta.url. From the sources (tsx, vitest) the worker registers tsx's loader,
 * then imports `entryTs` beside the caller; from the esbuild bundle it runs `<bundled>.js`, which
 * scripts/buildOptions.mjs puts in dist/ beside the bundle (the caller's chunk is in dist/ or dist/chunks/;
 * a missing file is the worker's 'error' event, which every caller handles).
 */
export const startModuleWorker = (
  from: string,
  entryTs: string,
  bundled: string,
  options: WorkerOptions = {}
): Worker => {
  if (from.endsWith(".ts")) {
    const tsx = pathToFileURL(
      path.join(path.dirname(createRequire(from).resolve("tsx/package.json")), "dist/esm/api/index.mjs")
    ).href
    const entry = new URL(entryTs, from).href
    const code = `import(${JSON.stringify(tsx)}).then((a) => { a.register(); return import(${JSON.stringify(entry)}) })`
    return new Worker(code, { ...options, eval: true })
  }
  // esbuild puts shared code in dist/chunks/ (scripts/build.mjs) and the entries in dist/
  return new Worker(new URL(`${from.includes("/chunks/") ? ".." : "."}/${bundled}.js`, from), options)
}

/** Resolves an n_jobs parameter: null/undefined → 1, -1 → all cores, -k → cores + 1 - k. */
export const resolveThreads = (nJobs: number | null | undefined): number => {
  if (nJobs === null || nJobs === undefined || nJobs === 0) return 1
  const cores = availableParallelism()
  return nJobs < 0 ? Math.max(1, cores + 1 + nJobs) : Math.floor(nJobs)
}

/** Cores this process may use. */
export const coreCount = (): number => availableParallelism()

// Runs in each map worker: one job per message; once it has claimed its slot it always signals, even on
// failure, so the caller never waits forever for a worker that took the job up. Kernels are compiled once per worker (by source text).
// __name: the helper esbuild's keepNames (tsx, vitest) inserts into transpiled function bodies.
const MAP_WORKER_SOURCE = `
globalThis.__name = globalThis.__name || ((target) => target)
globalThis.__driftgateWorker = true
const { parentPort, workerData } = require("node:worker_threads")
process.on("exit", () => Atomics.store(workerData.exited, 0, 1))
const kernels = new Map()
parentPort.on("message", ({ src, shared, next, signal, count, port, claims, slot }) => {
  // too late: the caller has done the tasks and closed this worker's slot
  if (Atomics.compareExchange(claims, slot, 0, 1) !== 0) {
    port.close()
    return
  }
  const out = []
  let error
  let task = -1
  try {
    let kernel = kernels.get(src)
    if (kernel === undefined) {
      if (kernels.size >= 16) kernels.clear()
      kernel = (0, eval)("(" + src + ")")
      kernels.set(src, kernel)
    }
    for (;;) {
      task = Atomics.add(next, 0, 1)
      if (task >= count) break
      out.push([task, kernel(shared, task)])
    }
  } catch (e) {
    Atomics.store(next, 0, count)
    error = { task, message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined }
  }
  try { port.postMessage({ out, error }) } catch (e) {
    try { port.postMessage({ out: [], error: { task, message: "could not send results: " + (e && e.message) } }) } catch (_) {}
  }
  port.close()
  Atomics.add(signal, 0, 1)
  Atomics.notify(signal, 0)
})
`

// ---------------------------------------------------------------------------------------------
// A team: worker threads kept for the length of one fit, woken for each step through shared memory

/**
 * `kernel(shared, args, thread, threads)` runs one step on a thread of the team; `args` is a small
 * shared Int32Array the caller fills before `run()`. Thread 0 is the calling thread, which always
 * runs the step; a worker takes part only if it wakes before the calling thread has finished it. So a
 * kernel shares its work out by claiming pieces (an Atomics.add on a counter in `args`, reset by the
 * caller), never by thread number, and waits only for pieces another thread has claimed: a worker
 * that wakes late then costs no waiting — the calling thread does the rest (one descheduled after it
 * claimed a piece still holds the others up until it finishes that piece). With fixed pieces the result cannot depend on which thread did what.
 */
export type TeamKernel<S> = (shared: S, args: Int32Array, thread: number, threads: number) => void

export interface Team<S> {
  /** Threads that may take part in each step, the calling thread included (1: no workers). */
  readonly threads: number
  /** Parameters of the next step, read by the kernel on every thread. */
  readonly args: Int32Array
  /**
   * Hands the kernel's shared data to the workers, once, before the first run(): a team is started
   * before its data exists, so that its workers boot while the caller prepares it.
   */
  readonly share: (shared: S) => void
  /**
   * Runs one step: the calling thread runs the kernel, workers that wake in time join it; returns when
   * every thread that joined is done; rethrows a worker's error.
   */
  readonly run: () => void
  /** Steps that a worker took part in, summed over workers (tests check workers really ran). */
  readonly workerSteps: () => number
  readonly close: () => void
}

// control words: generation, threads done, exit flag, worker steps, joining (generation << 8 | workers
// joined, or JOIN_CLOSED in the low byte once the calling thread has finished the step)
const GEN = 0
const DONE = 1
const EXIT = 2
const STEPS = 3
const JOIN = 4
const JOIN_CLOSED = 0xff
const GEN_MASK = 0x7fffff
export const TEAM_ARGS = 32
/**
 * Index in `args` that a worker sets when its kernel throws: a kernel waiting for pieces another thread
 * claimed checks it (as hgb-kernel.ts's waitFor does) and gives up instead of waiting forever.
 */
export const TEAM_ABORT = 31
/**
 * Polls of a control word before a thread sleeps on it (about 50 µs: Atomics.load costs ~25 ns): a fit runs thousands of
 * short steps, and a futex wake-up per step costs more than the step on a quiet machine. Bounded, so
 * that on a loaded machine the team sleeps instead of burning the cores others need (OpenMP's
 * unbounded spinning is what makes scikit-learn crawl under load).
 */
const SPIN = 2_000
/**
 * Polls of a team worker waiting for the next step before it sleeps (about 250 µs): between two steps the
 * calling thread does the step's serial part (a tree's split search, its bookkeeping), often longer than
 * SPIN, and a sleeping worker takes a futex wake-up to join the next step (measured 90 µs median on a
 * 2-core VM), during which the calling thread works alone. Still bounded, for a loaded machine's sake.
 */
const IDLE_SPIN = 10_000

/**
 * Starts `threads - 1` workers that wait on shared memory for steps (a worker takes about 60 ms to
 * boot: start the team early, then share() its data). Every typed array in the shared data (one level
 * deep) must already live on a SharedArrayBuffer: the team refuses copies, since a copy per worker is
 * what made forests fail on large data.
 */
export const startTeam = <S extends object>(
  kernel: TeamKernel<S>,
  threads: number,
  options: {
    /** Every step waits until every worker has joined before the calling thread starts it (tests: the threads then really share each step). */
    readonly everyWorker?: boolean
  } = {}
): Team<S> => {
  const ctrl = new Int32Array(new SharedArrayBuffer(16 * 4))
  const args = new Int32Array(new SharedArrayBuffer(TEAM_ARGS * 4))
  const n = Math.max(1, Math.floor(threads))
  const spawned: Worker[] = []
  const ports: MessagePort[] = []
  for (let w = 1; w < n; w++) {
    const { port1, port2 } = new MessageChannel()
    try {
      const worker = new Worker(TEAM_WORKER_SOURCE, {
        eval: true,
        workerData: { src: kernel.toString(), ctrl, args, thread: w, threads: n, port: port2 },
        transferList: [port2]
      })
      // a worker that dies outside a step is not the process's death (its steps' errors come by port)
      worker.on("error", () => undefined)
      spawned.push(worker)
      ports.push(port1)
    } catch (e) {
      port1.close()
      closeWorkers(ctrl, spawned, ports)
      throw e instanceof Error ? e : new Error(String(e))
    }
  }
  const workers = spawned.length
  let closed = false
  let shared: S | null = null
  const share = (data: S): void => {
    if (shared !== null) throw new Error("team: share() was already called")
    for (const [k, v] of Object.entries(data)) {
      if (isTyped(v) && !(v.buffer instanceof SharedArrayBuffer)) {
        throw new Error(`startTeam: shared.${k} is not on a SharedArrayBuffer`)
      }
    }
    // read by each worker (receiveMessageOnPort) before the first step it joins
    for (const port of ports) port.postMessage({ shared: data })
    shared = data
  }
  const run = (): void => {
    if (closed) throw new Error("team is closed")
    if (shared === null) throw new Error("team: share() its data before run()")
    args[TEAM_ABORT] = 0
    const gen = (Atomics.load(ctrl, GEN) + 1) & GEN_MASK
    Atomics.store(ctrl, DONE, 0)
    Atomics.store(ctrl, JOIN, gen << 8)
    Atomics.store(ctrl, GEN, gen)
    if (workers > 0) Atomics.notify(ctrl, GEN)
    if (options.everyWorker === true) {
      for (let v = Atomics.load(ctrl, JOIN); (v & 0xff) < workers; v = Atomics.load(ctrl, JOIN)) {
        Atomics.wait(ctrl, JOIN, v, 50)
      }
    }
    let failure: unknown = null
    // whether this thread failed before any worker did (its error is then the cause, not a worker's)
    let failedFirst = false
    try {
      kernel(shared, args, 0, workers + 1)
    } catch (e) {
      failure = e
      // and a worker waiting for a piece this thread claimed must not wait forever
      failedFirst = Atomics.compareExchange(args, TEAM_ABORT, 0, 1) === 0
    }
    // no worker joins from now on; wait for those that did (they usually finish within microseconds)
    let v = Atomics.load(ctrl, JOIN)
    for (let seen = Atomics.compareExchange(ctrl, JOIN, v, (v & ~0xff) | JOIN_CLOSED); seen !== v;) {
      v = seen
      seen = Atomics.compareExchange(ctrl, JOIN, v, (v & ~0xff) | JOIN_CLOSED)
    }
    const joined = v & 0xff
    for (let spin = 0; spin < SPIN && Atomics.load(ctrl, DONE) < joined; spin++);
    for (let seen = Atomics.load(ctrl, DONE); seen < joined; seen = Atomics.load(ctrl, DONE)) {
      Atomics.wait(ctrl, DONE, seen)
    }
    // the first failure is the cause: the others may only say that they gave up waiting for it
    let workerFailure: Error | null = null
    for (const port of ports) {
      const msg = receiveMessageOnPort(port)?.message as { message: string; stack?: string } | undefined
      if (msg !== undefined && workerFailure === null) workerFailure = workerError("in a team step", msg)
    }
    if (workerFailure !== null || failure !== null) {
      closeTeam()
      throw failedFirst ? failure : (workerFailure ?? failure)
    }
  }
  const closeTeam = (): void => {
    if (closed) return
    closed = true
    closeWorkers(ctrl, spawned, ports)
  }
  return { threads: workers + 1, args, share, run, workerSteps: () => Atomics.load(ctrl, STEPS), close: closeTeam }
}

const closeWorkers = (ctrl: Int32Array, spawned: Worker[], ports: MessagePort[]): void => {
  Atomics.store(ctrl, EXIT, 1)
  Atomics.add(ctrl, GEN, 1)
  Atomics.notify(ctrl, GEN)
  for (const p of ports) p.close()
  for (const w of spawned) {
    w.unref()
    void w.terminate()
  }
}

// Waits for a new generation and joins its step unless the calling thread has finished it; runs the
// step, reports. An error is posted, flagged in args (TEAM_ABORT) for a thread waiting on this one's
// pieces, and the step still counts as done, so the calling thread never waits forever.
const TEAM_WORKER_SOURCE = `
globalThis.__name = globalThis.__name || ((target) => target)
globalThis.__driftgateWorker = true
const { workerData, receiveMessageOnPort } = require("node:worker_threads")
const { src, ctrl, args, thread, threads, port } = workerData
let kernel
let startError
try { kernel = (0, eval)("(" + src + ")") } catch (e) { startError = e }
let shared = null
let seen = 0
for (;;) {
  for (let spin = 0; spin < ${IDLE_SPIN} && Atomics.load(ctrl, ${GEN}) === seen; spin++);
  Atomics.wait(ctrl, ${GEN}, seen)
  seen = Atomics.load(ctrl, ${GEN})
  if (Atomics.load(ctrl, ${EXIT}) === 1) break
  // join step seen if it is still open (its generation in the join word, not closed)
  let joined = false
  for (;;) {
    const v = Atomics.load(ctrl, ${JOIN})
    if ((v >>> 8) !== seen || (v & 0xff) === ${JOIN_CLOSED}) break
    if (Atomics.compareExchange(ctrl, ${JOIN}, v, v + 1) === v) {
      joined = true
      Atomics.notify(ctrl, ${JOIN})
      break
    }
  }
  if (!joined) continue
  try {
    if (startError !== undefined) throw startError
    if (shared === null) {
      const m = receiveMessageOnPort(port)
      if (m === undefined) throw new Error("team worker: no shared data")
      shared = m.message.shared
    }
    kernel(shared, args, thread, threads)
    Atomics.add(ctrl, ${STEPS}, 1)
  } catch (e) {
    Atomics.compareExchange(args, ${TEAM_ABORT}, 0, 1)
    try { port.postMessage({ message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined }) } catch (_) {}
  }
  Atomics.add(ctrl, ${DONE}, 1)
  Atomics.notify(ctrl, ${DONE})
}
`
