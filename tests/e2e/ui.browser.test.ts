/// <reference lib="dom" />
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { bin, cli, root } from "./helpers.js"
import { buildUiWorkspace, HOSTILE_COLUMN, HOSTILE_REASON, type UiWorkspace } from "./uiWorkspace.js"

/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core, on a workspace built
 * through the CLI, served by `driftgate serve`. Locally a missing chromium skips with one line; under
 * CI=true it fails. Screenshots go to test-output/ui/ (gitignored).
 */

const CHROMIUM = process.env["DRIFTGATE_CHROMIUM"] ?? "/usr/bin/chromium"
const haveChromium = fs.existsSync(CHROMIUM)
const CI = process.env["CI"] === "true"
const SHOTS = path.join(root, "test-output", "ui")

if (!haveChromium && !CI) console.log(`ui browser tests skipped: no chromium at ${CHROMIUM} (apt-get install chromium)`)

describe.runIf(!haveChromium && CI)("the dashboard in a browser (CI)", () => {
  it("has chromium", () => {
    expect.fail(`CI=true but there is no chromium at ${CHROMIUM}: scripts/ci/chromium.sh installs it`)
  })
})

const startServe = (workspace: string): Promise<{ child: ChildProcess; url: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, "serve", "--port", "0", "--workspace", workspace], {
      cwd: root,
      env: { ...process.env, DRIFTGATE_WORKSPACE: "", DRIFTGATE_ADMIN_TOKEN: "" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    let err = ""
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString()
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) resolve({ child, url: m[1]! })
    })
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString()
    })
    child.on("exit", (code) => reject(new Error(`serve exited with ${code} before listening: ${err}`)))
  })

describe.runIf(haveChromium)("the dashboard in a browser", () => {
  let ws: UiWorkspace
  let serve: { child: ChildProcess; url: string }
  let browser: Browser
  /** Every console error, page error and failed or >= 400 request of every page, with where it happened. */
  const problems: string[] = []

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true })
    ws = buildUiWorkspace(fs.mkdtempSync(path.join(os.tmpdir(), "driftgate-ui-")))
    serve = await startServe(ws.workspace)
    const { chromium } = await import("playwright-core")
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] })
  }, 600_000)

  afterAll(async () => {
    await browser?.close()
    serve?.child.kill("SIGTERM")
  })

  const open = async (options: { width?: number; height?: number } = {}): Promise<Page> => {
    problems.length = 0
    const context = await browser.newContext({
      viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
      reducedMotion: "reduce"
    })
    const page = await context.newPage()
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console error on ${page.url()}: ${m.text()}`)
    })
    page.on("pageerror", (e) => problems.push(`page error on ${page.url()}: ${e.message}`))
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`))
    page.on("response", (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`)
    })
    page.on("dialog", (d) => {
      problems.push(`a dialog opened (script ran): ${d.message()}`)
      void d.dismiss()
    })
    return page
  }
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true })
  /** No script of the data ran and no element came from it. */
  const noInjection = async (page: Page) => {
    expect(await page.title()).not.toContain("pwned")
    expect(await page.locator('img[src="x"]').count()).toBe(0)
  }

  const evaluation = (runId: string) =>
    JSON.parse(fs.readFileSync(path.join(ws.workspace, "reports", runId, "evaluation_report.json"), "utf8")) as {
      metrics: Record<string, Record<string, number>>
    }

  it("click-through: runs → run detail → compare → model → drift history → a report", async () => {
    const page = await open()
    await page.goto(`${serve.url}/ui`)
    await expect.poll(() => page.url()).toContain("/ui/runs")
    const [first, second] = ws.runs as [string, string]
    const rows = page.locator("table.runs tbody tr")
    // every tracked run (the two trainings and the drift checks), as `driftgate runs list` counts them
    const listed = JSON.parse(cli(["runs", "list", "--json", "--workspace", ws.workspace]).stdout) as unknown[]
    expect(await rows.count()).toBe(listed.length)
    // a known run's val accuracy as its evaluation report has it, to 4 places
    const accuracy = evaluation(second).metrics["val"]!["accuracy"]!
    const secondRow = page.locator("table.runs tbody tr", { has: page.locator(`a[href="/ui/runs/${second}"]`) })
    await expect.poll(() => secondRow.innerText()).toContain(accuracy.toFixed(4))
    await shot(page, "01-runs")

    await page.click(`a[href="/ui/runs/${first}"]`)
    await page.waitForURL(`**/ui/runs/${first}`)
    const known = evaluation(first).metrics["test"]!["log_loss"]!
    const metricsTable = page.getByRole("region", { name: "Metrics per split" })
    await expect.poll(() => metricsTable.innerText()).toContain(known.toFixed(4))
    expect(await page.locator("main").innerText()).toContain("Promotion: approved")
    expect(await page.locator(".timeline li").count()).toBeGreaterThanOrEqual(5)
    await noInjection(page)
    await shot(page, "02-run-detail")
    // a report of the run, downloaded through the page's own link
    const report = await page.request.get(
      await page
        .locator('a:text-is("run_report.json")')
        .first()
        .getAttribute("href")
        .then((h) => `${serve.url}${h}`)
    )
    expect(report.status()).toBe(200)
    expect(((await report.json()) as { run_id: string }).run_id).toBe(first)

    await page.goto(`${serve.url}/ui/runs`)
    await page.check(`input[value="${first}"]`)
    await page.check(`input[value="${second}"]`)
    await page.click("text=Compare selected runs")
    await page.waitForURL("**/ui/compare?**")
    const cRow = page.locator("tr.diff", { hasText: "params.C" })
    expect(await cRow.count()).toBe(1)
    expect(await cRow.innerText()).toContain("0.05")
    expect(await page.locator("tr:not(.diff)", { hasText: "params.max_iter" }).count()).toBe(1)
    await shot(page, "03-compare")

    await page.click('nav a:text-is("Models")')
    await page.click('a:text-is("iris-ui")')
    await page.waitForURL("**/ui/models/iris-ui")
    const main = page.locator("main")
    // rolled back: version 1 is in Production and served, and the audit timeline says who and why
    expect(await page.locator(".card", { hasText: "In Production" }).innerText()).toContain("version 1")
    expect(await page.locator(".card", { hasText: "Served now" }).innerText()).toContain("version 1")
    expect(await page.locator(".card", { hasText: "Audit chain" }).innerText()).toContain("ok")
    const rollback = page.locator("ol.audit li.rollback")
    expect(await rollback.count()).toBe(1)
    expect(await rollback.locator("q.reason").innerText()).toBe(HOSTILE_REASON)
    expect(await main.innerText()).toContain("promote v2")
    await noInjection(page)
    await shot(page, "04-model")

    await page.click('a:text-is("drift history")')
    await page.waitForURL("**/ui/drift/iris-ui")
    const points = page.locator("figure.chart svg a")
    expect(await points.count()).toBe(2)
    const checks = page.getByRole("region", { name: "Drift checks" }).locator("tbody tr")
    expect(await checks.count()).toBe(2)
    // the latest check (the shifted batch) names the hostile column, as text
    const columns = page.getByRole("region", { name: "Columns drifted in the latest check" })
    expect(await columns.locator("td.column").first().innerText()).toBe(HOSTILE_COLUMN)
    await noInjection(page)
    await shot(page, "05-drift")

    const href = await points.first().getAttribute("xlink:href")
    expect(href).toMatch(/^\/ui\/drift\/iris-ui\/report\?key=/)
    // follow the latest check's report link (the table lists newest first)
    await page.getByRole("link", { name: "report", exact: true }).first().click()
    await page.waitForURL("**/ui/drift/iris-ui/report?key=**")
    await expect.poll(() => page.locator("h1").first().innerText()).toContain("Drift report: iris-ui")
    expect(await page.locator("body").innerText()).toContain(HOSTILE_COLUMN)
    await noInjection(page)
    await shot(page, "06-drift-report")
    expect(problems).toEqual([])
  }, 120_000)

  it("keyboard only: skip link first, then the sections, the filters, a run; focus always visible", async () => {
    const page = await open()
    await page.goto(`${serve.url}/ui/runs`)
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null
        if (el === null || el === document.body) return null
        const style = getComputedStyle(el)
        return {
          tag: el.tagName.toLowerCase(),
          text: (el.innerText || el.getAttribute("aria-label") || el.id || "").trim(),
          href: el.getAttribute("href"),
          outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2
        }
      })
    const order: Array<NonNullable<Awaited<ReturnType<typeof focused>>>> = []
    for (let i = 0; i < 9; i++) {
      await page.keyboard.press("Tab")
      const f = await focused()
      expect(f, `tab ${i + 1}`).not.toBeNull()
      expect(f!.outline, `focus visible on ${f!.tag} ${f!.text}`).toBe(true)
      order.push(f!)
    }
    expect(order.slice(0, 4).map((f) => f.text)).toEqual(["Skip to content", "Runs", "Models", "Drift"])
    expect(order.slice(4, 8).map((f) => f.tag)).toEqual(["select", "select", "input", "select"])
    await shot(page, "07-keyboard-focus")
    // on to the first run's link and open it with Enter
    const firstRun = await page.locator("table.runs tbody tr a").first().getAttribute("href")
    let f = await focused()
    for (let i = 0; i < 20 && !(f?.href ?? "").startsWith("/ui/runs/"); i++) {
      await page.keyboard.press("Tab")
      f = await focused()
      expect(f?.outline, `focus visible on ${f?.tag} ${f?.text}`).toBe(true)
    }
    expect(f?.href).toBe(firstRun)
    await page.keyboard.press("Enter")
    await page.waitForURL(`**${firstRun}`)
    // the skip link moves focus into the content
    await page.keyboard.press("Tab")
    expect((await focused())?.text).toBe("Skip to content")
    await page.keyboard.press("Enter")
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("main")
    expect(problems).toEqual([])
  }, 60_000)

  it("a narrow window: the page does not scroll sideways, wide tables scroll in their box, nothing overlaps", async () => {
    const page = await open({ width: 360, height: 780 })
    for (const [name, url] of [
      ["08-narrow-runs", "/ui/runs"],
      ["09-narrow-model", "/ui/models/iris-ui"],
      ["10-narrow-drift", "/ui/drift/iris-ui"]
    ] as const) {
      await page.goto(`${serve.url}${url}`)
      const layout = await page.evaluate(() => {
        const boxes = (sel: string) => Array.from(document.querySelectorAll(sel), (e) => e.getBoundingClientRect())
        const overlap = (a: DOMRect, b: DOMRect) =>
          a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5
        const nav = boxes("header nav a, header .brand")
        const blocks = boxes("main > h1, main > .cards, main > .scroll, main > form, main > figure")
        const pairs = (xs: DOMRect[]) => xs.flatMap((a, i) => xs.slice(i + 1).filter((b) => overlap(a, b)))
        const scrollers = Array.from(document.querySelectorAll<HTMLElement>(".scroll"))
        return {
          pageWidth: document.documentElement.scrollWidth,
          viewport: window.innerWidth,
          navOverlaps: pairs(nav).length,
          blockOverlaps: pairs(blocks).length,
          wideTables: scrollers.filter((s) => s.scrollWidth > s.clientWidth + 1).length,
          scrollersWithinViewport: scrollers.every((s) => s.getBoundingClientRect().right <= window.innerWidth + 0.5)
        }
      })
      expect(layout.pageWidth, url).toBeLessThanOrEqual(layout.viewport)
      expect(layout.navOverlaps, url).toBe(0)
      expect(layout.blockOverlaps, url).toBe(0)
      expect(layout.scrollersWithinViewport, url).toBe(true)
      if (url === "/ui/runs") expect(layout.wideTables, url).toBeGreaterThan(0)
      await shot(page, name)
    }
    // the runs table scrolls sideways inside its region
    await page.goto(`${serve.url}/ui/runs`)
    const region = page.getByRole("region", { name: "Runs" })
    await region.evaluate((el) => el.scrollBy({ left: 400 }))
    expect(await region.evaluate((el) => el.scrollLeft)).toBeGreaterThan(0)
    expect(problems).toEqual([])
  }, 60_000)

  it("is read-only: other methods are refused, and a file outside the page's lists is not served", async () => {
    const page = await open()
    for (const method of ["POST", "PUT", "DELETE"]) {
      const r = await page.request.fetch(`${serve.url}/ui/runs`, { method })
      expect(r.status(), method).toBe(405)
    }
    for (const key of ["store.db", "../../etc/passwd", `reports/${ws.runs[0]}/../../store.db`, "audit-head"]) {
      const r = await page.request.get(`${serve.url}/ui/runs/${ws.runs[0]}/file?key=${encodeURIComponent(key)}`)
      expect(r.status(), key).toBe(404)
    }
    const r = await page.request.get(`${serve.url}/ui/drift/iris-ui/report?key=${encodeURIComponent("store.db")}`)
    expect(r.status()).toBe(404)
  })
})
