// A broken Raft invariant is a bug, never an input error: fail loudly at the point it happens.

export class RaftInvariantError extends Error {
  override name = 'RaftInvariantError';
}

export function invariant(cond: boolean, what: string): asserts cond {
  if (!cond) throw new RaftInvariantError(what);
}
