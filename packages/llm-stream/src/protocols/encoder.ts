import type { LLMStreamError } from '../errors.js';
import type { FinishReason, ToolCall, Usage } from '../types.js';

/** What an encoder may read about the generation it encodes. @internal */
export interface EncoderContext {
  readonly id: string;
  readonly model: string | undefined;
  readonly text: string;
  readonly finishReason: FinishReason | undefined;
  readonly usage: Usage | undefined;
  readonly toolCalls: readonly ToolCall[];
}

/**
 * Turns normalised events into one wire format. Each method appends its output units (SSE events
 * or text chunks) to `out`, so the hot path (`text`) allocates nothing but its frame. One encoder
 * per generation: some formats keep state (the AI SDK's open text part, OpenAI's chunk prefix).
 * @internal
 */
export interface Encoder<T> {
  /** Units written when the response opens (before the first output, or by keep-alive/cancel). */
  open(out: T[]): void;
  text(text: string, out: T[]): void;
  reasoning(text: string, out: T[]): void;
  /** `index` is the call's 0-based position among this generation's tool calls. */
  toolStart(call: ToolCall, index: number, out: T[]): void;
  toolDelta(call: ToolCall, index: number, args: string, out: T[]): void;
  /** The model finished; `ctx` holds the finish reason, usage and complete tool calls. */
  done(out: T[]): void;
  /** Ends the stream with an error. Returns false when the format has no error form (plain text). */
  error(error: LLMStreamError, out: T[]): boolean;
  cancelled(out: T[]): void;
}
