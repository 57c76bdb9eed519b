/** Stable codes of {@link StreamTypeError}. */
export type StreamErrorCode = 'ERR_INVALID_SOURCE' | 'ERR_INVALID_CHUNK' | 'ERR_INVALID_OPTION';

/** Bad input to `stream()` / `rechunk()`: a source, a chunk or an option of the wrong type. */
export class StreamTypeError extends TypeError {
  /** Stable, machine-readable reason. */
  readonly code: StreamErrorCode;

  constructor(code: StreamErrorCode, message: string) {
    super(message);
    this.name = 'StreamTypeError';
    this.code = code;
  }
}

/** Names a value's type for messages: `number (42)`, `object (Object)`, `null`. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `object (${value.constructor?.name ?? 'null prototype'})`;
  if (typeof value === 'function') return 'function';
  const shown = typeof value === 'symbol' ? value.toString() : JSON.stringify(value) ?? String(value);
  return `${typeof value} (${shown.length > 40 ? `${shown.slice(0, 40)}…` : shown})`;
}

export function chunkError(value: unknown, where = 'stream()'): StreamTypeError {
  return new StreamTypeError(
    'ERR_INVALID_CHUNK',
    `${where}: the source yielded ${describe(value)}; expected a string, Buffer or Uint8Array (serialise objects first, e.g. JSON.stringify(x) + "\\n")`,
  );
}
