import type { FinishReason, LLMEvent } from '../types.js';

/** An Anthropic message stream event (typed structurally: no SDK import). */
export interface AnthropicEventLike {
  type: string;
  index?: number;
  message?: { model?: string; usage?: { input_tokens?: number | null; output_tokens?: number | null } };
  content_block?: { type: string; id?: string; name?: string };
  delta?: {
    type?: string;
    text?: string;
    partial_json?: string;
    thinking?: string;
    stop_reason?: string | null;
  };
  usage?: { input_tokens?: number | null; output_tokens?: number | null };
  error?: { type?: string; message?: string };
}

const TYPES = new Set([
  'message_start',
  'message_delta',
  'message_stop',
  'content_block_start',
  'content_block_delta',
  'content_block_stop',
  'ping',
  'error',
]);

export function isAnthropicEvent(value: unknown): value is AnthropicEventLike {
  return TYPES.has((value as AnthropicEventLike | null)?.type as string);
}

const REASONS: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

/** An `error` event that arrived after HTTP 200, as a throwable the error mapper understands. */
export class AnthropicStreamError extends Error {
  override readonly name = 'AnthropicStreamError';
  readonly type: string | undefined;
  constructor(error: AnthropicEventLike['error']) {
    super(error?.message ?? 'Anthropic stream error');
    this.type = error?.type;
  }
}

/**
 * Appends the events of one Anthropic stream event to `out`. Input tokens arrive in
 * `message_start`, the output count (cumulative) in `message_delta`, with the stop reason.
 */
export function fromAnthropic(event: AnthropicEventLike, out: LLMEvent[]): void {
  switch (event.type) {
    case 'content_block_delta': {
      const delta = event.delta;
      if (delta?.type === 'text_delta' && delta.text) out.push({ type: 'text', text: delta.text });
      else if (delta?.type === 'thinking_delta' && delta.thinking) out.push({ type: 'reasoning', text: delta.thinking });
      else if (delta?.type === 'input_json_delta' && delta.partial_json)
        out.push({ type: 'tool-delta', index: event.index ?? 0, args: delta.partial_json });
      return;
    }
    case 'content_block_start': {
      const block = event.content_block;
      if (block?.type === 'tool_use' || block?.type === 'server_tool_use')
        out.push({ type: 'tool-start', index: event.index ?? 0, id: block.id ?? '', name: block.name ?? '' });
      return;
    }
    case 'message_start': {
      const usage = event.message?.usage;
      out.push({ type: 'meta', model: event.message?.model, usage: usage ? { inputTokens: usage.input_tokens ?? undefined } : undefined });
      return;
    }
    case 'message_delta': {
      const usage = event.usage;
      const reason = event.delta?.stop_reason;
      const u = usage
        ? { inputTokens: usage.input_tokens ?? undefined, outputTokens: usage.output_tokens ?? undefined }
        : undefined;
      if (reason) out.push({ type: 'finish', reason: REASONS[reason] ?? 'other', usage: u });
      else if (u) out.push({ type: 'meta', usage: u });
      return;
    }
    case 'error':
      throw new AnthropicStreamError(event.error);
    default:
    // ping, content_block_stop, message_stop: nothing to forward.
  }
}
