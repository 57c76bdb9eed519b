import type { SSEEvent } from '@sluice/sse-encoder';
import type { Encoder, EncoderContext } from './encoder.js';

/**
 * The `'sse'` protocol: named events `start`, `token`, `reasoning`, `tool-call-start`,
 * `tool-call-delta`, then exactly one of `done`, `error` or `cancelled`. Data is JSON.
 */
export function sseEncoder(ctx: EncoderContext): Encoder<SSEEvent> {
  return {
    open: (out) => void out.push({ event: 'start', data: `{"id":${JSON.stringify(ctx.id)}}` }),
    text: (text, out) => void out.push({ event: 'token', data: `{"text":${JSON.stringify(text)}}` }),
    reasoning: (text, out) => void out.push({ event: 'reasoning', data: `{"text":${JSON.stringify(text)}}` }),
    toolStart: (call, index, out) =>
      void out.push({ event: 'tool-call-start', data: JSON.stringify({ index, id: call.id, name: call.name }) }),
    toolDelta: (call, index, args, out) =>
      void out.push({ event: 'tool-call-delta', data: JSON.stringify({ index, id: call.id, args }) }),
    done: (out) =>
      void out.push({
        event: 'done',
        data: JSON.stringify({
          finishReason: ctx.finishReason ?? 'stop',
          usage: ctx.usage ?? null,
          characters: ctx.text.length,
          ...(ctx.toolCalls.length ? { toolCalls: ctx.toolCalls } : {}),
        }),
      }),
    error: (error, out) => {
      const { code, message, retryable, retryAfterMs } = error;
      out.push({ event: 'error', data: JSON.stringify({ code, message, retryable, retryAfterMs }) });
      return true;
    },
    cancelled: (out) => void out.push({ event: 'cancelled', data: `{"id":${JSON.stringify(ctx.id)}}` }),
  };
}
