/**
 * A seeded random mix of lifecycle operations over a pool of shared devices and users, and the
 * model's expected final bindings after applying them in order.
 */
import { seededRandom } from '../../../local/tpns-emulator/faults.js';
import type { Platform } from '../../../lib/tpns/types.js';
import { BindingModel } from './model.js';
import type { Keys } from './scheduler.js';

export interface User {
  account: string;
  accountType: number;
}

export interface Device {
  token: string;
  platform: Platform;
}

export type Operation =
  | { kind: 'sign-in'; via: 'http' | 'event' | 'cognito'; device: Device; user: User }
  | { kind: 'sign-out'; via: 'http' | 'event'; device: Device; user: User }
  | { kind: 'delete-account'; via: 'http' | 'event' | 'auth0'; user: User }
  | { kind: 'bulk-bind'; items: { device: Device; user: User }[] }
  | { kind: 'bulk-unbind'; platform: Platform; devices: Device[] }
  | { kind: 'bulk-delete'; users: User[] };

export interface OperationMix {
  operations: Operation[];
  model: BindingModel;
  invalidTokens: Set<string>;
  /** Invalid-token items of bulk requests that are always queued: the worker must dead-letter each. */
  mustDeadLetter: Set<string>;
}

const DEVICES_PER_PLATFORM = 250;
const INVALID_PER_PLATFORM = 2;
const USERS = 200;
/** Users from this index on use account type 1 (a custom type), the others the default 0. */
const FIRST_TYPED_USER = 160;
/** Bulks above one TPNS call's worth (20) per platform are always queued. */
const DIRECT_LIMIT = 20;

/**
 * The keys an operation holds (see scheduler.ts). Binding adds the account to a token: two binds
 * of one account to different tokens commute, a bind and a deletion of that account do not.
 * A sign-out (op 4 + op 3) and an account deletion (op 5) both only remove: they commute.
 */
export function keysOf(operation: Operation): Keys {
  const token = (device: Device) => `t:${device.token}`;
  const account = (user: User) => `a:${user.accountType}:${user.account}`;
  switch (operation.kind) {
    case 'sign-in':
      return { exclusive: [token(operation.device)], shared: [account(operation.user)] };
    case 'sign-out':
      return { exclusive: [token(operation.device)], shared: [] };
    case 'delete-account':
      return { exclusive: [account(operation.user)], shared: [] };
    case 'bulk-bind':
      return { exclusive: operation.items.map((item) => token(item.device)), shared: operation.items.map((item) => account(item.user)) };
    case 'bulk-unbind':
      return { exclusive: operation.devices.map(token), shared: [] };
    case 'bulk-delete':
      return { exclusive: operation.users.map(account), shared: [] };
  }
}

/** The same keys for a queued work message body (tokens and accounts it holds). */
export function keysOfMessage(body: string): string[] {
  const message = JSON.parse(body) as {
    items?: { token: string; account?: string; accountType?: number; accounts?: { account: string; accountType?: number }[] }[];
    tokens?: string[];
    accounts?: { account: string; accountType?: number }[];
  };
  const account = (ref: { account: string; accountType?: number }) => `a:${ref.accountType ?? 0}:${ref.account}`;
  return [
    ...(message.items ?? []).flatMap((item) => [
      `t:${item.token}`,
      ...(item.account === undefined ? [] : [account({ account: item.account, ...(item.accountType === undefined ? {} : { accountType: item.accountType }) })]),
      ...(item.accounts ?? []).map(account),
    ]),
    ...(message.tokens ?? []).map((token) => `t:${token}`),
    ...(message.accounts ?? []).map(account),
  ];
}

/** The same keys for a TPNS batchoperate body (ops 2-5), to see what a request still in flight will change. */
export function keysOfTpnsRequest(body: string): string[] {
  let request: {
    token_accounts?: { token: string; account_list?: { account: string; account_type?: number }[] }[];
    token_list?: string[];
    account_list?: { account: string; account_type?: number }[];
  };
  try {
    request = JSON.parse(body) as typeof request;
  } catch {
    return [];
  }
  const account = (ref: { account: string; account_type?: number }) => `a:${ref.account_type ?? 0}:${ref.account}`;
  return [
    ...(request.token_accounts ?? []).flatMap((entry) => [`t:${entry.token}`, ...(entry.account_list ?? []).map(account)]),
    ...(request.token_list ?? []).map((token) => `t:${token}`),
    ...(request.account_list ?? []).map(account),
  ];
}

function apply(model: BindingModel, operation: Operation): void {
  switch (operation.kind) {
    case 'sign-in':
      model.bind(operation.device.platform, operation.device.token, operation.user);
      return;
    case 'sign-out':
      // op 4 (every account leaves the token); the confirming op 3 changes nothing after it.
      model.unbindToken(operation.device.platform, operation.device.token);
      return;
    case 'delete-account':
      for (const platform of ['android', 'ios'] as const) model.deleteAccount(platform, operation.user);
      return;
    case 'bulk-bind':
      for (const { device, user } of operation.items) model.bind(device.platform, device.token, user);
      return;
    case 'bulk-unbind':
      for (const device of operation.devices) model.unbindToken(device.platform, device.token);
      return;
    case 'bulk-delete':
      for (const user of operation.users) for (const platform of ['android', 'ios'] as const) model.deleteAccount(platform, user);
      return;
  }
}

export function generateOperations(count: number, seed: number): OperationMix {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const between = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const sample = <T>(list: readonly T[], n: number): T[] => {
    const copy = [...list];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy.slice(0, n);
  };
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');

  const devices: Device[] = (['android', 'ios'] as const).flatMap((platform) =>
    Array.from({ length: DEVICES_PER_PLATFORM }, (_, i) => ({ token: `${platform[0]}${String(i).padStart(3, '0')}${hex(28)}`, platform })),
  );
  const invalidTokens = new Set(
    (['android', 'ios'] as const).flatMap((platform) =>
      devices.filter((device) => device.platform === platform).slice(0, INVALID_PER_PLATFORM).map((device) => device.token),
    ),
  );
  const users: User[] = Array.from({ length: USERS }, (_, i) => ({
    account: i % 4 === 0 ? `auth0|${hex(24)}` : `user-${String(i).padStart(3, '0')}@example.com`,
    accountType: i >= FIRST_TYPED_USER ? 1 : 0,
  }));
  const defaultTypeUsers = users.filter((user) => user.accountType === 0);
  const model = new BindingModel(invalidTokens);
  const mustDeadLetter = new Set<string>();
  const operations: Operation[] = [];

  for (let i = 0; i < count; i++) {
    const roll = random();
    let operation: Operation;
    if (roll < 0.5) {
      const via = pick(['http', 'http', 'event', 'cognito'] as const);
      operation = { kind: 'sign-in', via, device: pick(devices), user: via === 'cognito' ? pick(defaultTypeUsers) : pick(users) };
    } else if (roll < 0.8) {
      const device = pick(devices);
      // Usually the user currently signed in on the device signs out; sometimes a stale session does.
      const holder = model.state[device.platform].get(device.token)?.[0];
      const user = holder && random() < 0.8 ? holder : pick(users);
      operation = { kind: 'sign-out', via: pick(['http', 'http', 'event'] as const), device, user };
    } else if (roll < 0.935) {
      const user = pick(users);
      operation = { kind: 'delete-account', via: user.accountType === 0 ? pick(['http', 'event', 'auth0'] as const) : pick(['http', 'event'] as const), user };
    } else if (roll < 0.965) {
      operation = { kind: 'bulk-bind', items: sample(devices, between(5, 60)).map((device) => ({ device, user: pick(users) })) };
    } else if (roll < 0.985) {
      const platform = pick(['android', 'ios'] as const);
      operation = { kind: 'bulk-unbind', platform, devices: sample(devices.filter((d) => d.platform === platform), between(5, 50)) };
    } else {
      operation = { kind: 'bulk-delete', users: sample(users, between(2, 30)) };
    }
    for (const token of alwaysQueuedInvalidTokens(operation, invalidTokens)) mustDeadLetter.add(token);
    apply(model, operation);
    operations.push(operation);
  }
  return { operations, model, invalidTokens, mustDeadLetter };
}

/** Invalid tokens of a bulk whose work exceeds one TPNS call on some platform (so all of it is queued). */
function alwaysQueuedInvalidTokens(operation: Operation, invalid: ReadonlySet<string>): string[] {
  if (operation.kind === 'bulk-bind') {
    const perPlatform = (platform: Platform) => operation.items.filter((item) => item.device.platform === platform).length;
    if (perPlatform('android') <= DIRECT_LIMIT && perPlatform('ios') <= DIRECT_LIMIT) return [];
    return operation.items.map((item) => item.device.token).filter((token) => invalid.has(token));
  }
  if (operation.kind === 'bulk-unbind' && operation.devices.length > DIRECT_LIMIT) {
    return operation.devices.map((device) => device.token).filter((token) => invalid.has(token));
  }
  return [];
}
