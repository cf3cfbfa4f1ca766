import { isMissing, readNumber } from './values.ts';

// Spellings that unambiguously mean at-risk / not at-risk, so such labels need no `positive` option.
const POSITIVE_WORDS = new Set(['1', 'true', 'yes', 'y', 'at risk', 'at-risk', 'atrisk', 'high', 'positive']);
const NEGATIVE_WORDS = new Set(['0', 'false', 'no', 'n', 'healthy', 'normal', 'low', 'negative']);

export const PASS_POSITIVE = 'pass the value that means at-risk as positive';

/** 1 = at-risk, 0 = not, NaN = unknown (empty/NA cell), null = text this reader cannot interpret. */
export type LabelReader = (text: string) => number | null;

const canonical = (text: string): string => text.trim().toLowerCase().replace(/\s+/g, ' ');

export function automaticLabel(decimalComma: boolean): LabelReader {
  return (text) => {
    if (isMissing(text)) return Number.NaN;
    const word = canonical(text);
    if (POSITIVE_WORDS.has(word)) return 1;
    if (NEGATIVE_WORDS.has(word)) return 0;
    const cell = readNumber(word, decimalComma);
    return cell.kind === 'number' && (cell.value === 0 || cell.value === 1) ? cell.value : null;
  };
}

/** Exactly the caller's positive text is at-risk, any other text is not; "NA"-style cells stay unknown. */
export function labelWithPositive(positive: string): LabelReader {
  const wanted = canonical(positive);
  return (text) => (isMissing(text) ? Number.NaN : canonical(text) === wanted ? 1 : 0);
}

/** Distinct non-missing values (compared like the readers compare them), for plan-time checks. */
export function distinctLabelValues(texts: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  for (const text of texts) if (!isMissing(text)) seen.add(canonical(text));
  return seen;
}
