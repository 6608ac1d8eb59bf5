import type { ModelSet, ServedModel } from "./modelSet.js"
import { exampleRow } from "./modelSet.js"

/** Escapes text for HTML element content and quoted attribute values. */
export const escapeHtml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;")

const e = (v: unknown) => escapeHtml(String(v))

const field = (
  m: ServedModel,
  f: ServedModel["featureMap"]["input_features"][number],
  example: unknown,
  i: number
): string => {
  const id = `f-${e(m.name)}-${i}`
  const attrs = `id="${id}" data-name="${e(f.name)}" data-dtype="${e(f.dtype)}" data-nullable="${f.nullable ? "1" : "0"}"`
  const range = f.min !== undefined && f.max !== undefined ? ` <small>(${e(f.min)} – ${e(f.max)})</small>` : ""
  let input: string
  if (f.dtype === "bool") {
    input = `<select ${attrs}><option value="false">false</option><option value="true">true</option>${f.nullable ? '<option value="">(missing)</option>' : ""}</select>`
  } else if (f.dtype === "string" && f.categories !== undefined && f.categories.length > 0) {
    input = `<select ${attrs}>${f.categories.map((c) => `<option value="${e(c)}">${e(c)}</option>`).join("")}${f.nullable ? '<option value="">(missing)</option>' : ""}</select>`
  } else if (f.dtype === "string") {
    input = `<input type="text" ${attrs} value="${e(example)}">`
  } else {
    input = `<input type="number" step="${f.dtype === "int" ? "1" : "any"}" ${attrs} value="${e(example)}"${f.nullable ? "" : " required"}>`
  }
  return `<label for="${id}"><span>${e(f.name)} <small>${e(f.dtype)}</small>${range}</span>${input}</label>`
}

const imageCard = (m: ServedModel, image: NonNullable<ServedModel["image"]>): string => {
  const id = `img-${e(m.name)}`
  return `<section class="card">
<h2>${e(m.name)} <small>v${e(m.version)} · ${e(m.stage)}</small></h2>
<p>${e(m.taskType)} · ${e(m.algorithm)} · trained ${e(m.trainedAt)} · input ${e(image.height)}×${e(image.width)}×${e(image.channels)}${m.aliases.length ? ` · aliases ${e(m.aliases.join(", "))}` : ""}<br>
dataset version <code>${e(m.datasetVersion.slice(0, 16))}</code>${m.classes ? ` · classes ${e(m.classes.join(", "))}` : ""}</p>
<form data-image-model="${e(m.name)}">
<label for="${id}"><span>image <small>PNG or JPEG, resized to ${e(image.width)}×${e(image.height)}</small></span><input type="file" id="${id}" accept="image/png,image/jpeg" required></label>
<button type="submit">Predict</button>
<output aria-live="polite"></output>
</form>
</section>`
}

const card = (m: ServedModel): string => {
  if (m.image !== null) return imageCard(m, m.image)
  const example = exampleRow(m.featureMap)
  return `<section class="card">
<h2>${e(m.name)} <small>v${e(m.version)} · ${e(m.stage)}</small></h2>
<p>${e(m.taskType)} · ${e(m.algorithm)} · trained ${e(m.trainedAt)} · target <code>${e(m.featureMap.target)}</code>${m.aliases.length ? ` · aliases ${e(m.aliases.join(", "))}` : ""}<br>
dataset version <code>${e(m.datasetVersion.slice(0, 16))}</code>${m.classes ? ` · classes ${e(m.classes.join(", "))}` : ""}</p>
<form data-model="${e(m.name)}">
<div class="grid">${m.featureMap.input_features.map((f, i) => field(m, f, example[f.name], i)).join("\n")}</div>
<button type="submit">Predict</button>
<output aria-live="polite"></output>
</form>
</section>`
}

// Plain JS, no innerHTML: every value from a response is written with textContent.
const script = `
const show = (out, res, body) => {
  if (!res.ok) {
    const fields = (body.fields || []).map((f) => f.field + " " + f.message).join("; ");
    out.textContent = "Error " + res.status + ": " + (body.message || "") + (fields ? " (" + fields + ")" : "");
    return;
  }
  let text = "Prediction: " + body.prediction + " — by " + body.model + " version " + body.version + " (" + body.stage + ")";
  if (body.probabilities) text += " · " + Object.entries(body.probabilities).map(([k, p]) => k + " " + (100 * p).toFixed(1) + "%").join(", ");
  out.textContent = text;
};
for (const form of document.querySelectorAll("form[data-image-model]")) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = form.querySelector("output");
    const file = form.querySelector("input[type=file]").files[0];
    if (!file) { out.textContent = "Choose an image first"; return; }
    out.textContent = "…";
    try {
      const url = await new Promise((resolve, reject) => {
        const r = new FileReader();
        r.onload = () => resolve(String(r.result));
        r.onerror = () => reject(r.error);
        r.readAsDataURL(file);
      });
      const image = url.slice(url.indexOf(",") + 1);
      const res = await fetch("predict/" + encodeURIComponent(form.dataset.imageModel), {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ image })
      });
      show(out, res, await res.json());
    } catch (err) { out.textContent = "Request failed: " + err; }
  });
}
for (const form of document.querySelectorAll("form[data-model]")) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = form.querySelector("output");
    const features = {};
    for (const el of form.querySelectorAll("[data-name]")) {
      const v = el.value, t = el.dataset.dtype, nullable = el.dataset.nullable === "1";
      if (v === "" && (nullable || t !== "string")) { features[el.dataset.name] = null; continue; }
      features[el.dataset.name] = t === "float" || t === "int" ? Number(v) : t === "bool" ? v === "true" : v;
    }
    out.textContent = "…";
    try {
      const res = await fetch("predict/" + encodeURIComponent(form.dataset.model), {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ features })
      });
      show(out, res, await res.json());
    } catch (err) { out.textContent = "Request failed: " + err; }
  });
}`

const style = `
body{font-family:system-ui,sans-serif;margin:2rem;max-width:72rem;color:#222}
h1 small,h2 small{color:#666;font-weight:normal}
.card{border:1px solid #ddd;border-radius:8px;padding:1rem 1.25rem;margin:1rem 0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:.5rem 1rem;margin:.75rem 0}
label{display:flex;flex-direction:column;font-size:.85rem}
label small{color:#777}
input,select{font:inherit;padding:.2rem}
output{display:block;margin-top:.75rem;font-weight:600}
nav a{margin-right:1rem}
`

/** GET /: model cards and a form per model, generated from its feature map. `nonce` is the CSP nonce. */
export const renderIndex = (set: ModelSet, nonce: string, version: string): string => {
  const models = [...set.models.values()].sort((a, b) => a.name.localeCompare(b.name))
  const body =
    models.length === 0
      ? `<p>No model is loaded (${e(set.notes.join("; ") || `nothing at stage ${set.stage}`)}).</p>`
      : models.map(card).join("\n")
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>driftgate · prediction service</title><style nonce="${e(nonce)}">${style}</style></head>
<body><h1>driftgate <small>prediction service ${e(version)} · stage ${e(set.stage)} · loaded ${e(set.loadedAt)}</small></h1>
<nav><a href="models">models</a><a href="docs">API docs</a><a href="openapi.json">openapi.json</a><a href="metrics">metrics</a><a href="ready">readiness</a></nav>
${body}
<script nonce="${e(nonce)}">${script}</script>
</body></html>`
}
