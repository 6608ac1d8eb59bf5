declare const __DRIFTGATE_VERSION__: string | undefined

/** The package version, inlined by the build (esbuild/vitest define). */
export const DRIFTGATE_VERSION: string = typeof __DRIFTGATE_VERSION__ === "string" ? __DRIFTGATE_VERSION__ : "0.0.0-dev"
