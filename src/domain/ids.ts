import { randomBytes } from "node:crypto"

/** UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits; sortable by creation time. */
export const uuidv7 = (unixMs: number, random: Uint8Array = randomBytes(10)): string => {
  const b = new Uint8Array(16)
  let ms = Math.floor(unixMs)
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256
    ms = Math.floor(ms / 256)
  }
  b.set(random.subarray(0, 10), 6)
  b[6] = (b[6]! & 0x0f) | 0x70
  b[8] = (b[8]! & 0x3f) | 0x80
  const h = Buffer.from(b).toString("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
