import { defineConfig } from '@playwright/test';

// The server is started by `cargo leptos end-to-end` (see scripts/test.sh), which runs
// these tests as soon as it has spawned it: global-setup waits until it answers.
const baseURL = process.env.E2E_BASE_URL ?? `http://${process.env.LEPTOS_SITE_ADDR ?? '127.0.0.1:3000'}`;

export default defineConfig({
  testDir: './tests',
  globalSetup: './global-setup.ts',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  // The JSON report is how scripts/test.sh knows the tests ran and passed.
  reporter: [['list'], ['json', { outputFile: './test-results/report.json' }]],
  outputDir: './test-results',
  use: {
    baseURL,
    // Debian's Chromium: Playwright's own browser download cannot run on our machines.
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
    trace: 'retain-on-failure',
  },
  projects: [
    // Runs first, while the freshly created database is still empty.
    { name: 'empty-database', testMatch: /empty-database\.spec\.ts/ },
    // Every test's browser context has lists of its own (`/` leads to a new list), so
    // the tests run side by side, "Mark all" and "Clear completed" included.
    {
      name: 'hydrated',
      testMatch: /\/(hydrated|hydrated-changes|bulk-hydrated|lists)\.spec\.ts$/,
      dependencies: ['empty-database'],
    },
    {
      name: 'no-javascript',
      testMatch: /\/(no-javascript|no-javascript-changes|bulk-no-javascript|lists-no-javascript)\.spec\.ts$/,
      use: { javaScriptEnabled: false },
      dependencies: ['empty-database'],
    },
  ],
});
