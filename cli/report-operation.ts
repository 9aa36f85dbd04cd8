/** Prints the per-item outcome of bind / unbind-token / delete-account and picks the exit code. */
import type { OperationResult, Platform } from '../lib/tpns/types.js';
import { EXIT } from './exit.js';
import type { ExitCode } from './exit.js';
import { printJson, printTable } from './output.js';

export interface PlatformResult {
  platform: Platform;
  result: OperationResult;
}

export function reportOperation(results: readonly PlatformResult[], json: boolean): ExitCode {
  if (json) {
    printJson({ results: results.map(({ platform, result }) => ({ platform, applied: result.applied, failed: result.failed })) });
  } else {
    printTable(
      ['platform', 'item', 'result', 'message'],
      results.flatMap(({ platform, result }) =>
        result.outcomes.map((outcome) => ({
          platform,
          item: outcome.token ?? outcome.account ?? '',
          result: outcome.ok ? 'ok' : `failed ${outcome.code}${outcome.retryable ? ' (retryable)' : ''}`,
          message: outcome.ok ? '' : outcome.message,
        })),
      ),
    );
  }
  return results.some(({ result }) => result.failed.length > 0) ? EXIT.itemsFailed : EXIT.ok;
}
