/**
 * Route selection as API Gateway HTTP APIs do it: `{name}` matches one path segment, `{name+}`
 * the rest of the path, `ANY`/`*` any method, and the most specific route wins (fewer
 * parameters first, greedy last).
 *
 * Why hand-written: serverless-offline cannot host this HTTP API (JWT authorizer crash, `!Ref` left unresolved) (docs/architecture.md, "Why local/ is hand-written").
 */
import type { HttpApiRoute } from '../serverless-config.js';

export type { HttpApiRoute };

export interface RouteMatch {
  route: HttpApiRoute;
  /** `PUT /v1/me/devices/{token}`, as API Gateway writes it into the event. */
  routeKey: string;
  /** URL-decoded values by parameter name. */
  pathParameters: Record<string, string>;
}

interface Segment {
  literal?: string;
  param?: string;
  greedy?: boolean;
}

function parseTemplate(path: string): Segment[] {
  return path
    .split('/')
    .filter(Boolean)
    .map((part) => {
      const param = /^\{([^{}+]+)(\+?)\}$/.exec(part);
      if (!param) return { literal: part };
      return { param: param[1] ?? '', greedy: param[2] === '+' };
    });
}

function matchSegments(template: Segment[], parts: string[]): Record<string, string> | undefined {
  const parameters: Record<string, string> = {};
  for (const [index, segment] of template.entries()) {
    if (segment.greedy) {
      if (index >= parts.length) return undefined;
      parameters[segment.param ?? ''] = parts.slice(index).map(decodeURIComponent).join('/');
      return parameters;
    }
    const part = parts[index];
    if (part === undefined) return undefined;
    if (segment.literal !== undefined && segment.literal !== part) return undefined;
    if (segment.param !== undefined) parameters[segment.param] = decodeURIComponent(part);
  }
  return template.length === parts.length ? parameters : undefined;
}

const isAnyMethod = (method: string) => method === '*' || method === 'ANY';

function specificity(route: HttpApiRoute): number {
  const template = parseTemplate(route.path);
  const params = template.filter((segment) => segment.param !== undefined).length;
  const greedy = template.some((segment) => segment.greedy) ? 1_000 : 0;
  return greedy + params * 10 + (isAnyMethod(route.method) ? 1 : 0);
}

/** The route for `method` + `rawPath`, or undefined (API Gateway answers 404 then). */
export function matchRoute(routes: readonly HttpApiRoute[], method: string, rawPath: string): RouteMatch | undefined {
  let parts: string[];
  try {
    parts = rawPath.split('/').filter(Boolean);
    parts.forEach((part) => decodeURIComponent(part));
  } catch {
    return undefined; // a malformed %-escape matches nothing
  }
  const candidates = routes
    .filter((route) => isAnyMethod(route.method) || route.method.toUpperCase() === method.toUpperCase())
    .map((route) => ({ route, pathParameters: matchSegments(parseTemplate(route.path), parts) }))
    .filter((candidate) => candidate.pathParameters !== undefined)
    .sort((a, b) => specificity(a.route) - specificity(b.route));
  const best = candidates[0];
  if (!best?.pathParameters) return undefined;
  const routeKey = `${isAnyMethod(best.route.method) ? 'ANY' : best.route.method.toUpperCase()} ${best.route.path}`;
  return { route: best.route, routeKey, pathParameters: best.pathParameters };
}
