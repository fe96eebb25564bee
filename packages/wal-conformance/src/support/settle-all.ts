/**
 * Runs `tasks` concurrently and waits for every one to settle before reporting, so no task is still
 * touching a resource when the caller starts cleaning up. Rejects with the first failure (in task order).
 */
export async function settleAll(tasks: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(tasks);
  for (const result of results) {
    if (result.status === 'rejected') throw result.reason;
  }
}

/**
 * Marks `promise` as handled now and returns it unchanged: for work started early and awaited later,
 * so a failure in between (which ends the scenario) does not also surface as an unhandled rejection.
 */
export function handledLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
