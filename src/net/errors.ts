// Failures of fetching and verifying: each names the URL and what went wrong.
import { MkError } from "../errors.js";

export class FetchError extends MkError {
  constructor(
    readonly url: string,
    message: string,
    code: "fetch" | "verify" = "fetch",
  ) {
    super(code, message);
  }
}

export class VerifyError extends FetchError {
  constructor(url: string, message: string) {
    super(url, message, "verify");
  }
}

/** --offline and the store does not have it. */
export class OfflineMissError extends FetchError {
  constructor(url: string) {
    super(url, `not in the download cache: ${url}`);
  }
}
