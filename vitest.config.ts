import { defineConfig } from "vitest/config"

export default defineConfig({
  define: { __DRIFTGATE_VERSION__: JSON.stringify("0.1.0-test") },
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Test files share each fork's module cache instead of re-importing effect, the learners and the
    // layers for every file: on 2 cores this cut the unit folders' CPU time by more than half
    // (tests/domain + tests/stats: 54 s → 22 s). Files that touch process.env restore it.
    poolOptions: { forks: { isolate: false } }
  }
})
