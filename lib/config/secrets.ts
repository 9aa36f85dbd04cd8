/**
 * Deployed functions keep the TPNS SecretKeys in SSM SecureString parameters (named by
 * TPNS_<PLATFORM>_SECRET_KEY_PARAM), never in plain Lambda environment variables. This resolves
 * them (and ERASURE_KEY_PARAM, the HMAC key of erasure tombstones) into the plain
 * TPNS_<PLATFORM>_SECRET_KEY / ERASURE_KEY variables the code reads, so local runs
 * (plain variables) and deployed runs (parameters) share one code path.
 */
import { PLATFORMS } from '../tpns/types.js';
import { sdkErrorReason } from './sdk-error.js';
import type { Platform } from '../tpns/types.js';

/** A secret parameter could not be read; the message names the parameter, never its value. */
export class SecretParameterError extends Error {
  override name = 'SecretParameterError';
}

const envPrefix = (platform: Platform): string => `TPNS_${platform.toUpperCase()}`;

/**
 * Returns `env` with TPNS_*_SECRET_KEY filled from SSM for every platform that has an AccessId
 * and a `_SECRET_KEY_PARAM` but no plain key. A platform without an AccessId is not configured,
 * so its parameter is not read (it may not exist).
 */
export async function resolveSecretKeys(env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  const wanted = PLATFORMS.flatMap((platform) => {
    const prefix = envPrefix(platform);
    const parameterName = env[`${prefix}_SECRET_KEY_PARAM`];
    // Blank counts as absent, as loadConfig reads it: a stray space must not skip the parameter.
    const needed = Boolean(env[`${prefix}_ACCESS_ID`]?.trim()) && !env[`${prefix}_SECRET_KEY`]?.trim() && Boolean(parameterName?.trim());
    return needed && parameterName ? [{ variable: `${prefix}_SECRET_KEY`, parameterName }] : [];
  });
  // The HMAC key of erasure tombstones: ERASURE_KEY_PARAM deployed, ERASURE_KEY (plain) locally.
  if (!env.ERASURE_KEY?.trim() && env.ERASURE_KEY_PARAM?.trim()) wanted.push({ variable: 'ERASURE_KEY', parameterName: env.ERASURE_KEY_PARAM });
  if (wanted.length === 0) return env;

  // Imported lazily: only a cold start that really reads parameters pays for the SSM client.
  const { SSMClient, GetParameterCommand } = await import('@aws-sdk/client-ssm');
  const ssm = new SSMClient({
    ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
    ...(env.AWS_ENDPOINT_URL_SSM ? { endpoint: env.AWS_ENDPOINT_URL_SSM } : {}),
  });
  try {
    const values = await Promise.all(
      wanted.map(async ({ variable, parameterName }) => {
        try {
          const answer = await ssm.send(new GetParameterCommand({ Name: parameterName, WithDecryption: true }));
          const value = answer.Parameter?.Value;
          if (!value) throw new SecretParameterError(`SSM parameter ${parameterName} has no value`);
          return [variable, value] as const;
        } catch (error) {
          if (error instanceof SecretParameterError) throw error;
          throw new SecretParameterError(`Cannot read SSM parameter ${parameterName}: ${sdkErrorReason(error)}`, { cause: error });
        }
      }),
    );
    return { ...env, ...Object.fromEntries(values) };
  } finally {
    ssm.destroy();
  }
}
