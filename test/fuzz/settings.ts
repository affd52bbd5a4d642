/**
 * Shared fuzz settings: a fixed seed so every failure reproduces, and modest run counts so the suite stays well
 * under a minute on two busy cores. `FUZZ_SEED` and `FUZZ_RUNS` (a multiplier) widen a local hunt:
 * `FUZZ_RUNS=20 FUZZ_SEED=7 node scripts/runTests.mjs test/fuzz`.
 */

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261125);

export function runs(base: number): number {
  return Math.max(1, Math.round(base * Number(process.env.FUZZ_RUNS ?? 1)));
}

/** Time bound for one call on fixture-sized input; far above the milliseconds it takes, so only a hang hits it. */
export const CALL_TIMEOUT_MS = 20_000;

/** Time bound for one call on the 10 MB and 100,000-chain inputs. */
export const LARGE_CALL_TIMEOUT_MS = 60_000;

/**
 * Heap a result may keep alive, as a multiple of its input's size (plus a fixed allowance for small inputs). The
 * largest measured is ~21× for 100,000 one-line nft chains (a chain object per 33 bytes of text); 30× leaves room
 * for noise and still catches anything that grows faster than the input.
 */
export const MEMORY_MULTIPLE = 30;
export const MEMORY_ALLOWANCE_BYTES = 8 * 1024 * 1024;
