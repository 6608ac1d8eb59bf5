import { Effect, Either, Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { kindTasks, learnerSpecs, type TabularKind } from "../../src/domain/training.js"
import { makeTrainerTabular } from "../../src/layers/trainer/TrainerTabular.js"
import { decodeParams, type Learner, type Task } from "../../src/ml/learner.js"
import { learners } from "../../src/ml/learners.js"
import { LearnerInputError, takeRows, type Matrix } from "../../src/ml/matrix.js"
import type { FittedModel } from "../../src/services/Trainer.js"
import { breastCancer, californiaHousing, iris } from "./data.js"

/**
 * The learner contract, checked for every row of the learner table (in the spirit of scikit-learn's
 * check_estimator): a new learner gets these checks by being added to src/ml/learners.ts.
 */

/** Small settings so each check fits in milliseconds; the compiler asks for a row per kind. */
const quick: Record<TabularKind, Record<string, unknown>> = {
  decision_tree: { max_depth: 6 },
  random_forest: { n_estimators: 5, max_depth: 6 },
  logistic_regression: { max_iter: 50 },
  linear_regression: {},
  ridge: { alpha: 0.5 },
  hist_gradient_boosting: { max_iter: 5, early_stopping: false }
}

interface Case {
  readonly name: string
  readonly task: Task
  readonly x: Matrix
  readonly y: Float64Array
  readonly nClasses?: number
}

const every = (n: number, step: number) => Array.from({ length: Math.ceil(n / step) }, (_, i) => i * step)
const standardise = (m: Matrix): Matrix => {
  const data = Float64Array.from(m.data)
  for (let j = 0; j < m.cols; j++) {
    let s = 0,
      ss = 0
    for (let i = 0; i < m.rows; i++) s += data[i * m.cols + j]!
    const mean = s / m.rows
    for (let i = 0; i < m.rows; i++) ss += (data[i * m.cols + j]! - mean) ** 2
    const sd = Math.sqrt(ss / m.rows) || 1
    for (let i = 0; i < m.rows; i++) data[i * m.cols + j] = (data[i * m.cols + j]! - mean) / sd
  }
  return { ...m, data }
}
const subset = (d: { x: Matrix; y: Float64Array }, idx: number[]) => ({
  x: standardise(takeRows(d.x, idx)),
  y: Float64Array.from(idx, (i) => d.y[i]!)
})

const cases = (task: Task): ReadonlyArray<Case> => {
  if (task === "regression") {
    const ca = californiaHousing()
    return [{ name: "california (400 rows)", task, ...subset(ca, every(ca.x.rows, Math.floor(ca.x.rows / 400))) }]
  }
  const ir = iris()
  const bc = breastCancer()
  return [
    { name: "iris (3 classes)", task, ...subset(ir, every(ir.x.rows, 1)), nClasses: 3 },
    { name: "breast_cancer (2 classes, 190 rows)", task, ...subset(bc, every(bc.x.rows, 3)), nClasses: 2 }
  ]
}

const trainer = makeTrainerTabular()
const fitted = (kind: TabularKind, c: Case, seed = 3): FittedModel =>
  Effect.runSync(
    trainer.fit({
      kind,
      task: c.task,
      params: quick[kind],
      x: c.x,
      y: c.y,
      featureNames: Array.from({ length: c.x.cols }, (_, j) => `f${j}`),
      seed,
      ...(c.nClasses !== undefined ? { nClasses: c.nClasses } : {})
    })
  )
const decodeEither = (json: string) => Effect.runSync(Effect.either(trainer.decode(json)))
const fitOptions = (kind: TabularKind, c: Case, params: Record<string, unknown> = quick[kind]) => ({
  task: c.task,
  params,
  seed: 3,
  ...(c.nClasses !== undefined ? { nClasses: c.nClasses } : {})
})

const kinds = Object.keys(learners) as TabularKind[]

describe("the learner table", () => {
  it("has one learner per tabular kind, each carrying its row of learnerSpecs", () => {
    const specKinds = Object.keys(learnerSpecs).filter((k) => k !== "cnn")
    expect(kinds.sort()).toEqual(specKinds.sort())
    const formats = new Set<string>()
    for (const kind of kinds) {
      const l: Learner<any, any> = learners[kind]
      expect(l.kind).toBe(kind)
      expect(l.params).toBe(learnerSpecs[kind].params)
      expect([...l.tasks]).toEqual([...kindTasks[kind]])
      expect(l.format).toMatch(/^driftgate\.[a-z_]+\/\d+$/)
      formats.add(l.format)
    }
    expect(formats.size).toBe(kinds.length)
  })
})

for (const kind of kinds) {
  const learner: Learner<any, any> = learners[kind]
  describe(`learner contract: ${kind}`, () => {
    for (const task of learner.tasks) {
      for (const c of cases(task)) {
        describe(c.name, () => {
          it("fitting twice with the same seed gives identical model.json bytes", () => {
            const a = trainer.encode(fitted(kind, c))
            const b = trainer.encode(fitted(kind, c))
            expect(b).toBe(a)
            expect(JSON.parse(a).state.format).toBe(learner.format)
          })

          it("model.json round-trips: decode then encode gives the same bytes and the same predictions", () => {
            const m = fitted(kind, c)
            const json = trainer.encode(m)
            const back = decodeEither(json)
            if (Either.isLeft(back)) throw new Error(back.left.message)
            expect(back.right.kind).toBe(kind)
            expect(back.right.task).toBe(task)
            expect(trainer.encode(back.right)).toBe(json)
            const p1 = Effect.runSync(trainer.predict(m, c.x))
            const p2 = Effect.runSync(trainer.predict(back.right, c.x))
            expect(Array.from(p2.predictions)).toEqual(Array.from(p1.predictions))
            expect(p2.proba === undefined ? undefined : Array.from(p2.proba)).toEqual(
              p1.proba === undefined ? undefined : Array.from(p1.proba)
            )
          })

          if (task === "classification") {
            it("probabilities are rows × classes, each row sums to 1, and predict is their argmax", () => {
              const m = learner.fit(c.x, c.y, fitOptions(kind, c))
              expect(learner.predictProba).toBeDefined()
              const proba = learner.predictProba!(m, c.x)
              const pred = learner.predict(m, c.x)
              const k = c.nClasses!
              expect(proba.length).toBe(c.x.rows * k)
              for (let i = 0; i < c.x.rows; i++) {
                let s = 0,
                  best = 0
                for (let j = 0; j < k; j++) {
                  const v = proba[i * k + j]!
                  expect(v).toBeGreaterThanOrEqual(0)
                  s += v
                  if (v > proba[i * k + best]!) best = j
                }
                expect(Math.abs(s - 1)).toBeLessThan(1e-9)
                expect(pred[i]).toBe(best)
              }
            })
          } else {
            it("predictions are finite, one per row", () => {
              const m = learner.fit(c.x, c.y, fitOptions(kind, c))
              const pred = learner.predict(m, c.x)
              expect(pred.length).toBe(c.x.rows)
              expect(pred.every(Number.isFinite)).toBe(true)
            })
          }

          it("refuses an input with the wrong number of features, naming both counts", () => {
            const m = learner.fit(c.x, c.y, fitOptions(kind, c))
            for (const cols of [c.x.cols - 1, c.x.cols + 1]) {
              const x = { rows: 2, cols, data: new Float64Array(2 * cols) }
              expect(() => learner.predict(m, x)).toThrow(LearnerInputError)
              expect(() => learner.predict(m, x)).toThrow(
                new RegExp(`${c.x.cols}\\b.*\\b${cols}\\b|${cols}\\b.*\\b${c.x.cols}\\b`)
              )
              if (learner.predictProba) expect(() => learner.predictProba!(m, x)).toThrow(LearnerInputError)
            }
            const exit = Effect.runSyncExit(
              trainer.predict(fitted(kind, c), { rows: 1, cols: c.x.cols + 3, data: new Float64Array(c.x.cols + 3) })
            )
            expect(Exit.isFailure(exit)).toBe(true)
          })
        })
      }
    }

    it("checks the format tag on decode: another kind's or another format's model.json is refused", () => {
      const c = cases(learner.tasks[0]!)[0]!
      const json = trainer.encode(fitted(kind, c))
      const doc = JSON.parse(json)
      // the same state under another format tag
      expect(Either.isLeft(decodeEither(JSON.stringify({ ...doc, format: "driftgate.model/0" })))).toBe(true)
      const badState = decodeEither(JSON.stringify({ ...doc, state: { ...doc.state, format: `${learner.format}x` } }))
      expect(Either.isLeft(badState) && badState.left.message).toContain(learner.format)
      // this learner's state labelled as another kind
      for (const other of kinds.filter((k) => k !== kind)) {
        const r = decodeEither(JSON.stringify({ ...doc, kind: other }))
        expect(Either.isLeft(r)).toBe(true)
        // and the other learner's predict refuses this state even without the Trainer's check
        expect(() => learners[other].predict(doc.state, c.x)).toThrow(LearnerInputError)
      }
      expect(Either.isLeft(decodeEither(JSON.stringify({ ...doc, kind: "cnn" })))).toBe(true)
      expect(Either.isLeft(decodeEither("{"))).toBe(true)
    })

    it("decodes params with the schema of its row: defaults filled, unknown keys refused with a suggestion", () => {
      const defaults = decodeParams(kind, {})
      expect(defaults).toEqual(Schema.decodeUnknownSync(learnerSpecs[kind].params as Schema.Schema<unknown, any>)({}))
      expect(Object.keys(defaults).length).toBeGreaterThan(0)
      const first = Object.keys(defaults)[0]!
      const typo = `${first}x`
      const c = cases(learner.tasks[0]!)[0]!
      expect(() => learner.fit(c.x, c.y, fitOptions(kind, c, { [typo]: 1 }))).toThrow(
        new RegExp(`${kind}: unknown parameter ${typo} \\(did you mean "${first}"\\?\\)`)
      )
    })
  })
}
