import { defineConfig } from "vitest/config"

export default defineConfig({
  define: { __DRIFTGATE_VERSION__: JSON.stringify("0.1.0-test") },
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks"
  }
})
