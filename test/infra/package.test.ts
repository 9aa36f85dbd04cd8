/**
 * `osls package` runs offline (no AWS account) and the CloudFormation it generates is what
 * gets deployed: check the ledger table, the queue wiring, the per-function roles and least
 * privilege there.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Resource {
  Type: string;
  Condition?: string;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Properties: Record<string, unknown>;
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

const FUNCTIONS = ['Login', 'Logout', 'DeleteAccount', 'BulkBind', 'BulkUnbindTokens', 'BulkDeleteAccounts', 'Query', 'BindWorker'];
const QUEUE_ARN = { 'Fn::GetAtt': ['BindingQueue', 'Arn'] };
const DLQ_ARN = { 'Fn::GetAtt': ['BindingDeadLetterQueue', 'Arn'] };
const FAILED_EVENTS_ARN = { 'Fn::GetAtt': ['FailedEventsQueue', 'Arn'] };
const TABLE_ARN = { 'Fn::GetAtt': ['BindingsTable', 'Arn'] };
const UNSETTLED_INDEX_ARN = { 'Fn::Join': ['', [TABLE_ARN, '/index/unsettled']] };
/** What each role may do on the ledger table, and nothing more. */
const LEDGER_ACTIONS: Record<string, string[]> = {
  LoginRole: ['GetItem', 'PutItem', 'UpdateItem', 'Query', 'BatchGetItem', 'BatchWriteItem'],
  LogoutRole: ['GetItem', 'PutItem', 'UpdateItem', 'Query', 'BatchGetItem', 'BatchWriteItem'],
  DeleteAccountRole: ['GetItem', 'PutItem', 'UpdateItem', 'Query', 'BatchGetItem', 'BatchWriteItem'],
  BulkBindRole: ['GetItem', 'PutItem', 'UpdateItem', 'Query', 'BatchGetItem', 'BatchWriteItem'],
  BulkUnbindTokensRole: ['GetItem', 'PutItem', 'UpdateItem', 'Query', 'BatchGetItem', 'BatchWriteItem'],
  BulkDeleteAccountsRole: ['GetItem', 'PutItem', 'UpdateItem', 'Query', 'BatchGetItem', 'BatchWriteItem'],
  QueryRole: ['GetItem', 'Query', 'BatchGetItem'],
  BindWorkerRole: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'BatchGetItem', 'BatchWriteItem'],
};

let outDir: string;
let resources: Record<string, Resource>;
let outputs: Record<string, { Value: unknown }>;

beforeAll(() => {
  outDir = mkdtempSync(join(tmpdir(), 'osls-package-'));
  const run = spawnSync('node_modules/.bin/osls', ['package', '--stage', 'ci', '--package', outDir], {
    encoding: 'utf8',
    // Offline: no credentials, no AWS calls.
    env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '' },
    timeout: 170_000,
  });
  expect(run.status, run.stderr || run.stdout).toBe(0);
  const template = JSON.parse(readFileSync(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8')) as {
    Resources: Record<string, Resource>;
    Outputs: Record<string, { Value: unknown }>;
  };
  resources = template.Resources;
  outputs = template.Outputs;
}, 180_000);
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);

/** Statements of a role, with `Fn::If` (optional statements) unwrapped to their "true" branch. */
function statementsOf(roleId: string): Statement[] {
  const policies = resources[roleId]?.Properties.Policies as { PolicyDocument: { Statement: unknown[] } }[];
  return policies.flatMap((policy) =>
    policy.PolicyDocument.Statement.map((statement) => {
      const conditional = (statement as { 'Fn::If'?: [string, Statement, unknown] })['Fn::If'];
      return conditional ? conditional[1] : (statement as Statement);
    }),
  );
}
const actionsOf = (statement: Statement) => [statement.Action].flat();
const grants = (roleId: string, action: string) => statementsOf(roleId).filter((statement) => actionsOf(statement).includes(action));

describe('osls package (offline)', () => {
  it('declares the ledger table: pk/sk, on demand, PITR, TTL on expiresAt, encrypted, retained', () => {
    const table = resources.BindingsTable;
    expect(table?.Type).toBe('AWS::DynamoDB::Table');
    expect(table).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(table?.Properties).toEqual({
      TableName: 'tpns-account-sync-ci-bindings',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'uS', AttributeType: 'S' },
        { AttributeName: 'uAt', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      // The sweep's sparse index of unverified tokens.
      GlobalSecondaryIndexes: [
        {
          IndexName: 'unsettled',
          KeySchema: [
            { AttributeName: 'uS', KeyType: 'HASH' },
            { AttributeName: 'uAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect(ofType('AWS::DynamoDB::Table')).toHaveLength(1);
    expect(outputs.BindingsTableName?.Value).toEqual({ Ref: 'BindingsTable' });
  });

  it('declares a standard binding queue with a standard dead-letter queue and a redrive policy', () => {
    expect(resources.BindingQueue?.Properties).toEqual({
      QueueName: 'tpns-account-sync-ci-bindings',
      VisibilityTimeout: 360,
      MessageRetentionPeriod: 1209600,
      RedrivePolicy: { deadLetterTargetArn: DLQ_ARN, maxReceiveCount: 5 },
    });
    expect(resources.BindingDeadLetterQueue?.Properties).toEqual({ QueueName: 'tpns-account-sync-ci-bindings-dlq', MessageRetentionPeriod: 1209600 });
    expect(outputs).toMatchObject({ BindingQueueUrl: { Value: { Ref: 'BindingQueue' } }, BindingDeadLetterQueueUrl: { Value: { Ref: 'BindingDeadLetterQueue' } } });
  });

  it('feeds the worker batches of up to 100 keys gathered for up to 1 s, reporting batch item failures', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.[1].Properties).toMatchObject({
      EventSourceArn: QUEUE_ARN,
      FunctionName: { 'Fn::GetAtt': ['BindWorkerLambdaFunction', 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  it('sweeps every 5 minutes: a schedule rule invokes the worker, which may be invoked by it', () => {
    const rules = ofType('AWS::Events::Rule').filter(([, rule]) => rule.Properties.ScheduleExpression !== undefined);
    expect(rules).toHaveLength(1);
    expect(rules[0]?.[1].Properties).toMatchObject({
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [expect.objectContaining({ Arn: { 'Fn::GetAtt': ['BindWorkerLambdaFunction', 'Arn'] } })],
    });
    const permissions = ofType('AWS::Lambda::Permission').filter(([, permission]) => permission.Properties.Principal === 'events.amazonaws.com');
    expect(permissions.map(([, permission]) => JSON.stringify(permission.Properties.FunctionName))).toContain(JSON.stringify({ 'Fn::GetAtt': ['BindWorkerLambdaFunction', 'Arn'] }));
    const variables = (resources.BindWorkerLambdaFunction?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(String(variables.SWEEP_AFTER_SECONDS)).toBe('1200');
  });

  it('gives every function the ledger, queue, verification and erasure settings', () => {
    for (const name of FUNCTIONS) {
      const variables = (resources[`${name}LambdaFunction`]?.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables).toMatchObject({
        BINDINGS_TABLE: { Ref: 'BindingsTable' },
        BINDING_QUEUE_URL: { Ref: 'BindingQueue' },
        BINDING_DLQ_URL: { Ref: 'BindingDeadLetterQueue' },
        ERASURE_KEY_PARAM: '/tpns-account-sync/erasure-key',
      });
      expect(String(variables.VERIFY_DELAY_SECONDS)).toBe('15');
      expect(String(variables.ERASURE_RETENTION_DAYS)).toBe('30');
    }
  });

  it('keeps the events Lambda gave up on (after 2 retries) in the failed-events queue, and alarms on the first', () => {
    const configs = ofType('AWS::Lambda::EventInvokeConfig').map(([, resource]) => resource.Properties);
    expect(configs.map((config) => (config.FunctionName as { Ref: string }).Ref).sort()).toEqual(['DeleteAccountLambdaFunction', 'LoginLambdaFunction', 'LogoutLambdaFunction']);
    for (const config of configs) {
      expect(config).toMatchObject({ MaximumRetryAttempts: 2, Qualifier: '$LATEST', DestinationConfig: { OnFailure: { Destination: FAILED_EVENTS_ARN } } });
    }
    expect(resources.FailedEventsAlarm?.Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['FailedEventsQueue', 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms as soon as the dead-letter queue holds a message', () => {
    const alarm = resources.DeadLetterQueueAlarm?.Properties;
    expect(alarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['BindingDeadLetterQueue', 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('gives the bulks a whole vCPU (1 769 MB) and the worker 1 024 MB; the rest 256 MB', () => {
    const memory = Object.fromEntries(FUNCTIONS.map((name) => [name, resources[`${name}LambdaFunction`]?.Properties.MemorySize]));
    expect(memory).toEqual({ Login: 256, Logout: 256, DeleteAccount: 256, BulkBind: 1769, BulkUnbindTokens: 1769, BulkDeleteAccounts: 1769, Query: 256, BindWorker: 1024 });
  });

  it('runs every function on Node 22+ / arm64 with its own role', () => {
    const roles = FUNCTIONS.map((name) => {
      const fn = resources[`${name}LambdaFunction`]?.Properties;
      expect(Number(/^nodejs(\d+)\.x$/.exec(String(fn?.Runtime))?.[1])).toBeGreaterThanOrEqual(22);
      expect(fn?.Architectures).toEqual(['arm64']);
      return (fn?.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    });
    expect(roles).toEqual(FUNCTIONS.map((name) => `${name}Role`));
    expect(resources.IamRoleLambdaExecution).toBeUndefined();
    expect(ofType('AWS::IAM::Role').map(([id]) => id).sort()).toEqual(roles.sort());
  });

  it('gives each role only what its function uses', () => {
    for (const name of FUNCTIONS) {
      const role = `${name}Role`;
      expect(grants(role, 'logs:PutLogEvents').map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [`${name}LogGroup`, 'Arn'] }]);
      const [ssm, ...moreSsm] = grants(role, 'ssm:GetParameter');
      expect(moreSsm).toEqual([]);
      expect(ssm?.Resource).toHaveLength(3);
      expect(JSON.stringify(ssm?.Resource)).toMatch(
        /parameter\/tpns-account-sync\/android-secret-key.*parameter\/tpns-account-sync\/ios-secret-key.*parameter\/tpns-account-sync\/erasure-key/,
      );
      expect(grants(role, 'kms:Decrypt')[0]?.Condition).toEqual({
        StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' } },
      });
    }
    for (const sender of ['LoginRole', 'LogoutRole', 'DeleteAccountRole']) {
      expect(grants(sender, 'sqs:SendMessage').map((s) => s.Resource)).toEqual([QUEUE_ARN, FAILED_EVENTS_ARN]);
      expect(grants(sender, 'sqs:ReceiveMessage')).toEqual([]);
    }
    // The bulks are HTTP only: no events to keep.
    for (const sender of ['BulkBindRole', 'BulkUnbindTokensRole', 'BulkDeleteAccountsRole']) {
      expect(grants(sender, 'sqs:SendMessage').map((s) => s.Resource)).toEqual([QUEUE_ARN]);
      expect(grants(sender, 'sqs:ReceiveMessage')).toEqual([]);
    }
    expect(statementsOf('QueryRole').flatMap(actionsOf).filter((action) => action.startsWith('sqs:'))).toEqual([]);
    expect(grants('BindWorkerRole', 'sqs:ReceiveMessage').map((s) => s.Resource)).toEqual([QUEUE_ARN]);
    expect(grants('BindWorkerRole', 'sqs:DeleteMessage').map((s) => s.Resource)).toEqual([QUEUE_ARN]);
    // The worker re-queues pushed keys to verify them later, and dead-letters those that will not converge.
    expect(grants('BindWorkerRole', 'sqs:SendMessage').map((s) => s.Resource)).toEqual([[QUEUE_ARN, DLQ_ARN]]);
  });

  it('grants each role exactly its DynamoDB actions, on the ledger table only', () => {
    for (const [role, expected] of Object.entries(LEDGER_ACTIONS)) {
      const statements = statementsOf(role).filter((statement) => actionsOf(statement).some((action) => action.startsWith('dynamodb:')));
      // The worker alone queries the unsettled index (the sweep), and does nothing else there.
      const onIndex = statements.filter((statement) => JSON.stringify(statement.Resource) === JSON.stringify(UNSETTLED_INDEX_ARN));
      expect(onIndex.flatMap(actionsOf), role).toEqual(role === 'BindWorkerRole' ? ['dynamodb:Query'] : []);
      const onTable = statements.filter((statement) => !onIndex.includes(statement));
      expect(onTable.map((statement) => statement.Resource), role).toEqual([TABLE_ARN]);
      const actions = onTable.flatMap(actionsOf);
      expect(actions.every((action) => action.startsWith('dynamodb:')), `${role} mixes DynamoDB with other actions`).toBe(true);
      expect(actions.map((action) => action.replace('dynamodb:', '')).sort(), role).toEqual([...expected].sort());
      expect(actions.some((action) => action.includes('*')), `${role} has a wildcard action`).toBe(false);
    }
    expect(Object.keys(LEDGER_ACTIONS).sort()).toEqual(ofType('AWS::IAM::Role').map(([id]) => id).sort());
  });

  it('has no `*` resource anywhere', () => {
    const wildcards: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (Array.isArray(node)) node.forEach((item, index) => walk(item, `${path}[${index}]`));
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === 'Resource' && [value].flat().some((item) => item === '*' || item === 'arn:aws:*')) wildcards.push(path);
          walk(value, `${path}.${key}`);
        }
      }
    };
    walk(resources, 'Resources');
    expect(wildcards).toEqual([]);
    // Nor a wildcard inside an ARN in the functions' roles (`table/*`, `parameter/*`, a `!Sub` with `*`).
    for (const [role] of ofType('AWS::IAM::Role')) {
      const partial = statementsOf(role).filter((statement) => JSON.stringify(statement.Resource).includes('*'));
      expect(partial, role).toEqual([]);
    }
    // The statements exist at all (the walk above did look at them).
    expect(ofType('AWS::IAM::Role').length).toBe(8);
  });

  it('routes the HTTP API through the JWT authorizer, admin routes requiring the admin scope', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties);
    expect(routes.map((route) => route.RouteKey).sort()).toEqual([
      'DELETE /v1/me',
      'DELETE /v1/me/devices/{token}',
      'GET /v1/admin/erasures/{account}',
      'GET /v1/me/devices',
      'POST /v1/admin/bindings',
      'POST /v1/admin/delete-accounts',
      'POST /v1/admin/unbind-tokens',
      'PUT /v1/me/devices/{token}',
    ]);
    for (const route of routes) {
      expect(route.AuthorizationType).toBe('JWT');
      if (String(route.RouteKey).includes('/admin/')) expect(route.AuthorizationScopes, String(route.RouteKey)).toEqual(['tpns/admin']);
      else expect(route.AuthorizationScopes, String(route.RouteKey)).toBeUndefined();
    }
    // The erasure receipt is the query function's; each bulk has a function of its own.
    const targets = Object.fromEntries(routes.map((route) => [route.RouteKey, JSON.stringify(route.Target).match(/HttpApiIntegration(\w+)/)?.[1]]));
    expect(targets).toMatchObject({
      'GET /v1/admin/erasures/{account}': 'Query',
      'POST /v1/admin/bindings': 'BulkBind',
      'POST /v1/admin/unbind-tokens': 'BulkUnbindTokens',
      'POST /v1/admin/delete-accounts': 'BulkDeleteAccounts',
      'PUT /v1/me/devices/{token}': 'Login',
    });
    expect(ofType('AWS::ApiGatewayV2::Authorizer')[0]?.[1].Properties).toMatchObject({
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://example.auth0.com/', Audience: ['tpns-account-sync'] },
    });
  });

  it('subscribes to account.* and Auth0 sdu events; Cognito may invoke login only when a pool is set', () => {
    const patterns = ofType('AWS::Events::Rule').map(([, rule]) => rule.Properties.EventPattern);
    expect(patterns).toEqual(
      expect.arrayContaining([
        { 'detail-type': ['account.login'] },
        { 'detail-type': ['account.logout'] },
        { 'detail-type': ['account.deleted'] },
        { source: [{ prefix: 'aws.partner/auth0.com' }], detail: { data: { type: ['sdu'] } } },
      ]),
    );
    expect(resources.CognitoPostAuthenticationPermission).toMatchObject({
      Condition: 'HasCognitoUserPool',
      Properties: { Principal: 'cognito-idp.amazonaws.com', FunctionName: { 'Fn::GetAtt': ['LoginLambdaFunction', 'Arn'] } },
    });
  });
});

/**
 * The deployed bundles are built like the benchmarked ones (serverless.yml custom.esbuild): each
 * zip holds its entry and every chunk the entry reaches, nothing imports node:http as an ES
 * module, and the SQS client sits in a lazy chunk that exposes its named exports (a split chunk
 * of the CommonJS SDK would not).
 */
describe('function zips (code split)', () => {
  const ENTRIES: [alias: string, entry: string][] = [
    ['login', 'functions/login.mjs'],
    ['logout', 'functions/logout.mjs'],
    ['deleteAccount', 'functions/delete-account.mjs'],
    ['bulkBind', 'functions/login.mjs'],
    ['bulkUnbindTokens', 'functions/logout.mjs'],
    ['bulkDeleteAccounts', 'functions/delete-account.mjs'],
    ['query', 'functions/query.mjs'],
    ['bindWorker', 'functions/bind-worker.mjs'],
  ];
  const unzip = (args: string[]) => {
    const run = spawnSync('unzip', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(run.status, `unzip ${args.join(' ')}: ${run.stderr}`).toBe(0);
    return run.stdout;
  };
  /** Relative imports of a minified ES module: `from"./x.mjs"` (static) and `import("./x.mjs")` (lazy). */
  const importsOf = (code: string) =>
    [...code.matchAll(/(from|import\()\s*"(\.\.?\/[^"]+)"/g)].map(([, how, path]) => ({ lazy: how === 'import(', path: path as string }));

  it.each(ENTRIES)('%s: entry and chunks in the zip, no ES import of node:http, the SQS client only in a lazy chunk', (alias, entry) => {
    const dir = mkdtempSync(join(tmpdir(), `zip-${alias}-`));
    try {
      unzip(['-q', join(outDir, `${alias}.zip`), '-d', dir]);
      const files = new Set(unzip(['-Z1', join(outDir, `${alias}.zip`)]).split('\n').filter(Boolean));
      expect(files).toContain(entry);
      expect(readFileSync(join(dir, entry), 'utf8').includes('AmazonSQS'), `${entry} inlines the SQS client`).toBe(false);

      // Every file the entry reaches, statically or lazily, is in the zip.
      const reached = new Map<string, boolean>([[entry, false]]);
      const queue = [entry];
      for (let file = queue.shift(); file; file = queue.shift()) {
        const code = readFileSync(join(dir, file), 'utf8');
        // An ES import of node:http loads undici (~20 ms); the alias to bin/node-http.ts avoids it.
        expect(/from\s*"(?:node:)?http"/.test(code), `${file} imports node:http as an ES module`).toBe(false);
        for (const { lazy, path } of importsOf(code)) {
          const target = posix.join(posix.dirname(file), path);
          expect(files, `${file} imports ${target}`).toContain(target);
          if (!reached.has(target)) {
            reached.set(target, lazy || (reached.get(file) ?? false));
            queue.push(target);
          }
        }
      }
      const sqsChunks = [...reached].filter(([file]) => readFileSync(join(dir, file), 'utf8').includes('AmazonSQS'));
      expect(sqsChunks.length).toBeGreaterThan(0);
      for (const [file, lazy] of sqsChunks) expect(lazy, `${file} is loaded eagerly`).toBe(true);

      // The SQS chunk works as the code imports it: `(await import(...)).SQSClient`.
      const probe = spawnSync(
        'node_modules/.bin/node',
        ['--input-type=module', '-e', `const m = await import(${JSON.stringify(join(dir, sqsChunks[0]?.[0] ?? ''))}); console.log(typeof m.SQSClient)`],
        { encoding: 'utf8' },
      );
      expect(probe.stdout.trim(), probe.stderr).toBe('function');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
