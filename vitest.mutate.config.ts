import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/*
 * The tests StrykerJS runs against each mutant of the security core (npm run mutate). Only tests that run the
 * core in their own process can kill a mutant: Stryker switches mutants on inside the test process, so a CLI
 * child, a worker thread or the Chromium renderer runs the unmutated code and records no coverage. Those tests
 * guard the same protections end to end in npm test; here the core answers for itself, in process.
 */
// Spread, not mergeConfig: merging would append this list to the base config's include of every test.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'test/unit/**/*.test.ts',
      'test/adversarial/key-hygiene.test.ts',
      'test/adversarial/role-table.test.ts',
      'test/integration/decryption-policy.test.ts',
      'test/integration/evaluator-no-secret.test.ts',
      'test/integration/federation.test.ts',
      'test/integration/privacy-budget.test.ts',
      'test/integration/row-integrity.test.ts',
    ],
  },
});
