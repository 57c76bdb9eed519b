import type { Encoder, EncoderContext } from './encoder.js';

/**
 * The `'ndjson'` protocol: one JSON object per line with the same shapes as the `'sse'` events,
 * the event name in `type` (`{"type":"token","text":"Hi"}`), ending with one `done`, `error` or
 * `cancelled` line.
 */
export function ndjsonEncoder(ctx: EncoderContext): Encoder<string> {
  return {
    open: (out) => void out.push(`{"type":"start","id":${JSON.stringify(ctx.id)}}\n`),
    text: (text, out) => void out.push(`{"type":"token","text":${JSON.stringify(text)}}\n`),
    reasoning: (text, out) => void out.push(`{"type":"reasoning","text":${JSON.stringify(text)}}\n`),
    toolStart: (call, index, out) =>
      void out.push(JSON.stringify({ type: 'tool-call-start', index, id: call.id, name: call.name }) + '\n'),
    toolDelta: (call, index, args, out) =>
      void out.push(JSON.stringify({ type: 'tool-call-delta', index, id: call.id, args }) + '\n'),
    done: (out) =>
      void out.push(
        JSON.stringify({
          type: 'done',
          finishReason: ctx.finishReason ?? 'stop',
          usage: ctx.usage ?? null,
          characters: ctx.text.length,
          ...(ctx.toolCalls.length ? { toolCalls: ctx.toolCalls } : {}),
        }) + '\n',
      ),
    error: (error, out) => {
      const { code, message, retryable, retryAfterMs } = error;
      out.push(JSON.stringify({ type: 'error', code, message, retryable, retryAfterMs }) + '\n');
      return true;
    },
    cancelled: (out) => void out.push(`{"type":"cancelled","id":${JSON.stringify(ctx.id)}}\n`),
  };
}
