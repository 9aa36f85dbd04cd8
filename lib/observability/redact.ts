/**
 * Device tokens address a person's phone: logs carry a short, stable hash instead, enough to
 * follow one device through the logs without being able to push to it.
 */
import { createHash } from 'node:crypto';

export function redactToken(token: string): string {
  return `tok_${createHash('sha256').update(token).digest('hex').slice(0, 12)}`;
}
