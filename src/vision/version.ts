/**
 * Byte-level version of an image dataset: SHA-256 over the sorted (relative POSIX path, SHA-256 of
 * the file's bytes) pairs. Renaming a file, moving it to another class, editing one pixel, adding or
 * removing a file each change it; the order files were listed in does not. (The predecessor hashed
 * paths and sizes only, so an in-place pixel edit kept the version.)
 */
import { sha256Hex } from "../domain/hash.js"

export interface ImageFileDigest {
  /** Relative to the image root, "/"-separated, e.g. "bag/00023.png". */
  readonly path: string
  /** Lower-case hex SHA-256 of the file's bytes. */
  readonly sha256: string
}

const HEX64 = /^[0-9a-f]{64}$/

/** Throws on a malformed entry or a duplicate path: both are bugs in the caller, not data faults. */
export const imageDatasetVersion = (entries: ReadonlyArray<ImageFileDigest>): string => {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  for (let i = 0; i < sorted.length; i++) {
    const { path, sha256 } = sorted[i]
    if (
      path === "" ||
      path.startsWith("/") ||
      path.includes("\\") ||
      path.split("/").some((s) => s === "" || s === "." || s === "..")
    ) {
      throw new Error(`The image path "${path}" is not a relative POSIX path.`)
    }
    if (!HEX64.test(sha256)) throw new Error(`The digest of "${path}" is not a lower-case hex SHA-256.`)
    if (i > 0 && sorted[i - 1].path === path) throw new Error(`The image path "${path}" is listed twice.`)
  }
  // JSON escaping keeps the encoding unambiguous whatever characters a file name holds
  return sha256Hex(JSON.stringify(["driftgate-image-dataset/1", sorted.map((e) => [e.path, e.sha256])]))
}
