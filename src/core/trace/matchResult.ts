/**
 * What evaluating one match against a packet can give: it matches, it does not, it matches for a share of
 * packets (statistic), or the tracer cannot tell (then the rule is assumed not to match, and the trace says so).
 */

export type MatchResult =
  | { readonly kind: 'match' }
  | { readonly kind: 'no' }
  | { readonly kind: 'split'; readonly probability: number; readonly reason: string }
  | { readonly kind: 'unknown'; readonly reason: string };

export const MATCH: MatchResult = { kind: 'match' };
export const NO_MATCH: MatchResult = { kind: 'no' };

export function unknown(reason: string): MatchResult {
  return { kind: 'unknown', reason };
}

export function fromBoolean(value: boolean, negated = false): MatchResult {
  return value !== negated ? MATCH : NO_MATCH;
}

/** Negates a result: a split of p becomes a split of 1 - p; unknown stays unknown. */
export function negate(result: MatchResult): MatchResult {
  switch (result.kind) {
    case 'match':
      return NO_MATCH;
    case 'no':
      return MATCH;
    case 'split':
      return { kind: 'split', probability: 1 - result.probability, reason: `not (${result.reason})` };
    case 'unknown':
      return result;
  }
}

/** All of a rule's matches must hold: one sure "no" decides; otherwise unknowns win over splits. */
export function combineAll(results: MatchResult[]): MatchResult {
  let probability = 1;
  const reasons: string[] = [];
  let unknownResult: MatchResult | undefined;
  for (const result of results) {
    if (result.kind === 'no') return NO_MATCH;
    if (result.kind === 'unknown') unknownResult ??= result;
    if (result.kind === 'split') {
      probability *= result.probability;
      reasons.push(result.reason);
    }
  }
  if (unknownResult) return unknownResult;
  if (reasons.length > 0) return { kind: 'split', probability, reason: reasons.join(' and ') };
  return MATCH;
}
