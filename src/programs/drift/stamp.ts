/** A file-name-safe timestamp (drift reports, batches): 2026-11-27T09-38-12-226Z. */
export const stampOf = (iso: string) => iso.replace(/[:.]/g, "-")
