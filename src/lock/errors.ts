/** Everything that went wrong while resolving or fetching, reported together (exit 1). */
export class ResolveError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}
