/** bin/audit.ts: fails on high/critical production advisories, only warns when the endpoint is unreachable. */
import { describe, expect, it } from 'vitest';
import { auditVerdict } from '../../bin/audit.js';

const report = (vulnerabilities: Record<string, unknown>, counts: Record<string, number>) =>
  JSON.stringify({
    auditReportVersion: 2,
    vulnerabilities,
    metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, total: 0, ...counts }, dependencies: { prod: 120, total: 120 } },
  });

describe('auditVerdict', () => {
  it('passes a clean report', () => {
    expect(auditVerdict(report({}, {}))).toEqual({ status: 'clean', message: expect.stringContaining('all: none') });
  });

  it('passes moderate and low findings, naming them', () => {
    const verdict = auditVerdict(report({ tar: { name: 'tar', severity: 'moderate', via: [{ title: 'ReDoS', url: 'https://github.com/advisories/GHSA-x' }] } }, { moderate: 1, total: 1 }));
    expect(verdict).toEqual({ status: 'clean', message: expect.stringContaining('1 moderate') });
  });

  it('fails on high and critical findings, listing package, severity and advisory', () => {
    const verdict = auditVerdict(
      report(
        {
          'fast-xml-parser': { name: 'fast-xml-parser', severity: 'critical', via: [{ title: 'Prototype pollution', url: 'https://github.com/advisories/GHSA-1' }] },
          '@aws-sdk/core': { name: '@aws-sdk/core', severity: 'high', via: ['fast-xml-parser'] },
          minimist: { name: 'minimist', severity: 'low', via: [] },
        },
        { low: 1, high: 1, critical: 1, total: 3 },
      ),
    );
    expect(verdict.status).toBe('vulnerable');
    expect(verdict.message).toContain('2 package(s)');
    expect(verdict.message).toContain('fast-xml-parser (critical): Prototype pollution https://github.com/advisories/GHSA-1');
    expect(verdict.message).toContain('@aws-sdk/core (high): via fast-xml-parser');
    expect(verdict.message).not.toContain('minimist');
  });

  it('reports an unreachable endpoint (npm answers its error as JSON, e.g. 405) instead of failing', () => {
    const npmError = JSON.stringify({ message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk', statusCode: 405, body: '', error: { summary: '', detail: '' } });
    expect(auditVerdict(npmError)).toEqual({ status: 'unreachable', message: expect.stringContaining('405 Method Not Allowed') });
    expect(auditVerdict('')).toEqual({ status: 'unreachable', message: 'npm audit printed no JSON report' });
  });
});
