/**
 * `--record` for `bind`, `unbind-token` and `delete-account`: the operation goes through the
 * deployment's intent ledger exactly as the API's does (lib/commands: recorded, pushed, read back
 * and repaired by the worker; a deletion leaves its erasure receipt and tombstone), instead of
 * straight to TPNS. So the reconciler never undoes it, and an account erased here stays erased.
 */
import { randomUUID } from 'node:crypto';
import { Option } from 'commander';
import type { Answer, CommandMeta } from '../lib/commands/answer.js';
import type { Runtime } from '../lib/config/runtime.js';
import { TpnsAuthError } from '../lib/tpns/errors.js';
import { deploymentRuntime } from './aws.js';
import { EXIT } from './exit.js';
import type { ExitCode } from './exit.js';
import { printJson, printTable } from './output.js';

export const recordOption = (): Option =>
  new Option(
    '--record',
    "go through the deployment's intent ledger as the API does, so the worker keeps TPNS to it " +
      '(needs BINDINGS_TABLE, BINDING_QUEUE_URL, ERASURE_KEY_PARAM or ERASURE_KEY, AWS_REGION, and the TPNS credentials)',
  );

/** Runs `operate` against the deployment's runtime, prints its answer, and picks the exit code. */
export async function runRecorded(command: string, json: boolean, operate: (runtime: Runtime, meta: CommandMeta) => Promise<Answer>): Promise<ExitCode> {
  const runtime = await deploymentRuntime(process.env, `${command} --record`, ['BINDINGS_TABLE', 'BINDING_QUEUE_URL', 'ERASURE_KEY', 'AWS_REGION']);
  const correlationId = `cli-${command}:${randomUUID()}`;
  let answer: Answer;
  try {
    answer = await operate(runtime, { correlationId });
  } catch (error) {
    // Refused credentials surface at the push, after the ledger took the operation: it is recorded, so say so (the exit stays 2).
    if (error instanceof TpnsAuthError) {
      error.message +=
        ' (the operation IS recorded in the intent ledger, not yet pushed: the worker pushes it with the deployment\'s credentials ' +
        'once the sweep finds it; or fix the CLI\'s credentials and re-run, which is safe)';
    }
    throw error;
  }
  const { body } = answer;
  if (json) printJson({ ...body, correlationId });
  else {
    const queued = answer.status === 202 ? answer.body.queued : 0;
    process.stdout.write(
      `recorded in the intent ledger (${correlationId}): ${body.applied} applied at TPNS` +
        (queued > 0 ? `, ${queued} queued: the worker pushes and reads them back` : ', read back by the worker shortly') +
        '\n',
    );
    if (body.failed.length > 0) printTable(['platform', 'item', 'result', 'message'], body.failed.map((failure) => ({ platform: failure.platform, item: failure.token ?? failure.account ?? '', result: `failed ${failure.code}`, message: failure.message })));
  }
  return body.failed.length > 0 ? EXIT.itemsFailed : EXIT.ok;
}
