// One error class per SQLSTATE of the package's contract (README, "Errors"), the same classes as the Python
// client's session_manager.errors. Every error keeps the server's sqlstate, message and hint, and the
// driver's error as `cause`.

export class SessionManagerError extends Error {
  readonly sqlstate: string | undefined;
  readonly hint: string | undefined;

  constructor(message: string, options: { sqlstate?: string | undefined; hint?: string | undefined; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.sqlstate = options.sqlstate;
    this.hint = options.hint;
  }
}

/** 22023: an empty id, a non-positive timeout or limit, a role or agent not allowed, empty content. */
export class InvalidArgumentError extends SessionManagerError {}
/** 22004: a required argument is NULL. */
export class NullArgumentError extends InvalidArgumentError {}
/** 22001: content longer than max_content_length, a chat_id over 1,024 bytes. */
export class ContentTooLongError extends InvalidArgumentError {}
/** P0002: append to an unknown session; get-or-create for an unknown user. */
export class NotFoundError extends SessionManagerError {}
/** 55000: append to a session that is not live (ended, or idle past idle_timeout). */
export class SessionNotLiveError extends SessionManagerError {}
/** 23505: a message_id used again with another session, role or content. */
export class DuplicateMessageError extends SessionManagerError {}
/** 42501: the role was not granted what it called. */
export class PermissionDeniedError extends SessionManagerError {}
/** 40001, 40P01: a concurrent change won; the call may be retried. */
export class TransactionConflictError extends SessionManagerError {}
/** Any other error the server reported (e.g. 42883 when the package is not deployed). */
export class DatabaseError extends SessionManagerError {}

export const SQLSTATE_ERRORS: Readonly<Record<string, typeof SessionManagerError>> = {
  "22004": NullArgumentError,
  "22023": InvalidArgumentError,
  "22021": InvalidArgumentError, // a NUL byte in text, which PostgreSQL cannot store
  "22003": InvalidArgumentError, // an integer out of range, e.g. maxMessages
  "22001": ContentTooLongError,
  P0002: NotFoundError,
  "55000": SessionNotLiveError,
  "23505": DuplicateMessageError,
  "42501": PermissionDeniedError,
  "40001": TransactionConflictError,
  "40P01": TransactionConflictError,
};

interface PgErrorFields {
  code?: unknown;
  message?: unknown;
  hint?: unknown;
  cause?: unknown;
}

/** The client's error for what the driver threw: Drizzle wraps node-postgres's DatabaseError (which carries the
 * SQLSTATE as `code`) in a DrizzleQueryError, so the chain of causes is searched for it. */
export function translate(error: unknown): SessionManagerError {
  if (error instanceof SessionManagerError) return error;
  for (let e: unknown = error, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const fields = e as PgErrorFields;
    if (typeof fields.code === "string" && /^[0-9A-Z]{5}$/.test(fields.code)) {
      const ErrorClass = SQLSTATE_ERRORS[fields.code] ?? DatabaseError;
      return new ErrorClass(String(fields.message), {
        sqlstate: fields.code,
        hint: typeof fields.hint === "string" ? fields.hint : undefined,
        cause: error,
      });
    }
    e = fields.cause;
  }
  return new SessionManagerError(error instanceof Error ? error.message : String(error), { cause: error });
}
