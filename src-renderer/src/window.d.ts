import type { HomopaiApi } from '../../src-preload/contract.ts';

declare global {
  interface Window {
    /** Provided by the preload in the app, or by the loopback bridge's injected script in e2e tests. */
    homopai: HomopaiApi;
  }
}

export {};
