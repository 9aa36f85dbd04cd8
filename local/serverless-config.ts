/**
 * Reads serverless.yml the way the local stack needs it, so what runs locally cannot drift from
 * what is deployed: `${param:x}` from `params.default`, `${self:...}`, `${sls:stage}`, and
 * `${opt:x, 'default'}` resolved; CloudFormation tags (`!Ref`, `!GetAtt`, ...) kept as their
 * JSON forms (`{ Ref }`, `{ 'Fn::GetAtt': [...] }`).
 *
 * Why hand-written: `osls print` resolves the same document but takes ~3 s a call; test/infra checks they agree (docs/architecture.md, "Why local/ is hand-written").
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { CollectionTag, ScalarTag, YAMLMap, YAMLSeq } from 'yaml';
import * as z from 'zod/mini';

export const SERVERLESS_YML = fileURLToPath(new URL('../serverless.yml', import.meta.url));

/** Logical ids of the binding queue, its dead-letter queue and the ledger table. */
export const BINDING_QUEUE_RESOURCE = 'BindingQueue';
export const DEAD_LETTER_QUEUE_RESOURCE = 'BindingDeadLetterQueue';
export const BINDINGS_TABLE_RESOURCE = 'BindingsTable';

/** The stage `osls` uses without `--stage`. */
const DEFAULT_STAGE = 'dev';
/** Lambda's default function timeout when serverless.yml sets none. */
const DEFAULT_TIMEOUT_SECONDS = 6;
/** The Serverless Framework's default `memorySize` when serverless.yml sets none, MB. */
const DEFAULT_MEMORY_MB = 1024;
/** Lambda's default SQS batch size. */
const DEFAULT_BATCH_SIZE = 10;
/** Lambda's limits for a standard queue's event source (batch size, batching window in s). */
const MAX_BATCH_SIZE = 10_000;
const MAX_BATCHING_WINDOW_SECONDS = 300;
/** Above this batch size Lambda refuses a mapping without a batching window of at least 1 s. */
const MAX_BATCH_SIZE_WITHOUT_WINDOW = 10;

export interface QueueDefinition {
  /** The logical id in `resources.Resources`. */
  resource: string;
  name: string;
  /** SQS queue attributes as CreateQueue takes them (strings), without RedrivePolicy. */
  attributes: Record<string, string>;
}

export interface AttributeDefinition {
  AttributeName: string;
  AttributeType: 'S' | 'N' | 'B';
}
export interface KeySchemaElement {
  AttributeName: string;
  KeyType: 'HASH' | 'RANGE';
}

/** The ledger table as CreateTable takes it (element shapes are the SDK's). */
export interface TableDefinition {
  /** The logical id in `resources.Resources` (`BindingsTable`). */
  resource: string;
  /** `tpns-account-sync-dev-bindings`. */
  name: string;
  attributeDefinitions: AttributeDefinition[];
  keySchema: KeySchemaElement[];
  /** CloudFormation's default is PROVISIONED. */
  billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED';
  /** Only with PROVISIONED. */
  provisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
  /** The attribute DynamoDB TTL expires items by (`expiresAt`); undefined when TTL is off. */
  ttlAttribute?: string;
  /** As CreateTable takes them; on a PROVISIONED table each carries its throughput. */
  globalSecondaryIndexes?: GlobalSecondaryIndex[];
}

export interface GlobalSecondaryIndex {
  IndexName: string;
  KeySchema: KeySchemaElement[];
  Projection: { ProjectionType: 'ALL' | 'KEYS_ONLY' | 'INCLUDE'; NonKeyAttributes?: string[] };
  ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
}

export interface WorkerEventSettings {
  /** The function's key under `functions` (`bindWorker`). */
  functionName: string;
  /** `functions/bind-worker.handler`. */
  handler: string;
  /** 1-10 000 (a standard queue); above 10 the batching window is at least 1 s. */
  batchSize: number;
  /** `maximumBatchingWindow`: how long Lambda gathers messages for one batch (0-300 s, default 0). */
  maximumBatchingWindowSeconds: number;
  /** Lambda's `maximumConcurrency` of the event source: how many batches run at once. */
  maximumConcurrency: number;
  timeoutSeconds: number;
  /** `memorySize` (MB): Lambda sizes the CPU share and Node's heap limits from it. */
  memoryMb: number;
  reportBatchItemFailures: boolean;
  /** From the function's `schedule` event (`rate(5 minutes)`): how often the sweep runs; undefined without one. */
  scheduleRateSeconds?: number;
}

export interface ServerlessConfig {
  /** The whole file, variables resolved, CloudFormation intrinsics as JSON objects. */
  document: Record<string, unknown>;
  bindingQueue: QueueDefinition;
  deadLetterQueue: QueueDefinition;
  /** From the binding queue's RedrivePolicy. */
  maxReceiveCount: number;
  worker: WorkerEventSettings;
  /** The intent ledger's table. */
  table: TableDefinition;
}

const INTRINSICS = ['Base64', 'Cidr', 'FindInMap', 'GetAZs', 'ImportValue', 'Join', 'Select', 'Split', 'Sub', 'If', 'Equals', 'Not', 'And', 'Or'];

/** Every CloudFormation short form, as scalar, sequence and mapping. */
function cloudFormationTags(): (ScalarTag | CollectionTag)[] {
  const forms = (tag: string, toJson: (value: unknown) => unknown): (ScalarTag | CollectionTag)[] => [
    { tag, resolve: (value: string) => toJson(value) },
    { tag, collection: 'seq', resolve: (value: YAMLSeq.Parsed | YAMLMap.Parsed) => toJson(value.toJSON()) },
    { tag, collection: 'map', resolve: (value: YAMLSeq.Parsed | YAMLMap.Parsed) => toJson(value.toJSON()) },
  ];
  return [
    ...forms('!Ref', (value) => ({ Ref: value })),
    ...forms('!Condition', (value) => ({ Condition: value })),
    ...forms('!GetAtt', (value) => ({ 'Fn::GetAtt': typeof value === 'string' ? value.split('.') : value })),
    ...INTRINSICS.flatMap((name) => forms(`!${name}`, (value) => ({ [`Fn::${name}`]: value }))),
  ];
}

const VARIABLE = /\$\{([^{}]+)\}/g;

function lookup(root: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), root);
}

/** `${source:address, 'fallback'}` -> value, or undefined when this reader cannot know it. */
function resolveVariable(expression: string, document: Record<string, unknown>, stage: string): unknown {
  const [reference = '', ...fallbacks] = expression.split(',').map((part) => part.trim());
  const [source, address = ''] = reference.split(/:(.*)/s);
  let value: unknown;
  if (source === 'param') value = lookup(document, `params.${stage}.${address}`) ?? lookup(document, `params.default.${address}`);
  else if (source === 'self') value = lookup(document, address);
  else if (source === 'sls' && address === 'stage') value = stage;
  else if (source === 'opt' && address === 'stage') value = stage;
  if (value !== undefined) return value;
  const fallback = fallbacks.join(',');
  return /^'.*'$|^".*"$/s.test(fallback) ? fallback.slice(1, -1) : undefined;
}

/** Resolves variables until nothing changes (variables may point at values holding variables). */
function resolveVariables(node: unknown, document: Record<string, unknown>, stage: string): unknown {
  if (typeof node === 'string') {
    const whole = /^\$\{([^{}]+)\}$/.exec(node);
    if (whole) {
      const value = resolveVariable(whole[1] ?? '', document, stage);
      return value === undefined ? node : resolveVariables(value, document, stage);
    }
    const replaced = node.replace(VARIABLE, (match, expression: string) => {
      const value = resolveVariable(expression, document, stage);
      return value === undefined ? match : String(resolveVariables(value, document, stage));
    });
    return replaced;
  }
  if (Array.isArray(node)) return node.map((item) => resolveVariables(item, document, stage));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, resolveVariables(value, document, stage)]));
  }
  return node;
}

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const queueResource = z.object({
  Type: z.literal('AWS::SQS::Queue'),
  Properties: z.looseObject({
    QueueName: z.string(),
    RedrivePolicy: z.optional(z.object({ deadLetterTargetArn: z.unknown(), maxReceiveCount: z.coerce.number() })),
  }),
});
const sqsEvent = z.looseObject({
  sqs: z.looseObject({
    arn: z.unknown(),
    batchSize: z.optional(z.coerce.number()),
    maximumBatchingWindow: z.optional(z.coerce.number()),
    maximumConcurrency: z.optional(z.coerce.number()),
    functionResponseType: z.optional(z.string()),
  }),
});
const scheduleEvent = z.looseObject({ schedule: z.union([z.string(), z.looseObject({ rate: z.union([z.string(), z.tuple([z.string()])]) })]) });
const RATE_UNIT_SECONDS = { minute: 60, hour: 3_600, day: 86_400 } as const;

/** EventBridge's `rate(value unit)` in seconds (a cron expression is not run locally). */
function rateSeconds(path: string, expression: string): number {
  const match = /^rate\((\d+) (minute|hour|day)(s?)\)$/.exec(expression.trim());
  if (!match) fail(path, `must be rate(<n> minutes|hours|days), got "${expression}"`);
  const [, value, unit, plural] = match;
  const count = Number(value);
  // EventBridge's own rule: rate(1 minute), rate(5 minutes).
  if (count < 1 || (count === 1) === (plural === 's')) fail(path, `must say rate(1 minute) or rate(<n> minutes) (EventBridge's rule), got "${expression}"`);
  return count * RATE_UNIT_SECONDS[unit as keyof typeof RATE_UNIT_SECONDS]; // the pattern admits only these
}

function scheduleOf(functionName: string, events: readonly unknown[]): number | undefined {
  for (const event of events) {
    const parsed = scheduleEvent.safeParse(event);
    if (!parsed.success) continue;
    const { schedule } = parsed.data;
    const rate = typeof schedule === 'string' ? schedule : schedule.rate;
    return rateSeconds(`functions.${functionName}.events[].schedule`, typeof rate === 'string' ? rate : rate[0]);
  }
  return undefined;
}

const cfnBoolean = z.union([z.boolean(), z.enum(['true', 'false'])]);
const keySchema = z.array(z.object({ AttributeName: z.string(), KeyType: z.enum(['HASH', 'RANGE']) }));
const throughput = z.object({ ReadCapacityUnits: z.coerce.number(), WriteCapacityUnits: z.coerce.number() });
const tableResource = z.object({
  Type: z.literal('AWS::DynamoDB::Table'),
  Properties: z.looseObject({
    TableName: z.string(),
    AttributeDefinitions: z.array(z.object({ AttributeName: z.string(), AttributeType: z.enum(['S', 'N', 'B']) })),
    KeySchema: keySchema,
    BillingMode: z.optional(z.enum(['PAY_PER_REQUEST', 'PROVISIONED'])),
    ProvisionedThroughput: z.optional(throughput),
    TimeToLiveSpecification: z.optional(z.object({ AttributeName: z.string(), Enabled: cfnBoolean })),
    GlobalSecondaryIndexes: z.optional(
      z.array(
        z.object({
          IndexName: z.string(),
          KeySchema: keySchema,
          Projection: z.object({ ProjectionType: z.enum(['ALL', 'KEYS_ONLY', 'INCLUDE']), NonKeyAttributes: z.optional(z.array(z.string())) }),
          ProvisionedThroughput: z.optional(throughput),
        }),
      ),
    ),
  }),
});
const functionDefinition = z.looseObject({
  handler: z.string(),
  timeout: z.optional(z.coerce.number()),
  memorySize: z.optional(z.coerce.number()),
  events: z.optional(z.array(z.unknown())),
});
const configShape = z.looseObject({
  provider: z.looseObject({ timeout: z.optional(z.coerce.number()), memorySize: z.optional(z.coerce.number()) }),
  functions: z.record(z.string(), functionDefinition),
  resources: z.object({ Resources: z.record(z.string(), z.unknown()) }),
});

/** A function's own timeout and memory, else the provider's, else the framework's defaults. */
const limits = (definition: z.infer<typeof functionDefinition>, provider: z.infer<typeof configShape>['provider']) => ({
  timeoutSeconds: definition.timeout ?? provider.timeout ?? DEFAULT_TIMEOUT_SECONDS,
  memoryMb: definition.memorySize ?? provider.memorySize ?? DEFAULT_MEMORY_MB,
});

function fail(path: string, problem: string): never {
  throw new Error(`serverless.yml: ${path} ${problem}`);
}

function queueDefinition(resources: Record<string, unknown>, resource: string): QueueDefinition & { redrive?: { target: unknown; maxReceiveCount: number } } {
  const parsed = queueResource.safeParse(resources[resource]);
  if (!parsed.success) fail(`resources.Resources.${resource}`, `must be an AWS::SQS::Queue with Properties.QueueName (${parsed.error.issues[0]?.message})`);
  const { QueueName, RedrivePolicy, ...properties } = parsed.data.Properties;
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(properties)) {
    // Only plain values are queue attributes (tags, policies and intrinsics are not).
    if (scalar.safeParse(value).success) attributes[name] = String(value);
  }
  return {
    resource,
    name: QueueName,
    attributes,
    ...(RedrivePolicy ? { redrive: { target: RedrivePolicy.deadLetterTargetArn, maxReceiveCount: RedrivePolicy.maxReceiveCount } } : {}),
  };
}

/** Local secondary indexes are not read (the ledger has none): refuse them rather than drift locally. */
const UNREAD_TABLE_PROPERTIES = ['LocalSecondaryIndexes'];

function tableDefinition(resources: Record<string, unknown>, resource: string): TableDefinition {
  const path = `resources.Resources.${resource}`;
  const parsed = tableResource.safeParse(resources[resource]);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(`${path}.${issue?.path.join('.') ?? ''}`, `must describe an AWS::DynamoDB::Table (${issue?.message})`);
  }
  const properties = parsed.data.Properties;
  for (const name of UNREAD_TABLE_PROPERTIES) {
    if (properties[name] !== undefined) fail(`${path}.Properties.${name}`, 'is not read by local/serverless-config.ts (the local table would lack it)');
  }
  const billingMode = properties.BillingMode ?? 'PROVISIONED';
  if (billingMode === 'PROVISIONED' && !properties.ProvisionedThroughput) fail(`${path}.Properties.ProvisionedThroughput`, 'is required with BillingMode PROVISIONED');
  const ttl = properties.TimeToLiveSpecification;
  const indexes = properties.GlobalSecondaryIndexes;
  for (const [at, index] of (indexes ?? []).entries()) {
    if (billingMode === 'PROVISIONED' && !index.ProvisionedThroughput) fail(`${path}.Properties.GlobalSecondaryIndexes.${at}.ProvisionedThroughput`, 'is required with BillingMode PROVISIONED');
    for (const { AttributeName } of index.KeySchema) {
      if (!properties.AttributeDefinitions.some((definition) => definition.AttributeName === AttributeName)) fail(`${path}.Properties.AttributeDefinitions`, `must define ${AttributeName} (a key of index ${index.IndexName})`);
    }
  }
  return {
    resource,
    name: properties.TableName,
    attributeDefinitions: properties.AttributeDefinitions,
    keySchema: properties.KeySchema,
    billingMode,
    ...(billingMode === 'PROVISIONED' && properties.ProvisionedThroughput ? { provisionedThroughput: properties.ProvisionedThroughput } : {}),
    ...(ttl && String(ttl.Enabled) === 'true' ? { ttlAttribute: ttl.AttributeName } : {}),
    ...(indexes && indexes.length > 0 ? { globalSecondaryIndexes: indexes } : {}),
  };
}

/** Lambda's own checks of an SQS event source on a standard queue, so a bad value fails here too. */
function checkBatching(path: string, batchSize: number, windowSeconds: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) fail(`${path}.batchSize`, `must be an integer from 1 to ${MAX_BATCH_SIZE}, got ${batchSize}`);
  if (!Number.isInteger(windowSeconds) || windowSeconds < 0 || windowSeconds > MAX_BATCHING_WINDOW_SECONDS) {
    fail(`${path}.maximumBatchingWindow`, `must be an integer from 0 to ${MAX_BATCHING_WINDOW_SECONDS}, got ${windowSeconds}`);
  }
  if (batchSize > MAX_BATCH_SIZE_WITHOUT_WINDOW && windowSeconds < 1) {
    fail(`${path}.maximumBatchingWindow`, `must be at least 1 when batchSize is over ${MAX_BATCH_SIZE_WITHOUT_WINDOW} (Lambda refuses the mapping otherwise)`);
  }
}

const getAttArn = (value: unknown, resource: string) =>
  JSON.stringify(value) === JSON.stringify({ 'Fn::GetAtt': [resource, 'Arn'] });

function workerSettings(config: z.infer<typeof configShape>, queueResourceId: string): WorkerEventSettings {
  for (const [functionName, definition] of Object.entries(config.functions)) {
    for (const event of definition.events ?? []) {
      const parsed = sqsEvent.safeParse(event);
      if (!parsed.success || !getAttArn(parsed.data.sqs.arn, queueResourceId)) continue;
      const { batchSize = DEFAULT_BATCH_SIZE, maximumBatchingWindow = 0, maximumConcurrency, functionResponseType } = parsed.data.sqs;
      checkBatching(`functions.${functionName}.events[].sqs`, batchSize, maximumBatchingWindow);
      const scheduleRateSeconds = scheduleOf(functionName, definition.events ?? []);
      return {
        functionName,
        handler: definition.handler,
        batchSize,
        maximumBatchingWindowSeconds: maximumBatchingWindow,
        maximumConcurrency: maximumConcurrency ?? fail(`functions.${functionName}.events[].sqs.maximumConcurrency`, 'is required'),
        ...limits(definition, config.provider),
        reportBatchItemFailures: functionResponseType === 'ReportBatchItemFailures',
        ...(scheduleRateSeconds === undefined ? {} : { scheduleRateSeconds }),
      };
    }
  }
  return fail('functions', `has no function with an sqs event on !GetAtt ${queueResourceId}.Arn`);
}

export function readServerlessConfig(path: string = SERVERLESS_YML, options: { stage?: string } = {}): ServerlessConfig {
  const raw: unknown = parse(readFileSync(path, 'utf8'), { customTags: cloudFormationTags() });
  if (!raw || typeof raw !== 'object') fail('', 'is not a YAML mapping');
  const document = resolveVariables(raw, raw as Record<string, unknown>, options.stage ?? DEFAULT_STAGE) as Record<string, unknown>;
  const parsed = configShape.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(issue?.path.join('.') ?? '', issue?.message ?? 'is invalid');
  }
  const resources = parsed.data.resources.Resources;
  const { redrive, ...bindingQueue } = queueDefinition(resources, BINDING_QUEUE_RESOURCE);
  if (!redrive || !getAttArn(redrive.target, DEAD_LETTER_QUEUE_RESOURCE)) {
    fail(`resources.Resources.${BINDING_QUEUE_RESOURCE}.Properties.RedrivePolicy`, `must target !GetAtt ${DEAD_LETTER_QUEUE_RESOURCE}.Arn`);
  }
  const { redrive: _none, ...deadLetterQueue } = queueDefinition(resources, DEAD_LETTER_QUEUE_RESOURCE);
  return {
    document,
    bindingQueue,
    deadLetterQueue,
    maxReceiveCount: redrive.maxReceiveCount,
    worker: workerSettings(parsed.data, BINDING_QUEUE_RESOURCE),
    table: tableDefinition(resources, BINDINGS_TABLE_RESOURCE),
  };
}

/** One `httpApi` event of a function (read by the local stack's API host). */
export interface HttpApiRoute {
  /** The function's key under `functions` (`login`). */
  functionName: string;
  /** `functions/login.handler`: module path without extension, then the export. */
  handler: string;
  /** Upper-case method, or `*` for any. */
  method: string;
  /** `/v1/me/devices/{token}`. */
  path: string;
  /** The authorizer's name (under provider.httpApi.authorizers) and the scopes the route requires. */
  authorizer?: { name: string; scopes: string[] };
  timeoutSeconds: number;
  memoryMb: number;
}

const httpApiEvent = z.object({
  httpApi: z.union([
    z.string(),
    z.looseObject({
      method: z.string(),
      path: z.string(),
      authorizer: z.optional(z.union([z.string(), z.looseObject({ name: z.string(), scopes: z.optional(z.array(z.string())) })])),
    }),
  ]),
});

/** Every `httpApi` event (`'*'`, `'GET /path'` or `{ method, path, authorizer }`) of every function. */
export function httpApiRoutes(config: ServerlessConfig): HttpApiRoute[] {
  const parsed = configShape.safeParse(config.document);
  if (!parsed.success) fail('functions', 'are invalid');
  const routes: HttpApiRoute[] = [];
  for (const [functionName, definition] of Object.entries(parsed.data.functions)) {
    for (const [index, event] of (definition.events ?? []).entries()) {
      if (!event || typeof event !== 'object' || !('httpApi' in event)) continue;
      const route = httpApiEvent.safeParse(event);
      if (!route.success) fail(`functions.${functionName}.events[${index}].httpApi`, 'must be "*", "METHOD /path" or { method, path }');
      const spec = route.data.httpApi;
      const [method = '*', path = '/{proxy+}'] = typeof spec === 'string' ? (spec === '*' ? [] : spec.split(/\s+/)) : [spec.method, spec.path];
      const authorizer = typeof spec === 'string' ? undefined : spec.authorizer;
      const authorizerName = typeof authorizer === 'string' ? authorizer : authorizer?.name;
      if (authorizerName !== undefined && lookup(config.document, `provider.httpApi.authorizers.${authorizerName}`) === undefined) {
        fail(`functions.${functionName}.events[${index}].httpApi.authorizer`, `names "${authorizerName}", which provider.httpApi.authorizers does not define`);
      }
      routes.push({
        functionName,
        handler: definition.handler,
        method: method.toUpperCase(),
        path,
        ...(authorizer === undefined
          ? {}
          : { authorizer: typeof authorizer === 'string' ? { name: authorizer, scopes: [] } : { name: authorizer.name, scopes: authorizer.scopes ?? [] } }),
        ...limits(definition, parsed.data.provider),
      });
    }
  }
  return routes;
}
