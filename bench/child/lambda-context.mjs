// The Lambda context a bundle hosted in a bench child process receives: the parent sends the
// plain fields (functions do not cross process boundaries), the child restores the methods.
export function reviveContext(fields, remainingMs) {
  const deadline = Date.now() + remainingMs;
  return {
    ...fields,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
