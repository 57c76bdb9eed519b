/**
 * Why a generation stopped, in OpenAI's vocabulary (Anthropic's `end_turn`/`stop_sequence` →
 * `stop`, `max_tokens` → `length`, `tool_use` → `tool_calls`, `refusal` → `content_filter`).
 */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'other';

/** Token counts as the upstream reported them; a field is absent when it did not say. */
export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
}

/** One tool call the model made, with its arguments as the JSON text it streamed. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/**
 * The internal event model every source is normalised to. Tool calls are keyed by `index` (the
 * upstream's position of the call), which both OpenAI and Anthropic use to tie fragments together.
 * @internal
 */
export type LLMEvent =
  | { type: 'text'; text: string }
  | { type: 'reasoning'; text: string }
  | { type: 'tool-start'; index: number; id: string; name: string }
  | { type: 'tool-delta'; index: number; args: string }
  | { type: 'meta'; model?: string; usage?: Usage }
  | { type: 'finish'; reason: FinishReason; usage?: Usage };

/** What `llmStream()` resolves with and passes to `onFinish`. */
export interface LLMResult {
  /** The generation id (sent in `start`, used by the cancel route). */
  id: string;
  /** All text sent so far (the whole answer unless the stream stopped early). */
  text: string;
  /** All reasoning ("thinking") text received. */
  reasoning: string;
  /** Tool calls, complete or (when the stream stopped early) partial. */
  toolCalls: ToolCall[];
  /** Why the model stopped; `undefined` when the generation did not finish. */
  finishReason: FinishReason | undefined;
  /** Token usage, when the upstream reported it. */
  usage: Usage | undefined;
  /** True when the client went away before the end; the upstream request was aborted. */
  aborted: boolean;
  /** True when the generation was stopped through the cancel registry. */
  cancelled: boolean;
  /** The upstream failure, when the generation ended with an error. */
  error: Error | undefined;
}
