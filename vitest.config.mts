import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native addons crash in the `threads` pool (TECH-NOTES): keep the default `forks`.
    pool: 'forks',
    // Training tests run real (small) trainings on 2 cores.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Let Node load the generated CommonJS loader (and through it the .node addon) itself.
    server: { deps: { external: [/ts[\\/]native\.js$/] } },
    benchmark: { include: ['bench/**/*.bench.ts'] },
  },
})
