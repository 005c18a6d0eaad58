/**
 * Error hierarchy: every error says what went wrong in words a person can act on, and whether a retry can
 * help. Activities map `retryable: false` onto ApplicationFailure.nonRetryable.
 */
export abstract class TradingError extends Error {
  abstract readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A value the user or a file supplied is wrong: names the field and the problem. Never retryable. */
export class ValidationError extends TradingError {
  readonly retryable = false;
  constructor(
    readonly field: string,
    readonly problem: string,
    readonly location?: string,
  ) {
    super(`${location ? `${location}: ` : ''}${field}: ${problem}`);
  }
}

/** Configuration is missing or invalid; the message names the variable and the fix. */
export class ConfigError extends TradingError {
  readonly retryable = false;
}

/** A transient fault (network, 5xx, 429, lock): retry with backoff. */
export class TemporaryError extends TradingError {
  readonly retryable = true;
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A permanent fault (auth, not found, unsupported): retrying cannot help. */
export class PermanentError extends TradingError {
  readonly retryable = false;
}

/** The broker refused an order (buying power, validation): not retryable. */
export class OrderRejectedError extends TradingError {
  readonly retryable = false;
  constructor(
    message: string,
    readonly clientOrderId?: string,
    readonly reason?: string,
  ) {
    super(message);
  }
}
