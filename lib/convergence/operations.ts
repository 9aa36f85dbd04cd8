/**
 * The one table of per-kind behaviour: how ops of one kind, coalesced across keys, become one
 * client operation (which the client splits into TPNS-sized calls: 20 tokens for ops 2-3, the
 * configured chunk for ops 4-5). Outcomes come back per op, in input order.
 */
import type { CallOptions, ItemOutcome, OperationResult, Platform, TpnsAccountApi } from '../tpns/types.js';
import type { OpKind, TpnsOp } from './rule.js';

type OpOf<K extends OpKind> = Extract<TpnsOp, { kind: K }>;

interface KindRule<K extends OpKind> {
  /** TPNS operator type, for logs and metrics. */
  operatorType: number;
  call(tpns: TpnsAccountApi, platform: Platform, ops: readonly OpOf<K>[], options: CallOptions): Promise<OperationResult>;
}

export const OPERATIONS: { readonly [K in OpKind]: KindRule<K> } = {
  bind: {
    operatorType: 2,
    call: (tpns, platform, ops, options) =>
      tpns.bind(platform, ops.map(({ token, account }) => ({ token, ...account })), options),
  },
  remove: {
    operatorType: 3,
    call: (tpns, platform, ops, options) => tpns.removeAccounts(platform, ops.map(({ token, accounts }) => ({ token, accounts })), options),
  },
  unbind: {
    operatorType: 4,
    call: (tpns, platform, ops, options) => tpns.unbindTokens(platform, ops.map(({ token }) => token), options),
  },
  delete: {
    operatorType: 5,
    call: (tpns, platform, ops, options) => tpns.deleteAccounts(platform, ops.map(({ account }) => account), options),
  },
};

/** An op to send, and whose it is (the key it reconciles). */
export interface PlannedOp<O = string> {
  owner: O;
  platform: Platform;
  op: TpnsOp;
}

export interface OpOutcome<O = string> extends PlannedOp<O> {
  outcome: ItemOutcome;
}

/** Ops of one (platform, kind), in order. */
function groups<O>(planned: readonly PlannedOp<O>[]): PlannedOp<O>[][] {
  const byGroup = new Map<string, PlannedOp<O>[]>();
  for (const item of planned) {
    const group = `${item.platform}/${item.op.kind}`;
    byGroup.set(group, [...(byGroup.get(group) ?? []), item]);
  }
  return [...byGroup.values()];
}

/**
 * Sends every planned op, one client operation per (platform, kind), all at once: ops of
 * different kinds never touch the same (token, account type) in one plan, so they commute.
 */
export async function sendOps<O>(tpns: TpnsAccountApi, planned: readonly PlannedOp<O>[], options: CallOptions): Promise<OpOutcome<O>[]> {
  const results = await Promise.all(
    groups(planned).map(async (group) => {
      const first = group[0] as PlannedOp<O>;
      const rule = OPERATIONS[first.op.kind] as KindRule<OpKind>;
      const result = await rule.call(tpns, first.platform, group.map((item) => item.op), options);
      return group.map((item, index): OpOutcome<O> => {
        const outcome = result.outcomes[index];
        if (!outcome) throw new Error(`TPNS client returned no outcome for item ${index}`);
        return { ...item, outcome };
      });
    }),
  );
  return results.flat();
}
