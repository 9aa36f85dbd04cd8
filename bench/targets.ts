/**
 * The headline figures: for each key a scenario returns (bench/scenarios.ts), which scenario
 * measures it, what it means (the report's label) and the issue's target. A key ending in `.*`
 * covers one figure per deployed function (`eagerKb.login`...). `report` figures have no target
 * to meet. Any other sample a scenario returns is a detail (`<scenario>.<name>`).
 */
export type Goal = { op: '<=' | '<'; value: number; unit?: string } | { op: 'report'; unit?: string };
export type Target = Goal & { scenario: string; label: string };

/**
 * An invocation's CPU time at its function's share of a vCPU (Lambda: one at 1 769 MB, in
 * proportion below) against its timeout; half leaves the rest for the round trips.
 */
const cpuFits = (scenario: string, what: string) =>
  ({ scenario, label: `${what}: CPU time at serverless.yml's memory (x 1769 / memorySize, at most one core) / the timeout`, op: '<=', value: 0.5 }) as const;

export const TARGETS = {
  opCallsPerMinimum: { scenario: 'bulk', label: 'admin bulk: TPNS op calls / ceil(items / 20) per platform', op: '<=', value: 1.0 },
  verifyCallsPerItem: { scenario: 'bulk', label: 'admin bulk: TPNS query (read-back) calls per item', op: '<=', value: 0.05 },
  opCallsPerSignInHealthy: { scenario: 'healthy', label: 'healthy sign-ins: TPNS op calls per sign-in (direct + worker)', op: '<=', value: 1.0 },
  verifyCallsPerSignInHealthy: { scenario: 'healthy', label: 'healthy sign-ins: TPNS query (read-back) calls per sign-in', op: '<=', value: 0.1 },
  opCallsPerSignInBurst: {
    scenario: 'burst',
    label: "queued burst (TPNS failed the direct attempts, then recovered): the worker's op calls per sign-in",
    op: '<=',
    value: 0.1,
  },
  warmP50VsPlainFetch: { scenario: 'warm', label: 'warm sign-in p50 / plain signed fetch of the op 2 call', op: 'report' },
  warmP50VsBareEquivalent: { scenario: 'warm', label: 'warm sign-in p50 / the same ledger write, TPNS call and SQS send done plainly', op: '<=', value: 1.15 },
  'coldFirstCallVsBareEquivalent.*': { scenario: 'cold', label: 'cold start (fresh process: import + first call) / the bare equivalent', op: '<=', value: 1.25 },
  signingCpuVsSdkHash: { scenario: 'signing', label: "SigV4's per-request hashing: CPU with lib/config/sdk-sha256.ts / with the SDK's own hash", op: 'report' },
  'eagerKb.*': { scenario: 'bundles', label: 'eagerly loaded code, KB', op: '<', value: 150, unit: 'KB' },
  workerPeakRssMb: { scenario: 'bulk', label: 'worker container peak RSS during the admin bulk, MB', op: '<=', value: 128, unit: 'MB' },
  bulkCpuAtDeployedMemoryVsTimeout: cpuFits('bulk', 'admin bulk of 10 000 binds'),
  bulkUnbindCpuAtDeployedMemoryVsTimeout: cpuFits('bulk-removals', 'admin bulk sign-out of 10 000 tokens'),
  bulkDeleteCpuAtDeployedMemoryVsTimeout: cpuFits('bulk-removals', 'admin bulk deletion of 10 000 accounts'),
  workerCpuAtDeployedMemoryVsTimeout: cpuFits('bulk', "the admin bulk's longest worker invocation"),
  // A function over its memory is killed mid-request; a fifth is headroom for a busier bulk.
  bulkLoginPeakRssVsMemory: { scenario: 'bulk', label: "admin bulk: login container peak RSS / serverless.yml's memorySize", op: '<=', value: 0.8 },
} as const satisfies Record<string, Target>;

const TABLE: Readonly<Record<string, Target>> = TARGETS;

/** The target of a figure key (`eagerKb.login` -> `eagerKb.*`), if it is a headline figure. */
export function targetOf(key: string): Target | undefined {
  if (TABLE[key]) return TABLE[key];
  const dot = key.indexOf('.');
  return dot > 0 ? TABLE[`${key.slice(0, dot)}.*`] : undefined;
}

/** The headline keys a scenario owes, `.*` expanded over `perFunction`. */
export const keysOf = (scenario: string, perFunction: readonly string[]): string[] =>
  Object.entries(TABLE)
    .filter(([, target]) => target.scenario === scenario)
    .flatMap(([key]) => (key.endsWith('.*') ? perFunction.map((name) => `${key.slice(0, -1)}${name}`) : [key]));

/** Counted figures (calls per item) are exact ratios; a hair of float error must not miss 1.00. */
const EPSILON = 1e-9;

export function meets(goal: Goal, value: number): boolean | null {
  if (goal.op === 'report') return null;
  return goal.op === '<=' ? value <= goal.value + EPSILON : value < goal.value;
}

export const describeGoal = (goal: Goal): string =>
  goal.op === 'report' ? '(report only)' : `${goal.op === '<=' ? '≤' : '<'} ${goal.value}${goal.unit ? ` ${goal.unit}` : ''}`;

/** What results.json records as a figure's target: the goal alone. */
export const goalOf = ({ scenario: _scenario, label: _label, ...goal }: Target): Goal => goal;
