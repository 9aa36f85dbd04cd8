/**
 * The fault injectors' random numbers (the TPNS emulator, the DynamoDB fault proxy, the
 * reliability tests): the same seed, the same faults. mulberry32: tiny, fast and good enough to
 * pick which calls fail; 8 lines, so not worth a dependency.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
