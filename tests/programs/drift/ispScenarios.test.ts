import { describe, expect, it } from "vitest"
import { driftSignature, rankScenarios } from "../../../src/programs/drift/ispScenarios.js"
import { channelWasserstein } from "../../../src/stats/pyramid.js"

const match = { max_distance: 0.1, max_relative: 0.5 }
const warm = { name: "warm_wb", description: "warm white balance", signature: [0.06, 0.01, -0.04, 0.04, 0.04, 0.04] }
const cool = { name: "cool_wb", description: "cool white balance", signature: [-0.06, -0.02, 0.04, 0.04, 0.04, 0.04] }
const bright = { name: "bright_gamma", description: "bright gamma", signature: [0.07, 0.09, 0.08, 0.08, 0.08, 0.08] }

describe("rankScenarios", () => {
  it("fits each scenario's multiple and names the one that leaves least of the observed signature", () => {
    // Twice the warm scenario plus a small scene difference.
    const observed = warm.signature.map((v, i) => 2 * v + (i === 1 ? 0.01 : 0))
    const e = rankScenarios(observed, [cool, bright, warm], match)
    expect(e.ranked.map((s) => s.name)).toEqual(["warm_wb", "bright_gamma", "cool_wb"])
    expect(e.closest?.name).toBe("warm_wb")
    // Least squares by hand: strength = o·s / s·s.
    const dot = observed.reduce((a, v, i) => a + v * warm.signature[i]!, 0)
    const ss = warm.signature.reduce((a, v) => a + v * v, 0)
    expect(e.closest!.strength).toBeCloseTo(dot / ss, 12)
    expect(e.sentence).toMatch(
      /^closest: warm white balance \(distance 0\.\d{3}, confidence 0\.\d\d, strength 2\.\d\d× the scenario\)$/
    )
    // A scenario pointing the other way gets strength 0, so its distance is the observed signature's length.
    const coolRow = e.ranked.find((s) => s.name === "cool_wb")!
    expect(coolRow.strength).toBe(0)
    expect(coolRow.distance).toBeCloseTo(Math.hypot(...observed), 12)
  })

  it("says no scenario explains a signature none of them fits", () => {
    // Red up and blue up with green down: no white balance, gamma or noise direction.
    const e = rankScenarios([0.1, -0.1, 0.1, 0.02, 0.02, 0.02], [warm, cool, bright], match)
    expect(e.closest).toBeNull()
    expect(e.sentence).toMatch(/^no scenario explains this \(nearest: .+, distance 0\.\d{3}\)$/)
  })
})

describe("driftSignature", () => {
  it("signs each channel's Wasserstein distance by the direction of its mean shift", () => {
    const n = 4,
      h = 4,
      w = 4
    const from = new Float32Array(n * h * w * 3)
    for (let i = 0; i < from.length; i++) from[i] = ((i * 7919) % 97) / 200 + 0.2
    const to = from.map((v, i) => (i % 3 === 0 ? v + 0.1 : i % 3 === 2 ? v - 0.05 : v))
    const a = { data: from, shape: [n, h, w, 3] as const }
    const b = { data: to, shape: [n, h, w, 3] as const }
    const s = driftSignature(a, b)
    const w1 = channelWasserstein(a, b)
    expect(s[0]).toBeCloseTo(w1[0]!, 12)
    expect(s[1]).toBeCloseTo(0, 6)
    expect(s[2]).toBeCloseTo(-w1[2]!, 12)
    expect(s[0]).toBeCloseTo(0.1, 5)
    expect(s.length).toBe(6)
  })
})
