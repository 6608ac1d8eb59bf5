import { createHash } from "node:crypto"

export const sha256Hex = (data: Uint8Array | string): string => createHash("sha256").update(data).digest("hex")

/**
 * Canonical JSON: object keys sorted, no whitespace, numbers as JSON writes them. Two values that
 * decode to the same data give the same bytes, whatever the key order of their source.
 */
export const canonicalJson = (value: unknown): string => {
  const walk = (v: unknown): unknown => {
    if (v === null || typeof v !== "object") {
      if (typeof v === "number" && !Number.isFinite(v)) return null
      return v
    }
    if (Array.isArray(v)) return v.map(walk)
    if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>)
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k]
      if (x !== undefined) out[k] = walk(x)
    }
    return out
  }
  return JSON.stringify(walk(value))
}

export const canonicalHash = (value: unknown): string => sha256Hex(canonicalJson(value))
