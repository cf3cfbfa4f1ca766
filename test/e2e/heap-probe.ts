/**
 * What a renderer's JavaScript heap still holds, seen the way an attacker with a heap dump would: a snapshot
 * through the DevTools protocol after a forced garbage collection, numbers included (captureNumericValue).
 */
import type { Page } from 'playwright-core';

/** The values, of those given, that appear anywhere in the page's heap: as numbers, or inside a string. */
export async function valuesInHeap(page: Page, values: readonly number[]): Promise<number[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('HeapProfiler.enable');
    await cdp.send('HeapProfiler.collectGarbage');
    const chunks: string[] = [];
    cdp.on('HeapProfiler.addHeapSnapshotChunk', (e) => chunks.push(e.chunk));
    await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false, captureNumericValue: true });
    const { strings } = JSON.parse(chunks.join('')) as { strings: string[] };
    const texts = strings.filter((s) => /\d\.\d/.test(s));
    return values.filter((v) => texts.some((s) => s.includes(String(v))));
  } finally {
    await cdp.detach();
  }
}
