/** The function set's own settings (everything that is not TPNS credentials), from env. */
export interface Settings {
  /** JWT claim holding the account (product spec: default `sub`). */
  accountClaim: string;
  /** OAuth scope the `/v1/admin/*` routes require (default `tpns/admin`). */
  adminScope: string;
  queueUrl?: string;
  dlqUrl?: string;
}

export const DEFAULT_ACCOUNT_CLAIM = 'sub';
export const DEFAULT_ADMIN_SCOPE = 'tpns/admin';

export function settingsFromEnv(env: NodeJS.ProcessEnv): Settings {
  return {
    accountClaim: env.ACCOUNT_CLAIM || DEFAULT_ACCOUNT_CLAIM,
    adminScope: env.ADMIN_SCOPE || DEFAULT_ADMIN_SCOPE,
    ...(env.BINDING_QUEUE_URL ? { queueUrl: env.BINDING_QUEUE_URL } : {}),
    ...(env.BINDING_DLQ_URL ? { dlqUrl: env.BINDING_DLQ_URL } : {}),
  };
}
