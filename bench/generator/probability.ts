/**
 * The probabilities of kube-proxy's `-m statistic --mode random` rules, as written and as read back.
 * kube-proxy writes 1/(n-i) with Go's `%0.10f`; the xt_statistic extension stores lround(p * 2^31) and
 * iptables-save prints that integer / 2^31 with glibc's `%.11f`. Both formats round the exact binary
 * value half-to-even, which is what exactFixed does (JavaScript's toFixed rounds ties up instead).
 */

const TWO_POW_31 = 2147483648;

/** The exact value of a finite non-negative double as numerator / 2^shift. */
function exactRational(x: number): { numerator: bigint; shift: bigint } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const exponentBits = (high >>> 20) & 0x7ff;
  let mantissa = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  let exponent: number;
  if (exponentBits === 0) {
    exponent = -1074;
  } else {
    mantissa |= 1n << 52n;
    exponent = exponentBits - 1075;
  }
  if (exponent >= 0) return { numerator: mantissa << BigInt(exponent), shift: 0n };
  return { numerator: mantissa, shift: BigInt(-exponent) };
}

/** Formats numerator / 2^shift with `digits` decimals, rounding the exact value half to even. */
function formatRational(numerator: bigint, shift: bigint, digits: number): string {
  const denominator = 1n << shift;
  const scaled = numerator * 10n ** BigInt(digits);
  let quotient = scaled / denominator;
  const twiceRemainder = (scaled % denominator) * 2n;
  if (twiceRemainder > denominator || (twiceRemainder === denominator && quotient % 2n === 1n)) quotient += 1n;
  const text = quotient.toString().padStart(digits + 1, '0');
  return `${text.slice(0, text.length - digits)}.${text.slice(text.length - digits)}`;
}

/** `%.<digits>f` of a non-negative double as Go and glibc print it (exact value, ties to even). */
export function exactFixed(x: number, digits: number): string {
  const { numerator, shift } = exactRational(x);
  return formatRational(numerator, shift, digits);
}

/** What kube-proxy writes for the rule that picks 1 of the `remaining` endpoints left: `%0.10f` of 1/n. */
export function kubeProxyProbability(remaining: number): string {
  return exactFixed(1 / remaining, 10);
}

/** The kernel's stored form of a `--probability` argument: lround(p * 2^31), as libxt_statistic parses it. */
export function kernelProbability(written: string): number {
  return Math.round(Number.parseFloat(written) * TWO_POW_31);
}

/** What iptables-save prints for a `--probability` argument that was loaded as `written`. */
export function savedProbability(written: string): string {
  return formatRational(BigInt(kernelProbability(written)), 31n, 11);
}

/** The iptables-save text for endpoint rule i (0-based) of n, cached because n is small and repeats. */
const savedByRemaining = new Map<number, string>();
export function savedProbabilityFor(remaining: number): string {
  let text = savedByRemaining.get(remaining);
  if (text === undefined) {
    text = savedProbability(kubeProxyProbability(remaining));
    savedByRemaining.set(remaining, text);
  }
  return text;
}
