// Failures of fetching and verifying: each names the URL and what went wrong.
export class FetchError extends Error {
  constructor(
    readonly url: string,
    message: string,
  ) {
    super(message);
  }
}

export class VerifyError extends FetchError {}

/** --offline and the store does not have it. */
export class OfflineMissError extends FetchError {
  constructor(url: string) {
    super(url, `not in the download cache: ${url}`);
  }
}
