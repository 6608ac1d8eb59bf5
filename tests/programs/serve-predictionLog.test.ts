import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { PREDICTION_LOG_DIR, readPredictionLog } from "../../src/programs/serve/predictionLog.js"

// The reader is tolerant line by line, typed by the PredictionLogRow schema: a line that is not a
// row (cut short, wrong field types, features not an object) is skipped, the rest is kept as written.

const row = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    ts: "2026-03-01T10:00:00.000Z",
    request_id: "r1",
    model: "m",
    version: 3,
    features: { a: 1.5, b: "x", c: null, d: true },
    prediction: "yes",
    ...over
  })

describe("serve: reading the prediction log", () => {
  it.effect("keeps rows that match the schema and skips every other line", () =>
    Effect.gen(function* () {
      const ws = fs.mkdtempSync(path.join(os.tmpdir(), "driftgate-plog-"))
      const dir = path.join(ws, ...PREDICTION_LOG_DIR.split("/"), "m")
      fs.mkdirSync(dir, { recursive: true })
      const lines = [
        row(),
        row({ request_id: "r2", prediction: 4.25, extra: "kept as written" }),
        row({ version: "3" }), // version must be a number
        row({ prediction: null }), // a label or a number
        row({ features: [1, 2] }), // features are named
        row({ features: null }),
        row({ ts: 17 }),
        '{"ts":"2026-03-01T10:00:01.000Z","request_id":"r9","model":"m","vers', // cut short by a crash
        "[]",
        "null"
      ]
      fs.writeFileSync(path.join(dir, "2026-03-01.jsonl"), lines.join("\n") + "\n")
      try {
        const rows = yield* readPredictionLog(ws, "m")
        expect(rows.map((r) => r.request_id)).toEqual(["r1", "r2"])
        expect(rows[0]!.features).toEqual({ a: 1.5, b: "x", c: null, d: true })
        expect(rows[1]!.prediction).toBe(4.25)
        expect((rows[1] as unknown as { extra: string }).extra).toBe("kept as written")
      } finally {
        fs.rmSync(ws, { recursive: true, force: true })
      }
    })
  )
})
