import { describe, expect, it } from "vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { ImageDriftReport } from "../../src/programs/drift/imageDrift.js"
import { imageDriftChartSpecs, renderImageDriftHtml } from "../../src/programs/drift/imageHtml.js"
import {
  imageDriftVisuals,
  pixelHistograms,
  THUMBNAIL_SIDE,
  THUMBNAILS
} from "../../src/programs/drift/imageVisuals.js"
import { renderSvgs } from "../../src/programs/reports/charts.js"
import { pyramidDiagnostics, type ImageBatch } from "../../src/stats/pyramid.js"

// Expected counts: numpy.histogram, by tests/programs/image_histogram_reference.py (committed beside its output).
const ref = JSON.parse(fs.readFileSync(path.join(__dirname, "image_histogram_reference.json"), "utf8")) as {
  cases: ReadonlyArray<{ name: string; shape: [number, number, number, number]; data: number[]; counts: number[][] }>
}
const batchOf = (name: string): ImageBatch => {
  const c = ref.cases.find((x) => x.name === name)!
  return { data: Float32Array.from(c.data), shape: c.shape }
}
const countsOf = (name: string) => ref.cases.find((x) => x.name === name)!.counts

const HOSTILE = "<img src=x onerror=alert(1)>"

/** Width and height from a PNG data URI's IHDR chunk. */
const pngSize = (uri: string) => {
  const b = Buffer.from(uri.slice("data:image/png;base64,".length), "base64")
  return [b.readUInt32BE(16), b.readUInt32BE(20)]
}

const seededBatch = (n: number, h: number, w: number, c: number, seed: number): ImageBatch => {
  let s = seed >>> 0
  const data = Float32Array.from({ length: n * h * w * c }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return (s >>> 8) / 2 ** 24
  })
  return { data, shape: [n, h, w, c] }
}

const reportOf = (reference: ImageBatch, batch: ImageBatch, scenarios?: ImageDriftReport["isp_scenarios"]) => {
  const multiscale = pyramidDiagnostics(reference, batch, { levels: 3 })
  const report: ImageDriftReport = {
    format: "driftgate.image_drift_report/1",
    id: "id-1",
    created_at: "2026-12-01T20:00:00.000Z",
    model: `cam ${HOSTILE}`,
    version: 2,
    run_id: "run-1",
    batch: { path: `/data/${HOSTILE}/batch.dgt`, images: batch.shape[0], compared: batch.shape[0] },
    reference: { images: reference.shape[0] },
    pixel_wasserstein: { per_channel: [0.1, 0.2, 0.3], max: 0.3, severity: "high" },
    embedding_mmd: {
      mmd2: 0.01,
      pValue: 0.001,
      bandwidth: 1.5,
      permutations: 200,
      referenceRows: reference.shape[0],
      batchRows: batch.shape[0],
      severity: "high",
      drifted: true
    },
    multiscale,
    pixel_histograms: pixelHistograms(reference, batch),
    ...(scenarios !== undefined ? { isp_scenarios: scenarios } : {}),
    severity: "high",
    drifted: true,
    decision: { action: "retrain", reason: `because ${HOSTILE}`, by: "user:t", at: "2026-12-01T20:01:00.000Z" },
    files: { json: "r.json", html: "r.html" }
  }
  return report
}

const render = (report: ImageDriftReport, reference: ImageBatch, batch: ImageBatch) =>
  Effect.runPromise(
    Effect.map(renderSvgs(imageDriftChartSpecs(report)), (svgs) =>
      renderImageDriftHtml(report, imageDriftVisuals(reference, batch, report.multiscale.levels.length), svgs)
    )
  )

const externalReferences = (html: string) =>
  html.match(/(src|href)\s*=\s*["']?\s*(https?:|\/\/)|<link\b|<script\b|@import|url\(\s*["']?https?:/gi) ?? []

describe("image drift report: pixel histograms (against numpy.histogram)", () => {
  it("per channel, 32 bins on [0, 1], values on edges and at 1 counted as numpy does", () => {
    const h = pixelHistograms(batchOf("reference"), batchOf("batch"))
    expect(h.reference).toEqual(countsOf("reference"))
    expect(h.batch).toEqual(countsOf("batch"))
    const grey = pixelHistograms(batchOf("grey"), batchOf("grey"))
    expect(grey.reference).toEqual(countsOf("grey"))
    expect(h.edges.length).toBe(33)
  })
})

describe("image drift report HTML", () => {
  it("shows thumbnails side by side, per-channel histograms, the pyramid levels; one file, escaped", async () => {
    const reference = seededBatch(20, 28, 28, 3, 1)
    const batch = seededBatch(12, 28, 28, 3, 2)
    const html = await render(reportOf(reference, batch), reference, batch)
    fs.mkdirSync(path.join(os.tmpdir(), "driftgate-evaluation-html"), { recursive: true })
    fs.writeFileSync(path.join(os.tmpdir(), "driftgate-evaluation-html", "image-drift.html"), html)
    expect(externalReferences(html)).toEqual([])
    expect(html.match(/<img class="thumb" src="data:image\/png;base64,/g)?.length).toBe(2 * THUMBNAILS)
    // 3 levels for each side
    expect(html.match(/alt="[^"]* at pyramid level \d"/g)?.length).toBe(6)
    // 3 channel histograms + the pyramid distances
    expect(html.match(/<svg\b/g)?.length).toBe(4)
    expect(html).toContain("No ISP scenario ranking")
    expect(html).not.toContain(HOSTILE)
    expect(html).not.toMatch(/<img src=x/i)
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;")
  })

  it("large images: thumbnails reduced to at most THUMBNAIL_SIDE pixels a side", () => {
    const big = seededBatch(3, 150, 90, 3, 3)
    const v = imageDriftVisuals(big, big, 3)
    expect(v.thumbnails.reference.length).toBe(3)
    for (const uri of v.thumbnails.batch) {
      const [w, h] = pngSize(uri)
      expect(Math.max(w!, h!)).toBeLessThanOrEqual(THUMBNAIL_SIDE)
    }
    expect(pngSize(v.thumbnails.reference[0]!)).toEqual([23, 38])
  })

  it("renders an ISP scenario ranking when the report carries one (names escaped)", async () => {
    const reference = seededBatch(6, 16, 16, 3, 4)
    const batch = seededBatch(6, 16, 16, 3, 5)
    const html = await render(
      reportOf(reference, batch, {
        observed: [0.1, -0.1],
        ranked: [
          {
            name: "warm_wb",
            description: "warm white balance",
            distance: 0.012,
            strength: 1.2,
            signature: [0.1, -0.1]
          },
          { name: "hostile", description: HOSTILE, distance: 0.2, strength: 0.4, signature: [0, 1] }
        ],
        closest: {
          name: "warm_wb",
          description: "warm white balance",
          distance: 0.012,
          strength: 1.2,
          signature: [0.1, -0.1]
        },
        confidence: 0.94,
        sentence: "closest: warm white balance (distance 0.012, confidence 0.94)"
      }),
      reference,
      batch
    )
    expect(html).toContain(
      "closest: warm white balance (distance 0.012, confidence 0.94) — response: <b>adjust ISP</b>"
    )
    expect(html).toContain('id="chart-scenarios"')
    expect(html.match(/<svg\b/g)?.length).toBe(5)
    expect(html).not.toContain(HOSTILE)
  })
})
