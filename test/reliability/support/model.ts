/**
 * The adversarial test's reference model and its two figures (product spec, "Convergence").
 *
 * Accepted order is answer order. The driver (world.ts) starts an operation only after every
 * conflicting operation before it was answered, so for operations that conflict, start order,
 * answer order and the ledger's version order agree; operations that do not conflict commute.
 * The model therefore orders accepted operations by their answer (`answerSeq`) and computes:
 *
 * - the expected state of a (platform, token) after every accepted operation answered before a
 *   time `r` (or all of them): per account type, the last sign-in of the token, unless a sign-out
 *   of the token or a deletion of that account was answered after it;
 * - **G1**: (platform, token) pairs whose TPNS bindings differ from the final expected state;
 * - **G2**: TPNS write requests (batchoperate op 2, by `receivedAt`) that arrived after an
 *   operation was answered and bind what it superseded: an account on a token where, given every
 *   operation answered before the request arrived, it is no longer expected (handed over, signed
 *   out, the account deleted), and no sign-in of exactly that binding was under way (started and
 *   not yet answered) when the request arrived.
 *
 * It also counts, for investigation: binds of a binding no accepted operation ever asked for
 * (a refused request's intent), and stale removals (op 3/4/5 arriving after an answered sign-in
 * and removing what it bound, with no removal of it under way).
 *
 * A refused operation may still take effect: one answered 503 (or an event that threw) may have
 * been recorded by the ledger first, and the ledger is what TPNS is reconciled to (docs/
 * reliability.md, residual window 4). Such an operation (`maybeRecorded`) takes its place in
 * answer order if it took effect. Every check first asks the accepted operations alone; what
 * they do not explain it asks again of variants with some of the maybe-recorded operations on
 * the token applied (the last MAX_MAYBE_PER_CHECK, every subset). Each check picks its own
 * variant: a bound looser than one reading for the whole run, never looser than "accepted or
 * maybe". An operation refused without a 503 (a 4xx) never takes effect. Tests that hold a
 * refusal to "no effect" check TPNS's requests themselves (adversarial-scenarios.test.ts).
 *
 * Ties at millisecond resolution (TPNS's `receivedAt` is Date.now()) count in the product's favour.
 */
import type { RequestLogEntry } from '../../../local/tpns-emulator/index.js';

export type Platform = 'android' | 'ios';
export const PLATFORMS: readonly Platform[] = ['android', 'ios'];

export interface AccountKey {
  account: string;
  accountType: number;
}

export interface Device {
  platform: Platform;
  token: string;
}

export type OpSpec =
  | { kind: 'sign-in'; via: 'http' | 'event'; device: Device; user: AccountKey }
  | { kind: 'sign-out'; via: 'http' | 'event'; device: Device; user: AccountKey }
  | { kind: 'delete'; via: 'http' | 'event'; user: AccountKey }
  | { kind: 'bulk-bind'; items: { device: Device; user: AccountKey }[] }
  | { kind: 'bulk-unbind'; platform: Platform; tokens: string[] }
  | { kind: 'bulk-delete'; users: AccountKey[] };

export interface OpRecord {
  id: number;
  spec: OpSpec;
  actor: string;
  /** Date.now() before the first attempt. */
  startedAt: number;
  /** Date.now() when the last attempt was answered (accepted or finally refused); undefined while running. */
  answeredAt?: number;
  /** Position in answer order (accepted and refused operations). */
  answerSeq?: number;
  status: 'running' | 'accepted' | 'refused';
  /** HTTP status (or `event`/`thrown`) of every attempt. */
  attempts: string[];
  /** An attempt answered 503 or threw, so the ledger may have recorded it (window 4: the queue failing after the write, a lost answer, a bulk recorded in part). */
  maybeRecorded?: boolean;
}

/** Refused, but maybe recorded: it may or may not take effect. */
export const maybeApplied = (record: OpRecord) => record.status === 'refused' && record.maybeRecorded === true;

/** Maybe-recorded operations a check tries in every combination (2^n variants, cached). */
const MAX_MAYBE_PER_CHECK = 6;

/** Started at or before `r` and not answered before it. */
const underWayAt = (record: OpRecord, r: number) => record.startedAt <= r && (record.answeredAt === undefined || record.answeredAt >= r);

const tokenId = (platform: string, token: string) => `${platform}\u0000${token}`;
const accountId = ({ account, accountType }: AccountKey) => `${accountType}\u0000${account}`;
const bindingId = (platform: string, token: string, key: AccountKey) => `${tokenId(platform, token)}\u0000${accountId(key)}`;

interface Stamp {
  seq: number;
  at: number;
}
interface SignInStamp extends Stamp {
  account: string;
}

/** What one accepted operation did, in model terms. */
function effects(spec: OpSpec): { signIns: { device: Device; user: AccountKey }[]; signOuts: Device[]; deletions: AccountKey[] } {
  switch (spec.kind) {
    case 'sign-in':
      return { signIns: [{ device: spec.device, user: spec.user }], signOuts: [], deletions: [] };
    case 'sign-out':
      return { signIns: [], signOuts: [spec.device], deletions: [] };
    case 'delete':
      return { signIns: [], signOuts: [], deletions: [spec.user] };
    case 'bulk-bind':
      return { signIns: spec.items, signOuts: [], deletions: [] };
    case 'bulk-unbind':
      return { signIns: [], signOuts: spec.tokens.map((token) => ({ platform: spec.platform, token })), deletions: [] };
    case 'bulk-delete':
      return { signIns: [], signOuts: [], deletions: spec.users };
  }
}

/** The last stamp with `at < r` in a list sorted by seq (and so by at): a binary search, long runs have long lists. */
function lastBefore<T extends Stamp>(list: readonly T[] | undefined, r: number): T | undefined {
  if (!list || list.length === 0) return undefined;
  if (r === Infinity) return list.at(-1);
  let low = 0;
  let high = list.length; // the first index with at >= r
  while (low < high) {
    const middle = (low + high) >> 1;
    if (list[middle]!.at < r) low = middle + 1;
    else high = middle;
  }
  return low > 0 ? list[low - 1] : undefined;
}

const push = <K, V>(map: Map<K, V[]>, key: K, value: V) => {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
};

export interface G2Violation {
  kind: 'superseded' | 'erased' | 'unaccepted' | 'stale-removal';
  platform: string;
  token?: string;
  account?: string;
  accountType?: number;
  operatorType: number;
  receivedAt: number;
  seq: number;
  fault?: string;
}

/** Counts of G2 and its companions are of TPNS write requests; `violations` lists every binding involved. */
export interface Figures {
  g1: number;
  g2: number;
  /** Requests binding what no accepted operation asked for (refused requests' intents). */
  unacceptedBinds: number;
  /** Requests removing what an operation answered before them bound (op 3/4/5), with no removal of it under way. */
  staleRemovals: number;
  /** Tokens whose final state only a refused, maybe-recorded operation taking effect explains. */
  maybeApplied: number;
  mismatches: { platform: string; token: string; expected: string[]; actual: string[] }[];
  violations: G2Violation[];
  /** TPNS write requests examined. */
  writes: number;
}

export class Model {
  /** (platform, token, type) -> accepted sign-ins in answer order. */
  readonly #signIns = new Map<string, SignInStamp[]>();
  /** (platform, token) -> accepted sign-outs. */
  readonly #signOuts = new Map<string, Stamp[]>();
  /** account -> accepted deletions. */
  readonly #deletions = new Map<string, Stamp[]>();
  /** (platform, token) -> the account types ever signed in on it. */
  readonly #types = new Map<string, Set<number>>();
  /** (platform, token, account) -> accepted sign-ins of exactly that binding. */
  readonly #bindings = new Map<string, Stamp[]>();
  /** (platform, token, account) -> refused, maybe-recorded sign-ins of exactly that binding. */
  readonly #maybeBindings = new Map<string, Stamp[]>();
  /** Refused, maybe-recorded operations in answer order, and the variants with some of them applied. */
  readonly #records: readonly OpRecord[];
  readonly #maybe: OpRecord[];
  readonly #variants = new Map<string, Model>();
  /** (platform, token) -> the accounts any operation asked to bind on it. */
  readonly #askedOn = new Map<string, Set<string>>();
  /** Every operation (accepted, refused, running), indexed for the "under way" checks. */
  readonly #flightBind = new Map<string, OpRecord[]>();
  readonly #flightSignIn = new Map<string, { record: OpRecord; user: AccountKey }[]>();
  readonly #flightSignOut = new Map<string, OpRecord[]>();
  readonly #flightDelete = new Map<string, OpRecord[]>();
  readonly tokens = new Set<string>();
  readonly devices: Device[] = [];
  readonly accounts = new Map<string, AccountKey>();

  /** `applied`: ids of maybe-recorded operations to count as taken effect (a variant). */
  constructor(records: readonly OpRecord[], applied: ReadonlySet<number> = new Set()) {
    this.#records = records;
    const byAnswer = (a: OpRecord, b: OpRecord) => a.answerSeq! - b.answerSeq!;
    this.#maybe = records.filter(maybeApplied).sort(byAnswer);
    const accepted = records.filter((record) => record.status === 'accepted' || (applied.has(record.id) && maybeApplied(record))).sort(byAnswer);
    for (const record of records) {
      const { signIns, signOuts, deletions } = effects(record.spec);
      for (const device of [...signIns.map((item) => item.device), ...signOuts]) this.#noteDevice(device);
      for (const { device, user } of signIns) {
        this.accounts.set(accountId(user), user);
        push(this.#flightBind, bindingId(device.platform, device.token, user), record);
        push(this.#flightSignIn, tokenId(device.platform, device.token), { record, user });
        const asked = this.#askedOn.get(tokenId(device.platform, device.token)) ?? new Set<string>();
        this.#askedOn.set(tokenId(device.platform, device.token), asked.add(accountId(user)));
      }
      for (const device of signOuts) push(this.#flightSignOut, tokenId(device.platform, device.token), record);
      for (const user of deletions) {
        this.accounts.set(accountId(user), user);
        push(this.#flightDelete, accountId(user), record);
      }
    }
    for (const record of this.#maybe) {
      for (const { device, user } of effects(record.spec).signIns) {
        push(this.#maybeBindings, bindingId(device.platform, device.token, user), { seq: record.answerSeq!, at: record.answeredAt! });
      }
    }
    for (const record of accepted) {
      const stamp = { seq: record.answerSeq!, at: record.answeredAt! };
      const { signIns, signOuts, deletions } = effects(record.spec);
      for (const { device, user } of signIns) {
        push(this.#signIns, `${tokenId(device.platform, device.token)}\u0000${user.accountType}`, { ...stamp, account: user.account });
        const types = this.#types.get(tokenId(device.platform, device.token)) ?? new Set<number>();
        this.#types.set(tokenId(device.platform, device.token), types.add(user.accountType));
        push(this.#bindings, bindingId(device.platform, device.token, user), stamp);
      }
      for (const device of signOuts) push(this.#signOuts, tokenId(device.platform, device.token), stamp);
      for (const user of deletions) push(this.#deletions, accountId(user), stamp);
    }
  }

  /** The last MAX_MAYBE_PER_CHECK maybe-recorded operations answered before `r` that touch the token (or an account asked on it). */
  #maybeOn(platform: string, token: string, r: number): OpRecord[] {
    const asked = this.#askedOn.get(tokenId(platform, token)) ?? new Set<string>();
    const touches = (record: OpRecord) => {
      const { signIns, signOuts, deletions } = effects(record.spec);
      const here = (device: Device) => device.platform === platform && device.token === token;
      return signIns.some((item) => here(item.device)) || signOuts.some(here) || deletions.some((user) => asked.has(accountId(user)));
    };
    return this.#maybe.filter((record) => record.answeredAt! < r && touches(record)).slice(-MAX_MAYBE_PER_CHECK);
  }

  /** Whether some variant with a non-empty subset of `candidates` applied makes `holds` true. */
  #explainedByMaybe(candidates: readonly OpRecord[], holds: (variant: Model) => boolean): boolean {
    for (let mask = 1; mask < 1 << candidates.length; mask++) {
      const ids = candidates.filter((_, index) => mask & (1 << index)).map((record) => record.id);
      const key = ids.join(',');
      let variant = this.#variants.get(key);
      if (!variant) {
        variant = new Model(this.#records, new Set(ids));
        this.#variants.set(key, variant);
      }
      if (holds(variant)) return true;
    }
    return false;
  }

  #noteDevice(device: Device) {
    const id = tokenId(device.platform, device.token);
    if (this.tokens.has(id)) return;
    this.tokens.add(id);
    this.devices.push(device);
  }

  /** Expected bindings of a token given the accepted operations answered before `r` (default: all). */
  expected(platform: string, token: string, r = Infinity): AccountKey[] {
    const result: AccountKey[] = [];
    const clear = lastBefore(this.#signOuts.get(tokenId(platform, token)), r);
    for (const accountType of this.#types.get(tokenId(platform, token)) ?? []) {
      const signIn = lastBefore(this.#signIns.get(`${tokenId(platform, token)}\u0000${accountType}`), r);
      if (!signIn || (clear && clear.seq > signIn.seq)) continue;
      const deletion = lastBefore(this.#deletions.get(accountId({ account: signIn.account, accountType })), r);
      if (deletion && deletion.seq > signIn.seq) continue;
      result.push({ account: signIn.account, accountType });
    }
    return result;
  }


  /** Accounts deleted (last accepted deletion after every accepted or maybe-recorded sign-in of them). */
  erased(): AccountKey[] {
    const result: AccountKey[] = [];
    const signIns = [...this.#bindings.entries(), ...this.#maybeBindings.entries()];
    for (const [id, deletions] of this.#deletions) {
      const last = deletions.at(-1)!;
      const key = this.accounts.get(id) ?? { account: id.split('\u0000')[1]!, accountType: Number(id.split('\u0000')[0]) };
      const signedInAfter = signIns.some(([binding, stamps]) => binding.endsWith(`\u0000${id}`) && stamps.some((stamp) => stamp.seq > last.seq));
      if (!signedInAfter) result.push(key);
    }
    return result;
  }

  /** Every account with an accepted deletion. */
  deleted(): AccountKey[] {
    return [...this.#deletions.keys()].map((id) => this.accounts.get(id) ?? { account: id.split('\u0000')[1]!, accountType: Number(id.split('\u0000')[0]) });
  }

  figures(actual: (platform: Platform, token: string) => AccountKey[], tpnsTokens: readonly Device[], requests: readonly RequestLogEntry[], scope?: { tokens: Set<string>; accounts: Set<string> }): Figures {
    const show = (keys: readonly AccountKey[]) => keys.map((key) => `${key.accountType}:${key.account}`).sort();
    const mismatches: Figures['mismatches'] = [];
    let explainedByMaybe = 0;
    const holdsKey = (keys: readonly AccountKey[], key: AccountKey) => keys.some((held) => held.account === key.account && held.accountType === key.accountType);
    const devices = new Map(this.devices.map((device) => [tokenId(device.platform, device.token), device]));
    for (const device of tpnsTokens) {
      if (!scope || scope.tokens.has(tokenId(device.platform, device.token))) devices.set(tokenId(device.platform, device.token), device);
    }
    for (const { platform, token } of devices.values()) {
      const expected = show(this.expected(platform, token));
      const held = show(actual(platform, token));
      if (JSON.stringify(expected) === JSON.stringify(held)) continue;
      if (this.#explainedByMaybe(this.#maybeOn(platform, token, Infinity), (variant) => JSON.stringify(show(variant.expected(platform, token))) === JSON.stringify(held))) {
        explainedByMaybe += 1;
        continue;
      }
      mismatches.push({ platform, token, expected, actual: held });
    }

    const violations: G2Violation[] = [];
    let writes = 0;
    const inScope = (platform: string, token?: string, account?: AccountKey) =>
      !scope || (token !== undefined && scope.tokens.has(tokenId(platform, token))) || (account !== undefined && scope.accounts.has(accountId(account)));
    for (const entry of requests) {
      if (!entry.path.endsWith('batchoperate') || !entry.requested || !entry.platform || entry.operatorType === undefined) continue;
      const { platform, receivedAt: r, operatorType } = entry;
      const base = { platform, operatorType, receivedAt: r, seq: entry.seq, ...(entry.fault ? { fault: entry.fault } : {}) };
      let counted = false;
      for (const item of entry.requested) {
        if ('token' in item) {
          const token = item.token;
          const accounts = item.accounts ?? [];
          if (operatorType === 2) {
            for (const key of accounts) {
              if (!inScope(platform, token, key)) continue;
              counted = true;
              if (this.expected(platform, token, r).some((held) => held.account === key.account && held.accountType === key.accountType)) continue;
              const underWay = (this.#flightBind.get(bindingId(platform, token, key)) ?? []).some((record) => underWayAt(record, r));
              if (underWay) continue;
              if (this.#explainedByMaybe(this.#maybeOn(platform, token, r), (variant) => holdsKey(variant.expected(platform, token, r), key))) continue;
              // The latest sign-in that asked for this binding, accepted or maybe recorded.
              const everBound = [lastBefore(this.#bindings.get(bindingId(platform, token, key)), r), lastBefore(this.#maybeBindings.get(bindingId(platform, token, key)), r)]
                .filter((stamp) => stamp !== undefined)
                .sort((a, b) => b.seq - a.seq)[0];
              const deletion = lastBefore(this.#deletions.get(accountId(key)), r);
              const kind = deletion && (!everBound || deletion.seq > everBound.seq) ? 'erased' : everBound ? 'superseded' : 'unaccepted';
              violations.push({ ...base, kind, token, account: key.account, accountType: key.accountType });
            }
          } else if (operatorType === 3 || operatorType === 4) {
            if (!inScope(platform, token, accounts[0])) continue;
            counted = true;
            const expected = this.expected(platform, token, r);
            const removed = operatorType === 4 ? expected : expected.filter((held) => accounts.some((key) => key.account === held.account && key.accountType === held.accountType));
            for (const key of removed) {
              const underWay =
                (this.#flightSignOut.get(tokenId(platform, token)) ?? []).some((record) => underWayAt(record, r)) ||
                (this.#flightDelete.get(accountId(key)) ?? []).some((record) => underWayAt(record, r)) ||
                (this.#flightSignIn.get(tokenId(platform, token)) ?? []).some(
                  ({ record, user }) => underWayAt(record, r) && user.accountType === key.accountType && user.account !== key.account,
                );
              if (underWay) continue;
              if (this.#explainedByMaybe(this.#maybeOn(platform, token, r), (variant) => !holdsKey(variant.expected(platform, token, r), key))) continue;
              violations.push({ ...base, kind: 'stale-removal', token, account: key.account, accountType: key.accountType });
            }
          }
        } else if (operatorType === 5) {
          const key = item;
          if (!inScope(platform, undefined, key)) continue;
          counted = true;
          const underWay = (this.#flightDelete.get(accountId(key)) ?? []).some((record) => underWayAt(record, r));
          if (underWay) continue;
          for (const device of this.devices) {
            if (device.platform !== platform) continue;
            if (holdsKey(this.expected(platform, device.token, r), key)) {
              if (this.#explainedByMaybe(this.#maybeOn(platform, device.token, r), (variant) => !holdsKey(variant.expected(platform, device.token, r), key))) continue;
              violations.push({ ...base, kind: 'stale-removal', token: device.token, account: key.account, accountType: key.accountType });
            }
          }
        }
      }
      if (counted) writes += 1;
    }
    // Per TPNS write request (one request carries up to 20 tokens' bindings).
    const count = (...kinds: G2Violation['kind'][]) => new Set(violations.filter((violation) => kinds.includes(violation.kind)).map((violation) => violation.seq)).size;
    return {
      g1: mismatches.length,
      g2: count('superseded', 'erased'),
      unacceptedBinds: count('unaccepted'),
      staleRemovals: count('stale-removal'),
      maybeApplied: explainedByMaybe,
      mismatches,
      violations,
      writes,
    };
  }
}

export const scopeOf = (devices: readonly Device[], accounts: readonly AccountKey[]) => ({
  tokens: new Set(devices.map((device) => tokenId(device.platform, device.token))),
  accounts: new Set(accounts.map(accountId)),
});
