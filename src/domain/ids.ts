import { randomBytes } from "node:crypto"

/** The last default-generated id's milliseconds and 12-bit counter (see uuidv7). */
let lastMs = -1
let lastSeq = 0

/**
 * UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits; sortable by creation time. Ids made in one
 * process within the same millisecond (without `random`) keep their creation order too: the 12 bits after the
 * version count up from a random start (RFC 9562 §6.2, method 1), so records ordered by time and then id (a
 * registry's pending rollbacks) list same-millisecond ones in the order they were made — with random bits
 * there, two layers fed the same operations could list them differently.
 */
export const uuidv7 = (unixMs: number, random?: Uint8Array): string => {
  const r = random ?? randomBytes(10)
  const b = new Uint8Array(16)
  let ms = Math.floor(unixMs)
  const at = ms
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256
    ms = Math.floor(ms / 256)
  }
  b.set(r.subarray(0, 10), 6)
  if (random === undefined) {
    // the next count in the same millisecond; a new random start (below 2048, leaving room to count) otherwise
    const seq = at === lastMs && lastSeq < 0xfff ? lastSeq + 1 : ((r[0]! << 8) | r[1]!) & 0x7ff
    lastMs = at
    lastSeq = seq
    b[6] = seq >> 8
    b[7] = seq & 0xff
  }
  b[6] = (b[6]! & 0x0f) | 0x70
  b[8] = (b[8]! & 0x3f) | 0x80
  const h = Buffer.from(b).toString("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
