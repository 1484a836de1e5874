/** Test helper: the error a call throws, so that its exact message and class can be checked. */
export function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`threw a non-Error: ${String(error)}`, { cause: error });
  }
  throw new Error('expected the call to throw, but it returned');
}
