import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { cli, tempWorkspace } from "./helpers.js"

const CHROMIUM = "/usr/bin/chromium"

const externalReferences = (html: string) =>
  html.match(/(src|href)\s*=\s*["']?\s*(https?:|\/\/)|<link\b|<script\b|@import|url\(\s*["']?https?:/gi) ?? []

/** Opens a file in Debian's chromium; records console errors and failed requests; saves a screenshot. */
const openInBrowser = async (file: string, screenshot: string) => {
  const { chromium } = await import("playwright-core")
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] })
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
    const problems: string[] = []
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`)
    })
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`))
    page.on("request", (r) => {
      if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) problems.push(`network request: ${r.url()}`)
    })
    await page.goto(`file://${file}`)
    await page.screenshot({ path: screenshot, fullPage: true })
    const charts = await page.locator("figure svg").count()
    const visible = await page.locator("#chart-val-confusion svg").isVisible()
    const comparison = await page.locator("#chart-comparison svg").isVisible()
    return { problems, charts, visible, comparison }
  } finally {
    await browser.close()
  }
}

describe("driftgate run writes evaluation_report.html beside the JSON", () => {
  it("breast_cancer twice: per-class scores, confusion matrix and curves in the JSON; a self-contained page with the Production comparison drawn", async () => {
    const ws = tempWorkspace()
    const run = () => {
      const r = cli(["run", "--config", "configs/breast_cancer.yaml", "--workspace", ws, "--approve", "auto", "--json"])
      expect(r.code, r.stderr).toBe(0)
      return JSON.parse(r.stdout) as { run_id: string }
    }
    run()
    const second = run()
    const dir = path.join(ws, "reports", second.run_id)
    const json = JSON.parse(fs.readFileSync(path.join(dir, "evaluation_report.json"), "utf8"))
    const cm = json.confusion_matrix.val
    expect(cm.labels.length).toBe(2)
    expect(cm.counts.flat().reduce((a: number, b: number) => a + b, 0)).toBe(json.splits.val)
    expect(json.per_class.val.map((c: { support: number }) => c.support)).toEqual(
      cm.counts.map((row: number[]) => row.reduce((a, b) => a + b, 0))
    )
    expect(json.curves.val.roc.auc).toBeCloseTo(json.metrics.val.roc_auc, 4)
    expect(json.curves.val.calibration.bins.length).toBeGreaterThan(0)
    expect(json.regression_plots).toBeNull()

    const file = path.join(dir, "evaluation_report.html")
    const html = fs.readFileSync(file, "utf8")
    expect(fs.readFileSync(path.join(ws, "reports/latest/evaluation_report.html"), "utf8")).toBe(html)
    expect(externalReferences(html)).toEqual([])
    for (const id of ["comparison", "val-confusion", "val-roc", "val-pr", "val-calibration", "test-confusion"]) {
      expect(html).toContain(`id="chart-${id}"`)
    }

    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI === "true") throw new Error(`${CHROMIUM} is missing; CI needs it for the browser check`)
      console.log(`skipped the browser check: ${CHROMIUM} is not installed`)
      return
    }
    const shot = path.join(ws, "evaluation_report.png")
    const b = await openInBrowser(file, shot)
    expect(b.problems).toEqual([])
    expect(b.charts).toBe(9)
    expect(b.visible).toBe(true)
    expect(b.comparison).toBe(true)
    expect(fs.statSync(shot).size).toBeGreaterThan(10_000)
  }, 180_000)
})
