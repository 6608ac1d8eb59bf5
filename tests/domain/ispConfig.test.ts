import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { configHash, decodePipelineConfig } from "../../src/domain/config.js"
import { DEFAULT_ISP_SCENARIOS, scenariosOf } from "../../src/domain/isp.js"
import { parseYaml } from "../../src/programs/loadConfig.js"

const raw = `
name: raw-demo
task_type: image_classification
image_format: raw_dng
dataset: dng_scenes
training: { model: cnn }
`
const decode = (text: string) => {
  const parsed = parseYaml(text, "raw.yaml")
  if (Either.isLeft(parsed)) return parsed
  return decodePipelineConfig(parsed.right, "raw.yaml")
}
const message = (text: string) => {
  const r = decode(text)
  if (Either.isRight(r)) throw new Error("expected the config to be refused")
  return r.left.message
}

describe("image_format: raw_dng and the isp section", () => {
  it("fills every ISP default into a raw pipeline, so the config hash covers them", () => {
    const r = decode(raw)
    if (Either.isLeft(r)) throw new Error(r.left.message)
    expect(r.right.isp?.demosaic).toBe("bilinear")
    expect(r.right.isp?.gamma).toEqual({ curve: "power", value: 2.2 })
    expect(r.right.isp?.bounds.steps).toBe(3)
    const changed = decode(`${raw}isp: { gamma: { value: 2.4 } }\n`)
    if (Either.isLeft(changed)) throw new Error(changed.left.message)
    expect(configHash(changed.right)).not.toBe(configHash(r.right))
  })

  it("names a mistyped ISP key and a value outside its bounds", () => {
    expect(message(`${raw}isp: { demosiac: malvar }\n`)).toContain(
      `unknown key "isp.demosiac" (did you mean "demosaic"?)`
    )
    expect(message(`${raw}isp: { sharpen: { amout: 1 } }\n`)).toContain(`unknown key "isp.sharpen.amout"`)
    expect(message(`${raw}isp: { gamma: { value: 9 } }\n`)).toContain(`"isp.gamma.value"`)
    expect(message(`${raw}isp: { bounds: { gamma: [2.6, 1.8] } }\n`)).toContain("isp.bounds.gamma")
  })

  it("refuses an isp section without raw_dng, and raw_dng outside image classification", () => {
    expect(message(`${raw.replace("image_format: raw_dng\n", "")}isp: { demosaic: malvar }\n`)).toContain(
      "the isp section applies to image_format: raw_dng pipelines only"
    )
    expect(
      message(
        raw.replace("task_type: image_classification", "task_type: classification").replace("cnn", "random_forest")
      )
    ).toContain("image_format raw_dng applies to image_classification pipelines only")
  })

  it("adds the config's scenarios to the defaults, a same-named one replacing the default", () => {
    const r = decode(
      `${raw}isp:\n  scenarios:\n    - { name: warm_wb, description: very warm, isp: { white_balance: { red_scale: 1.5 } } }\n    - { name: night, description: night shot, raw_noise: { shot: 0.02, read: 0.05 } }\n`
    )
    if (Either.isLeft(r)) throw new Error(r.left.message)
    const all = scenariosOf(r.right.isp!)
    expect(all.map((s) => s.name).sort()).toEqual([...DEFAULT_ISP_SCENARIOS.map((s) => s.name), "night"].sort())
    expect(all.find((s) => s.name === "warm_wb")?.description).toBe("very warm")
  })
})
