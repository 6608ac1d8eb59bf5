import { barChart, type ChartSpec, COLORS, overlayHistogram } from "../reports/charts.js"
import { esc, fmt } from "../reports/escape.js"
import type { ImageDriftReport } from "./imageDrift.js"
import type { ScenarioEvidence } from "./ispScenarios.js"
import type { ImageDriftVisuals } from "./imageVisuals.js"

/**
 * The image drift report as one self-contained page: the signals and their verdicts, reference and
 * batch thumbnails side by side, per-channel pixel histograms, the Gaussian pyramid levels with their
 * distances, and the ISP scenario ranking when the report carries one.
 */

const SEV_COLOR: Record<string, string> = { none: "#2e7d32", low: "#9e9d24", medium: "#ef6c00", high: "#c62828" }
const badge = (s: string) => `<span class="sev" style="background:${SEV_COLOR[s] ?? "#555"}">${esc(s)}</span>`

const channelName = (c: number, n: number) =>
  n === 1 ? "grey" : n >= 3 ? (["red", "green", "blue", "alpha"][c] ?? `channel ${c}`) : `channel ${c}`

/** The charts of an image drift report, keyed by the id the page places them under. */
export const imageDriftChartSpecs = (
  r: Pick<ImageDriftReport, "pixel_histograms" | "multiscale" | "isp_scenarios">
) => {
  const specs: Record<string, ChartSpec> = {}
  const h = r.pixel_histograms
  const centers = h.edges.slice(0, -1).map((e, i) => (e + h.edges[i + 1]!) / 2)
  const shares = (counts: ReadonlyArray<number>) => {
    const total = counts.reduce((a, b) => a + b, 0) || 1
    return counts.map((c) => c / total)
  }
  h.reference.forEach((ref, c) => {
    specs[`histogram-${c}`] = overlayHistogram({
      title: `Pixel values: ${channelName(c, h.reference.length)}`,
      xTitle: "pixel value",
      centers,
      series: [
        { name: "reference", shares: shares(ref), color: COLORS.reference },
        { name: "batch", shares: shares(h.batch[c] ?? []), color: COLORS.batch }
      ]
    })
  })
  specs.pyramid = barChart({
    title: "Pixel Wasserstein per pyramid level",
    xTitle: "mean W1 over channels",
    bars: r.multiscale.levels.map((l) => ({ label: `level ${l.level} (${l.height}×${l.width})`, value: l.distance }))
  })
  const ranked = r.isp_scenarios?.ranked ?? []
  if (ranked.length > 0) {
    specs.scenarios = barChart({
      title: "ISP scenarios by distance to the batch (closest first)",
      xTitle: "distance",
      bars: ranked.map((s) => ({ label: s.description, value: s.distance }))
    })
  }
  return specs
}

const figure = (svgs: Readonly<Record<string, string>>, id: string): string =>
  svgs[id] === undefined ? "" : `<figure id="chart-${esc(id)}">${svgs[id]}</figure>`

const strip = (label: string, uris: ReadonlyArray<string>, what: string) =>
  `<div class="strip"><h3>${esc(label)}</h3>${uris.map((u, i) => `<img class="thumb" src="${esc(u)}" alt="${esc(what)} image ${i + 1}">`).join("")}</div>`

const scenariosSection = (s: ScenarioEvidence | undefined, svgs: Readonly<Record<string, string>>): string => {
  if (s === undefined)
    return `<section id="scenarios"><h2>ISP scenarios</h2><p class="note">No ISP scenario ranking: only raw (DNG) pipelines with a drifted batch rank warm/cool white balance, noise, gamma and sharpening here.</p></section>`
  const rows = s.ranked.map(
    (e) => `<tr><td>${esc(e.description)}</td><td>${fmt(e.distance)}</td><td>${fmt(e.strength)}×</td></tr>`
  )
  return `<section id="scenarios"><h2>ISP scenarios</h2>
<p>${esc(s.sentence)}${s.closest !== null ? ` — response: <b>adjust ISP</b> (the config's <code>isp:</code> section), retrain, fine-tune or accept.` : ""}</p>
${figure(svgs, "scenarios")}
<div class="scroll"><table><thead><tr><th>scenario</th><th>distance</th><th>strength</th></tr></thead><tbody>${rows.join("")}</tbody></table></div></section>`
}

const STYLE = `body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;font-size:.9rem}td,th{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left}
.sev{color:#fff;border-radius:3px;padding:0 .4rem;font-size:.8rem}.scroll{overflow-x:auto;max-width:100%}
.sides{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:1rem}.strip h3{margin:.2rem 0;font-size:1rem}
img.thumb{width:56px;height:56px;object-fit:contain;image-rendering:pixelated;margin:2px;border:1px solid #ccc;background:#fff}
.pyr{display:flex;align-items:flex-end;gap:.8rem;flex-wrap:wrap}.pyr figure{margin:0;text-align:center;font-size:.8rem;color:#555}
.pyr img{image-rendering:pixelated;border:1px solid #ccc}.row{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:.4rem 0;max-width:100%;overflow-x:auto}
figure svg{max-width:100%;height:auto}.note{font-size:.85rem;color:#555}`

/** The page (pure: thumbnails and SVG charts are made beforehand). */
export const renderImageDriftHtml = (
  r: ImageDriftReport,
  visuals: ImageDriftVisuals,
  svgs: Readonly<Record<string, string>>
): string => {
  const levels = r.multiscale.levels
  const pyramidRow = (label: string, uris: ReadonlyArray<string>) =>
    `<div><h3>${esc(label)}</h3><div class="pyr">${uris
      .map((u, k) => {
        const l = levels[k]
        // Shown at the size of level 0, so the loss of detail is visible and not just the size.
        return `<figure><img src="${esc(u)}" width="96" height="96" alt="${esc(label)} at pyramid level ${k}"><figcaption>level ${k}${l ? ` (${l.height}×${l.width})` : ""}</figcaption></figure>`
      })
      .join("")}</div></div>`
  const charts = r.pixel_histograms.reference.map((_, c) => figure(svgs, `histogram-${c}`)).join("")
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Image drift: ${esc(r.model)} v${esc(r.version)}</title>
<style>${STYLE}</style></head><body>
<h1>Image drift report: ${esc(r.model)} version ${esc(r.version)} ${badge(r.severity)}</h1>
<p>${esc(r.created_at)} · batch ${esc(r.batch.path)} (${esc(r.batch.images)} images, ${esc(r.batch.compared)} compared) · reference: ${esc(r.reference.images)} training images of run ${esc(r.run_id)}</p>
<div class="scroll"><table><tr><th>signal</th><th>value</th><th>verdict</th></tr>
<tr><td>pixel Wasserstein per channel</td><td>${r.pixel_wasserstein.per_channel.map((v) => v.toFixed(4)).join(", ")}</td><td>${badge(r.pixel_wasserstein.severity)}</td></tr>
<tr><td>embedding MMD² (RBF, bandwidth ${r.embedding_mmd.bandwidth.toFixed(3)})</td><td>${r.embedding_mmd.mmd2.toExponential(3)}, permutation p-value ${r.embedding_mmd.pValue.toFixed(4)} (${esc(r.embedding_mmd.permutations)} permutations)</td><td>${badge(r.embedding_mmd.severity)}</td></tr>
<tr><td>Gaussian pyramid (fine/global ratio)</td><td>${levels.map((l) => `level ${l.level} (${l.height}×${l.width}): ${l.distance.toFixed(4)}`).join("; ")}; ratio ${r.multiscale.ratio.toFixed(2)}</td><td>${r.drifted ? `${esc(r.multiscale.reading)} drift` : "no drift to localise"}</td></tr>
</table></div>
<p><b>Decision:</b> ${r.decision ? `${esc(r.decision.action)} — “${esc(r.decision.reason)}” (${esc(r.decision.by)})` : "none recorded"}</p>
<h2>Samples</h2>
<div class="sides">${strip("Reference (training)", visuals.thumbnails.reference, "reference")}${strip("Batch", visuals.thumbnails.batch, "batch")}</div>
<p class="note">Evenly spaced samples of each side, as the model sees them (resized, channels, scaling).</p>
<h2>Pixel histograms</h2>
<div class="row">${charts}</div>
<h2>Gaussian pyramid</h2>
<p>Each level blurs and halves the one above. Noise or sharpening shows at level 0 and fades with the levels (a high fine/global ratio); an exposure or colour shift stays at every level (a ratio near 1). This batch reads as <b>${esc(r.multiscale.reading)}</b> (ratio ${r.multiscale.ratio.toFixed(2)}).</p>
<div class="row">${figure(svgs, "pyramid")}<div class="sides">${pyramidRow("Reference", visuals.pyramid.reference)}${pyramidRow("Batch", visuals.pyramid.batch)}</div></div>
${scenariosSection(r.isp_scenarios, svgs)}
</body></html>
`
}
