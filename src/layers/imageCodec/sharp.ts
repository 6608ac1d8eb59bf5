import { Effect } from "effect"
import type sharpType from "sharp"
import { ImageIoError, errorMessage } from "./errors.js"

export type Sharp = typeof sharpType

let loaded: Promise<Sharp> | undefined

/** sharp (libvips, native) is loaded on first use only, so tabular commands never pay for it. */
export const loadSharp: Effect.Effect<Sharp, ImageIoError> = Effect.tryPromise({
  try: () => (loaded ??= import("sharp").then((m) => m.default)),
  catch: (e) => {
    loaded = undefined
    return new ImageIoError({ op: "load sharp", path: "sharp", message: errorMessage(e) })
  }
})
