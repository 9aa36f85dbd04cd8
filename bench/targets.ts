/**
 * The issue's targets, by figure. A key ending in `.*` covers one figure per function
 * (`eagerKb.login`...). `report` figures are reported with no target to meet.
 */
export type Target = { op: '<=' | '<'; value: number; unit?: string } | { op: 'report'; unit?: string };

export const TARGETS: Readonly<Record<string, Target>> = {
  opCallsPerMinimum: { op: '<=', value: 1.0 },
  verifyCallsPerItem: { op: '<=', value: 0.05 },
  opCallsPerSignInHealthy: { op: '<=', value: 1.0 },
  verifyCallsPerSignInHealthy: { op: '<=', value: 0.1 },
  opCallsPerSignInBurst: { op: '<=', value: 0.1 },
  warmP50VsPlainFetch: { op: 'report' },
  warmP50VsBareEquivalent: { op: '<=', value: 1.15 },
  'coldFirstCallVsBareEquivalent.*': { op: '<=', value: 1.25 },
  'eagerKb.*': { op: '<', value: 150, unit: 'KB' },
  workerPeakRssMb: { op: '<=', value: 128, unit: 'MB' },
};

/** The target of a figure key, if it is a headline figure. */
export function targetOf(key: string): Target | undefined {
  if (TARGETS[key]) return TARGETS[key];
  const dot = key.indexOf('.');
  return dot > 0 ? TARGETS[`${key.slice(0, dot)}.*`] : undefined;
}

/** Counted figures (calls per item) are exact ratios; a hair of float error must not miss 1.00. */
const EPSILON = 1e-9;

export function meets(target: Target, value: number): boolean | null {
  if (target.op === 'report') return null;
  return target.op === '<=' ? value <= target.value + EPSILON : value < target.value;
}

export const describeTarget = (target: Target): string =>
  target.op === 'report' ? '(report only)' : `${target.op === '<=' ? '≤' : '<'} ${target.value}${target.unit ? ` ${target.unit}` : ''}`;
