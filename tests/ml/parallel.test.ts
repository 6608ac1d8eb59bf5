import { describe, expect, it } from "vitest"
import {
  lastParallelRun,
  parallelMapSync,
  resolveThreads,
  sharedArray,
  startTeam,
  TEAM_ABORT,
  type Team,
  toShared
} from "../../src/ml/parallel.js"

// Kernels run from their source text in the workers: they may use only their arguments and globals.
// The calling thread's share waits (bounded) until a worker has taken a task, so these tests do not
// depend on how fast the workers start on a busy machine.
const isWorker = (): boolean => (globalThis as { __driftgateWorker?: boolean }).__driftgateWorker === true

describe("parallelMapSync", () => {
  it("runs tasks in worker threads and returns results by index", () => {
    const kernel = (shared: { flag: Int32Array }, i: number): [number, boolean] => {
      const inWorker = (globalThis as { __driftgateWorker?: boolean }).__driftgateWorker === true
      if (inWorker) {
        Atomics.store(shared.flag, 0, 1)
        Atomics.notify(shared.flag, 0)
      } else Atomics.wait(shared.flag, 0, 0, 20_000)
      return [i, inWorker]
    }
    const flag = sharedArray(Int32Array, 1)
    const out = parallelMapSync(kernel, { flag }, 16, 2)
    expect(out.map((r) => r[0])).toEqual(Array.from({ length: 16 }, (_, i) => i))
    const byWorker = out.filter((r) => r[1]).length
    expect(byWorker).toBeGreaterThan(0)
    const info = lastParallelRun()!
    expect(info.threads).toBe(2)
    expect(info.tasksByThread[1]).toBe(byWorker)
    expect(info.tasksByThread[0]! + info.tasksByThread[1]!).toBe(16)
    expect(isWorker()).toBe(false)
  })

  it("keeps its workers for the next call (a worker thread costs tens of ms to start), a failed task included", () => {
    // each worker thread marks its own global object once; a kept worker shows the same mark again
    const kernel = (shared: { flag: Int32Array; fail: Int32Array }, i: number): number => {
      const g = globalThis as { __driftgateWorker?: boolean; __mark?: number }
      if (g.__driftgateWorker === true) {
        Atomics.store(shared.flag, 0, 1)
        Atomics.notify(shared.flag, 0)
        if (shared.fail[0] === 1) throw new Error("task failed on purpose")
        return (g.__mark ??= Math.random())
      }
      Atomics.wait(shared.flag, 0, 0, 20_000)
      return -1 - i
    }
    const marks = (fail: number): number[] => {
      const out = parallelMapSync(kernel, { flag: sharedArray(Int32Array, 1), fail: Int32Array.of(fail) }, 8, 2)
      return [...new Set(out.filter((m) => m >= 0))]
    }
    const first = marks(0)
    expect(first).toHaveLength(1)
    expect(() => marks(1)).toThrow(/task failed on purpose/)
    expect(marks(0)).toEqual(first)
  })

  it("does not wait for a kept worker that died while idle: the calling thread does its share", () => {
    // the worker ends itself just after its first job; the caller does not run its event loop in between,
    // so the dead worker is still in the pool when the second call hands it the job
    const kernel = (shared: { die: Int32Array }, i: number): number => {
      const g = globalThis as { __driftgateWorker?: boolean; setTimeout: (f: () => void, ms: number) => void }
      if (g.__driftgateWorker === true && shared.die[0] === 1) {
        shared.die[0] = 0
        g.setTimeout(() => (globalThis as unknown as { process: { exit: (c: number) => void } }).process.exit(0), 0)
      }
      return i * 2
    }
    const die = sharedArray(Int32Array, 1)
    die[0] = 1
    // make sure a worker takes a task in the first call (the calling thread waits until one has)
    const first = parallelMapSync(
      (s: { die: Int32Array; flag: Int32Array }, i: number): number => {
        const inWorker = (globalThis as { __driftgateWorker?: boolean }).__driftgateWorker === true
        if (inWorker) {
          Atomics.store(s.flag, 0, 1)
          Atomics.notify(s.flag, 0)
          if (s.die[0] === 1) {
            s.die[0] = 0
            ;(globalThis as unknown as { setTimeout: (f: () => void, ms: number) => void }).setTimeout(
              () => (globalThis as unknown as { process: { exit: (c: number) => void } }).process.exit(0),
              0
            )
          }
        } else Atomics.wait(s.flag, 0, 0, 20_000)
        return i * 2
      },
      { die, flag: sharedArray(Int32Array, 1) },
      8,
      2
    )
    expect(first).toEqual([0, 2, 4, 6, 8, 10, 12, 14])
    // the worker exits meanwhile; this thread sleeps without running its event loop
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300)
    const second = parallelMapSync(kernel, { die: sharedArray(Int32Array, 1) }, 8, 2)
    expect(second).toEqual([0, 2, 4, 6, 8, 10, 12, 14])
  })

  it("does not wait for a kept worker that is busy elsewhere: it takes no task, and is sound for the next call", () => {
    // after its first job the worker keeps its thread busy for 1.5 s (as a hung or descheduled worker would)
    const busy = (s: { flag: Int32Array; hold: Int32Array }, i: number): number => {
      const g = globalThis as { __driftgateWorker?: boolean; setTimeout: (f: () => void, ms: number) => void }
      if (g.__driftgateWorker === true) {
        Atomics.store(s.flag, 0, 1)
        Atomics.notify(s.flag, 0)
        if (s.hold[0] === 1) {
          s.hold[0] = 0
          g.setTimeout(() => {
            const until = Date.now() + 1500
            while (Date.now() < until);
          }, 0)
        }
      } else Atomics.wait(s.flag, 0, 0, 20_000)
      return i + 1
    }
    const hold = sharedArray(Int32Array, 1)
    hold[0] = 1
    expect(parallelMapSync(busy, { flag: sharedArray(Int32Array, 1), hold }, 8, 2)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100)
    const t0 = Date.now()
    const plain = (_: null, i: number): number => i + 1
    expect(parallelMapSync(plain, null, 8, 2)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(lastParallelRun()!.tasksByThread[0]).toBe(8)
    expect(Date.now() - t0).toBeLessThan(1000)
    // once free, the worker skips the job it was too late for and takes the next one
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1600)
    expect(parallelMapSync(busy, { flag: sharedArray(Int32Array, 1), hold }, 8, 2)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(lastParallelRun()!.tasksByThread[1]).toBeGreaterThan(0)
  })

  it("rethrows a worker's error on the calling thread instead of hiding it", () => {
    const outer = 10
    const kernel = (shared: { flag: Int32Array }, i: number): number => {
      if ((globalThis as { __driftgateWorker?: boolean }).__driftgateWorker === true) {
        Atomics.store(shared.flag, 0, 1)
        Atomics.notify(shared.flag, 0)
        return i * outer // not defined in a worker: the kernel is not self-contained
      }
      Atomics.wait(shared.flag, 0, 0, 20_000)
      return i
    }
    const flag = sharedArray(Int32Array, 1)
    expect(() => parallelMapSync(kernel, { flag }, 12, 2)).toThrow(
      /worker thread failed on task \d+: outer is not defined/
    )
  })

  it("rethrows an error of the calling thread's own task after the workers stop", () => {
    const kernel = (_: null, i: number): number => {
      if (i === 0) throw new Error("task 0 is bad")
      return i
    }
    expect(() => parallelMapSync(kernel, null, 4, 2)).toThrow(/task 0 is bad|worker thread failed/)
  })

  it("hands large typed arrays to the workers through shared memory, not a copy per worker", () => {
    const n = 600_000
    const data = new Float64Array(n)
    for (let i = 0; i < n; i++) data[i] = i % 97
    // each task sums a slice and reports whether it saw shared memory
    const kernel = (s: { data: Float64Array; flag: Int32Array }, t: number): [number, boolean] => {
      if ((globalThis as { __driftgateWorker?: boolean }).__driftgateWorker === true) {
        Atomics.store(s.flag, 0, 1)
        Atomics.notify(s.flag, 0)
      } else Atomics.wait(s.flag, 0, 0, 20_000)
      let sum = 0
      for (let i = t * 100_000; i < (t + 1) * 100_000; i++) sum += s.data[i]!
      return [sum, s.data.buffer instanceof SharedArrayBuffer]
    }
    const out = parallelMapSync(kernel, { data, flag: sharedArray(Int32Array, 1) }, 6, 2)
    for (let t = 0; t < 6; t++) {
      let expected = 0
      for (let i = t * 100_000; i < (t + 1) * 100_000; i++) expected += data[i]!
      expect(out[t]![0]).toBe(expected)
      expect(out[t]![1]).toBe(true)
    }
    expect(lastParallelRun()!.sharedBytes).toBe(n * 8)
  })

  it("resolves n_jobs", () => {
    expect(resolveThreads(null)).toBe(1)
    expect(resolveThreads(undefined)).toBe(1)
    expect(resolveThreads(3)).toBe(3)
    expect(resolveThreads(-1)).toBeGreaterThanOrEqual(1)
  })
})

describe("startTeam", () => {
  // pieces of 10,000 values, claimed through args[2] (zeroed before each step)
  const fill = (s: { out: Float64Array }, args: Int32Array, thread: number): void => {
    if (args[0] === 99 && thread > 0) throw new Error(`step refused on thread ${thread}`)
    const n = s.out.length
    for (let c = Atomics.add(args, 2, 1); c * 10_000 < n; c = Atomics.add(args, 2, 1)) {
      for (let i = c * 10_000; i < Math.min(n, (c + 1) * 10_000); i++) s.out[i] = i * args[1]! + Math.sqrt(i)
    }
  }
  const step = (team: Team<{ out: Float64Array }>, value: number, op = 0): void => {
    team.args[0] = op
    team.args[1] = value
    team.args[2] = 0
    team.run()
  }

  it("runs every step to the end whoever joins it, and workers join (the calling thread never waits for one)", () => {
    const out = sharedArray(Float64Array, 500_000)
    const team = startTeam(fill, 3)
    team.share({ out })
    try {
      expect(team.threads).toBe(3)
      // a worker joins the steps it wakes in time for: within a few hundred steps, some
      let steps = 0
      for (; steps < 2_000 && (steps < 4 || team.workerSteps() === 0); steps++) {
        step(team, steps + 1)
        for (const i of [0, 9_999, 10_000, 250_000, 499_999]) expect(out[i]).toBe(i * (steps + 1) + Math.sqrt(i))
      }
      expect(team.workerSteps()).toBeGreaterThan(0)
      expect(team.workerSteps()).toBeLessThanOrEqual(2 * steps)
    } finally {
      team.close()
    }
  })

  it("with everyWorker, every worker joins every step", () => {
    const out = sharedArray(Float64Array, 100_000)
    const team = startTeam(fill, 3, { everyWorker: true })
    team.share({ out })
    try {
      for (let k = 1; k <= 5; k++) step(team, k)
      expect(team.workerSteps()).toBe(10)
      expect(out[99_999]).toBe(99_999 * 5 + Math.sqrt(99_999))
    } finally {
      team.close()
    }
  })

  it("refuses typed arrays that are not shared (they would be copied per worker), and a run before share()", () => {
    const team = startTeam(fill, 2)
    try {
      expect(() => team.run()).toThrow(/share\(\) its data before run\(\)/)
      expect(() => team.share({ out: new Float64Array(10) })).toThrow(/not on a SharedArrayBuffer/)
    } finally {
      team.close()
    }
  })

  // a kernel that waits for every piece, as hgbKernel's waitFor does, giving up when a thread failed
  const waiting = (s: { out: Float64Array }, args: Int32Array, thread: number): void => {
    // one piece each (both threads run: everyWorker)
    const c = Atomics.add(args, 16, 1)
    if (args[0] === thread + 1) throw new Error(`thread ${thread} failed in piece ${c}`)
    s.out[c] = 1
    Atomics.add(args, 17, 1)
    for (let spin = 0; Atomics.load(args, 17) < 2; spin++) {
      // args[31]: TEAM_ABORT (a kernel runs from its source text in the workers: no imports)
      if (Atomics.load(args, 31) !== 0) throw new Error(`thread ${thread} gave up waiting`)
      if (spin > 2_000) Atomics.wait(args, 17, Atomics.load(args, 17), 5)
    }
  }
  for (const [who, op] of [
    ["a worker", 2],
    ["the calling thread", 1]
  ] as const) {
    it(`when ${who} fails in a piece the others wait for, run() throws that error (not a giving-up), promptly`, () => {
      expect(TEAM_ABORT).toBe(31)
      const team = startTeam(waiting, 2, { everyWorker: true })
      team.share({ out: sharedArray(Float64Array, 2) })
      team.args.fill(0)
      team.args[0] = op
      // each thread claims one piece: the failing one never marks its piece done
      expect(() => team.run()).toThrow(op === 2 ? /thread 1 failed in piece/ : /thread 0 failed in piece/)
      expect(() => team.run()).toThrow(/closed/)
    })
  }

  it("rethrows a worker's error from run() and closes the team", () => {
    const team = startTeam(fill, 2)
    team.share({ out: toShared(new Float64Array(1_000_000)) })
    // the calling thread does not refuse step 99: it fails once a worker joins one
    let error: unknown = null
    for (let k = 0; k < 2_000 && error === null; k++) {
      try {
        step(team, 1, 99)
      } catch (e) {
        error = e
      }
    }
    expect(String(error)).toMatch(/step refused on thread 1/)
    expect(() => team.run()).toThrow(/closed/)
  })
})
