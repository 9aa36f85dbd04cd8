/** One TPNS operation over the items of several messages of one kind. */
import type { WorkMessage } from '../queue/messages.js';
import type { CallOptions, OperationResult, TpnsAccountApi } from '../tpns/types.js';

type MessageOf<K extends WorkMessage['kind']> = Extract<WorkMessage, { kind: K }>;

/**
 * One client operation over every item of `messages` (same kind and platform), in message
 * order: the client splits it into TPNS-sized calls, so N single-token messages cost
 * ceil(N / 20) calls. Outcomes come back in the same flat order.
 */
export function applyTogether(tpns: TpnsAccountApi, messages: readonly WorkMessage[], options: CallOptions): Promise<OperationResult> {
  const [first] = messages;
  if (!first) throw new Error('applyTogether needs at least one message');
  const all = <K extends WorkMessage['kind']>(_kind: K) => messages as readonly MessageOf<K>[];
  switch (first.kind) {
    case 'bind':
      return tpns.bind(first.platform, all('bind').flatMap((m) => m.items), options);
    case 'remove-accounts':
      return tpns.removeAccounts(first.platform, all('remove-accounts').flatMap((m) => m.items), options);
    case 'unbind-tokens':
      return tpns.unbindTokens(first.platform, all('unbind-tokens').flatMap((m) => m.tokens), options);
    case 'delete-accounts':
      return tpns.deleteAccounts(first.platform, all('delete-accounts').flatMap((m) => m.accounts), options);
  }
}
