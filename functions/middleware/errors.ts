/** HTTP-level refusals raised by the middleware; the error handler turns them into answers. */

/** No verified JWT, or it lacks the account claim. */
export class UnauthorizedError extends Error {
  override name = 'UnauthorizedError';
}

/** Authenticated, but without the admin scope an admin route requires. */
export class ForbiddenError extends Error {
  override name = 'ForbiddenError';
}

export class PayloadTooLargeError extends Error {
  override name = 'PayloadTooLargeError';
}

/** A route this function does not serve (only when API Gateway and serverless.yml disagree). */
export class RouteNotFoundError extends Error {
  override name = 'RouteNotFoundError';
}
