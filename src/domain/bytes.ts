/** Byte pieces joined into one buffer (Arrow IPC parts, storage writes in pieces, a log line cut across reads). */
export const joinParts = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  let n = 0
  for (const p of parts) n += p.byteLength
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.byteLength
  }
  return out
}
