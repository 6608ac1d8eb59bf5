import { availableParallelism } from "node:os"
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads"

/**
 * Synchronous parallel map for pure, self-contained kernels (learners' fit is synchronous).
 *
 * The kernel's source text is evaluated in each worker thread, so it must not reference imports or
 * outer variables. The calling thread works too; tasks are handed out through a shared counter and
 * results are stored by index, so the output does not depend on the thread count. The caller blocks
 * on Atomics.wait and reads the workers' results with receiveMessageOnPort. A task a worker could
 * not run (any failure in the worker) is run on the calling thread, so the result is the same.
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
  const spawned: Worker[] = []
  for (let k = 0; k < workers; k++) {
    const { port1, port2 } = new MessageChannel()
    try {
      spawned.push(
        new Worker(WORKER_SOURCE, {
          eval: true,
          workerData: { src: kernel.toString(), shared, next, signal, count, port: port2 },
          transferList: [port2]
        })
      )
      ports.push(port1)
    } catch {
      port1.close()
      break
    }
  }
  for (;;) {
    const i = Atomics.add(next, 0, 1)
    if (i >= count) break
    results[i] = kernel(shared, i)
    done[i] = 1
  }
  for (let seen = Atomics.load(signal, 0); seen < ports.length; seen = Atomics.load(signal, 0)) {
    Atomics.wait(signal, 0, seen)
  }
  for (const port of ports) {
    const msg = receiveMessageOnPort(port)?.message as { out: Array<[number, R]> } | undefined
    if (msg !== undefined) {
      for (const [i, r] of msg.out) {
        results[i] = r
        done[i] = 1
      }
    }
    port.close()
  }
  for (const w of spawned) {
    w.unref()
    void w.terminate()
  }
  for (let i = 0; i < count; i++) if (done[i] === 0) results[i] = kernel(shared, i)
  return results
}

/** Resolves an n_jobs parameter: null/undefined → 1, -1 → all cores, -k → cores + 1 - k. */
export const resolveThreads = (nJobs: number | null | undefined): number => {
  if (nJobs === null || nJobs === undefined || nJobs === 0) return 1
  const cores = availableParallelism()
  return nJobs < 0 ? Math.max(1, cores + 1 + nJobs) : Math.floor(nJobs)
}

// Runs in each worker: always signals, even on failure, so the caller never waits forever.
// __name: the helper esbuild's keepNames (tsx, vitest) inserts into transpiled function bodies.
const WORKER_SOURCE = `
globalThis.__name = globalThis.__name || ((target) => target)
globalThis.__driftgateWorker = true
const { workerData } = require("node:worker_threads")
const { src, shared, next, signal, count, port } = workerData
const out = []
try {
  const kernel = (0, eval)("(" + src + ")")
  for (;;) {
    const i = Atomics.add(next, 0, 1)
    if (i >= count) break
    try { out.push([i, kernel(shared, i)]) } catch (e) { break }
  }
} catch (e) {}
try { port.postMessage({ out }) } catch (e) {}
Atomics.add(signal, 0, 1)
Atomics.notify(signal, 0)
`
