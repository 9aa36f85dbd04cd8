/**
 * CI's dependency audit: `npm audit --omit=dev --audit-level=high`, failing on high or critical
 * advisories in production dependencies. When the audit endpoint cannot be reached (some
 * registries and mirrors answer 405, or there is no network), it warns loudly and passes: an
 * unreachable endpoint is not a finding, and CI elsewhere must not go red for it.
 *
 *   node --import tsx bin/audit.ts
 */
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

export type AuditVerdict =
  | { status: 'clean'; message: string }
  | { status: 'vulnerable'; message: string }
  | { status: 'unreachable'; message: string };

/** Severities that fail the build. */
const FAILING = ['high', 'critical'] as const;

interface AuditReport {
  vulnerabilities?: Record<string, { name?: string; severity?: string; via?: (string | { title?: string; url?: string })[] }>;
  metadata?: { vulnerabilities?: Partial<Record<string, number>> };
}

/** Reads `npm audit --json` output (report v2, or npm's error answer). */
export function auditVerdict(output: string): AuditVerdict {
  let report: AuditReport & { error?: unknown; statusCode?: number; message?: string };
  try {
    report = JSON.parse(output) as typeof report;
  } catch {
    return { status: 'unreachable', message: 'npm audit printed no JSON report' };
  }
  const counts = report.metadata?.vulnerabilities;
  if (!counts) {
    const why = report.message ?? (report.statusCode ? `HTTP ${report.statusCode}` : 'no report');
    return { status: 'unreachable', message: `the audit endpoint did not answer with a report (${why})` };
  }
  const failing = Object.values(report.vulnerabilities ?? {}).filter((entry) => (FAILING as readonly string[]).includes(entry.severity ?? ''));
  const summary = Object.entries(counts).filter(([key, n]) => key !== 'total' && (n ?? 0) > 0).map(([key, n]) => `${n} ${key}`).join(', ') || 'none';
  if (failing.length === 0) return { status: 'clean', message: `no high or critical advisories in production dependencies (all: ${summary})` };
  const lines = failing.map((entry) => {
    const titles = (entry.via ?? []).map((via) => (typeof via === 'string' ? `via ${via}` : `${via.title ?? ''} ${via.url ?? ''}`.trim()));
    return `  ${entry.name} (${entry.severity}): ${titles.join('; ')}`;
  });
  return { status: 'vulnerable', message: `${failing.length} package(s) with high or critical advisories:\n${lines.join('\n')}` };
}

function main(): void {
  const run = spawnSync('npm', ['audit', '--omit=dev', '--audit-level=high', '--json'], { encoding: 'utf8', shell: process.platform === 'win32' });
  const verdict = auditVerdict(run.stdout ?? '');
  if (verdict.status === 'unreachable') {
    console.warn(`WARNING: dependency audit SKIPPED: ${verdict.message}. Run \`npm audit --omit=dev\` where the registry's audit endpoint is reachable.`);
    return;
  }
  if (verdict.status === 'vulnerable') {
    console.error(`npm audit: ${verdict.message}`);
    process.exitCode = 1;
    return;
  }
  console.log(`npm audit: ${verdict.message}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
