/**
 * Vega-Lite → SVG string on the server, so dashboard pages need no client-side library and no CDN.
 * vega and vega-lite load on the first chart only.
 */
export const renderVegaLite = async (spec: Record<string, unknown>): Promise<string> => {
  const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")])
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec
  const view = new vega.View(vega.parse(compiled), { renderer: "none" })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}
