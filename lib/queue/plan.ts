/**
 * Splits accepted work into SQS FIFO messages: at most one TPNS call's worth of items each, a
 * message group that orders what must be ordered, and a deduplication id that makes a re-sent
 * request (same correlation id) land once.
 */
import { createHash } from 'node:crypto';
import type { AccountRef, Binding, Platform, TokenAccounts } from '../tpns/types.js';
import { MAX_ITEMS_PER_MESSAGE } from './messages.js';
import type { QueuedWork, WorkMessage } from './messages.js';

export type WorkInput =
  | { kind: 'bind'; platform: Platform; items: Binding[] }
  | { kind: 'remove-accounts'; platform: Platform; items: TokenAccounts[] }
  | { kind: 'unbind-tokens'; platform: Platform; tokens: string[] }
  | { kind: 'delete-accounts'; platform: Platform; accounts: AccountRef[] };

export interface PlanMeta {
  /** Carried into every message (API request id, EventBridge event id...). */
  correlationId: string;
  /** ISO-8601; default now. */
  acceptedAt?: string;
}

/** SQS: MessageGroupId and MessageDeduplicationId are 1-128 characters of printable ASCII. */
const MAX_SQS_ID_LENGTH = 128;
const SQS_ID_PATTERN = /^[\x21-\x7E]+$/;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** `prefix + value` when SQS accepts it as an id, else `prefix + #sha256(value)` (still stable). */
function sqsId(prefix: string, value: string, reserve = 0): string {
  const id = `${prefix}${value}`;
  return id.length + reserve <= MAX_SQS_ID_LENGTH && SQS_ID_PATTERN.test(id) ? id : `${prefix}#${sha256(value)}`;
}

/** An account's group: hashed, because accounts may be e-mail addresses or phone numbers. */
export function accountGroupId(ref: AccountRef): string {
  return `a:${sha256(`${ref.accountType ?? 0}\u0000${ref.account}`).slice(0, 32)}`;
}

export function tokenGroupId(token: string): string {
  return sqsId('t:', token);
}

function chunk<T>(items: readonly T[]): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += MAX_ITEMS_PER_MESSAGE) {
    chunks.push(items.slice(start, start + MAX_ITEMS_PER_MESSAGE));
  }
  return chunks;
}

type Envelope = Pick<WorkMessage, 'v' | 'platform' | 'correlationId' | 'acceptedAt'>;

/** The message of one chunk and the group a single-item chunk belongs to. */
function chunkMessages(input: WorkInput, envelope: Envelope): { message: WorkMessage; singleGroup: string }[] {
  switch (input.kind) {
    case 'bind':
      return chunk(input.items).map((items) => ({
        message: { ...envelope, kind: 'bind', items },
        singleGroup: tokenGroupId(items[0]!.token),
      }));
    case 'remove-accounts':
      return chunk(input.items).map((items) => ({
        message: { ...envelope, kind: 'remove-accounts', items },
        singleGroup: tokenGroupId(items[0]!.token),
      }));
    case 'unbind-tokens':
      return chunk(input.tokens).map((tokens) => ({
        message: { ...envelope, kind: 'unbind-tokens', tokens },
        singleGroup: tokenGroupId(tokens[0]!),
      }));
    case 'delete-accounts':
      return chunk(input.accounts).map((accounts) => ({
        message: { ...envelope, kind: 'delete-accounts', accounts },
        singleGroup: accountGroupId(accounts[0]!),
      }));
  }
}

/** Items of accepted work or of one message (tokens, token entries or accounts). */
export function itemCount(work: WorkInput | WorkMessage): number {
  switch (work.kind) {
    case 'bind':
    case 'remove-accounts':
      return work.items.length;
    case 'unbind-tokens':
      return work.tokens.length;
    case 'delete-accounts':
      return work.accounts.length;
  }
}

/** The same work or message holding only the items at `indexes`, in their original order. */
export function keepItems(work: WorkMessage, indexes: Iterable<number>): WorkMessage;
export function keepItems(work: WorkInput, indexes: Iterable<number>): WorkInput;
export function keepItems(work: WorkInput | WorkMessage, indexes: Iterable<number>): WorkInput | WorkMessage {
  const keep = new Set(indexes);
  const pick = <T>(items: readonly T[]): T[] => items.filter((_, index) => keep.has(index));
  switch (work.kind) {
    case 'bind':
      return { ...work, items: pick(work.items) };
    case 'remove-accounts':
      return { ...work, items: pick(work.items) };
    case 'unbind-tokens':
      return { ...work, tokens: pick(work.tokens) };
    case 'delete-accounts':
      return { ...work, accounts: pick(work.accounts) };
  }
}

/**
 * Group: a single token -> `t:<token>`; a single account -> `a:<hash>`; a multi-item chunk ->
 * `c:<correlationId>:<n>`. Dedup id: sha256 of correlation id, kind, platform, chunk index and
 * content (not `acceptedAt`, so a retried request deduplicates).
 */
export function planWork(input: WorkInput, meta: PlanMeta): QueuedWork[] {
  const envelope: Envelope = {
    v: 1,
    platform: input.platform,
    correlationId: meta.correlationId,
    acceptedAt: meta.acceptedAt ?? new Date().toISOString(),
  };
  const chunkPrefix = sqsId('c:', meta.correlationId, ':99999'.length);
  return chunkMessages(input, envelope).map(({ message, singleGroup }, index) => {
    const { acceptedAt: _acceptedAt, ...content } = message;
    return {
      message,
      groupId: itemCount(message) === 1 ? singleGroup : `${chunkPrefix}:${index}`,
      // `content` holds the correlation id, kind, platform and items.
      deduplicationId: sha256(JSON.stringify([index, content])),
    };
  });
}
