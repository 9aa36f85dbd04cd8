/** The Lambda context as the pipeline enriches it before the handler runs. */
import type { Context } from 'aws-lambda';
import type { Runtime } from '../../lib/config/runtime.js';
import type { Trigger } from '../../lib/triggers/index.js';
import type { PreparedCommand, Route } from './route.js';

export interface FunctionContext extends Context {
  /** Set by loadRuntime (module-level cache: built once per cold start). */
  runtime: Runtime;
  /** Set by recognizeTrigger. */
  trigger: Trigger;
  /** HTTP only: the matched route (httpRoute) and its validated command (validateRequest). */
  route?: Route;
  command?: PreparedCommand;
}
