import type { SSEEvent } from '@sluice/sse-encoder';
import type { FinishReason, ToolCall } from '../types.js';
import type { Encoder, EncoderContext } from './encoder.js';

/** Response headers of a UI message stream (the AI SDK's `UI_MESSAGE_STREAM_HEADERS`). */
export const AI_SDK_HEADERS = { 'x-vercel-ai-ui-message-stream': 'v1' } as const;

const REASONS: Record<FinishReason, string> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool-calls',
  content_filter: 'content-filter',
  other: 'other',
};

const part = (value: object): SSEEvent => ({ data: JSON.stringify(value) });

/**
 * The `'ai-sdk'` protocol: the AI SDK's UI message stream v1 (`start`, `start-step`,
 * `text-start`/`text-delta`/`text-end`, `reasoning-*`, `tool-input-*`, `finish-step`, `finish`,
 * `error`, `abort`, then `[DONE]`), which `useChat` reads. Text and reasoning alternate as parts:
 * switching from one to the other ends the open part and starts a new one.
 *
 * @see https://ai-sdk.dev/docs/ai-sdk-ui/stream-protocol#ui-message-stream-protocol
 */
export function aiSdkEncoder(ctx: EncoderContext): Encoder<SSEEvent> {
  let open: 'text' | 'reasoning' | undefined;
  let partId = '';
  let parts = 0;
  const enter = (kind: 'text' | 'reasoning', out: SSEEvent[]) => {
    if (open === kind) return;
    close(out);
    open = kind;
    partId = `${kind}-${parts++}`;
    out.push(part({ type: `${kind}-start`, id: partId }));
  };
  const close = (out: SSEEvent[]) => {
    if (open) out.push(part({ type: `${open}-end`, id: partId }));
    open = undefined;
  };
  const input = (call: ToolCall, out: SSEEvent[]) => {
    const base = { toolCallId: call.id, toolName: call.name };
    try {
      out.push(part({ type: 'tool-input-available', ...base, input: JSON.parse(call.arguments || '{}') }));
    } catch (error) {
      out.push(part({ type: 'tool-input-error', ...base, input: call.arguments, errorText: String(error) }));
    }
  };
  return {
    open: (out) => void out.push(part({ type: 'start', messageId: ctx.id }), part({ type: 'start-step' })),
    text(text, out) {
      if (open !== 'text') enter('text', out);
      out.push({ data: `{"type":"text-delta","id":"${partId}","delta":${JSON.stringify(text)}}` });
    },
    reasoning(text, out) {
      enter('reasoning', out);
      out.push(part({ type: 'reasoning-delta', id: partId, delta: text }));
    },
    toolStart(call, _index, out) {
      close(out);
      out.push(part({ type: 'tool-input-start', toolCallId: call.id, toolName: call.name }));
    },
    toolDelta: (call, _index, args, out) =>
      void out.push(part({ type: 'tool-input-delta', toolCallId: call.id, inputTextDelta: args })),
    done(out) {
      close(out);
      for (const call of ctx.toolCalls) input(call, out);
      out.push(part({ type: 'finish-step' }));
      out.push(part({ type: 'finish', finishReason: REASONS[ctx.finishReason ?? 'stop'] }));
      out.push({ data: '[DONE]' });
    },
    error(error, out) {
      close(out);
      out.push(part({ type: 'error', errorText: error.message }), { data: '[DONE]' });
      return true;
    },
    cancelled(out) {
      close(out);
      out.push(part({ type: 'abort', reason: 'cancelled' }), { data: '[DONE]' });
    },
  };
}
