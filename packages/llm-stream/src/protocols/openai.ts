import type { SSEEvent } from '@sluice/sse-encoder';
import type { Encoder, EncoderContext } from './encoder.js';

/** Options of the `'openai'` protocol, resolved per request. @internal */
export interface OpenAIProtocolOptions {
  model: string | undefined;
  includeUsage: boolean;
}

/**
 * The `'openai'` protocol: `chat.completion.chunk` objects as `data:` lines, ending in
 * `data: [DONE]`, so any OpenAI-compatible client reads the route as if it were the API. Reasoning
 * goes in `delta.reasoning_content` (the DeepSeek/vLLM convention clients already read); an error
 * or a cancel is an `{"error": …}` line, which the official SDK throws as an `APIError`.
 *
 * @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming
 */
export function openaiEncoder(ctx: EncoderContext, options: OpenAIProtocolOptions): Encoder<SSEEvent> {
  let head = '';
  // Every chunk shares everything but the delta: build that prefix once, at the first chunk (the
  // first text may be encoded just before the opening chunk is, so not in open()).
  const prefix = () => {
    const model = JSON.stringify(options.model ?? ctx.model ?? 'unknown');
    return `{"id":"chatcmpl-${ctx.id}","object":"chat.completion.chunk","created":${Math.floor(Date.now() / 1000)},"model":${model},"choices":[`;
  };
  const chunk = (delta: string, finish = 'null'): SSEEvent => {
    head ||= `${prefix()}{"index":0,"delta":`;
    return { data: `${head}${delta},"logprobs":null,"finish_reason":${finish}}]}` };
  };
  const fail = (type: string, code: string, message: string): SSEEvent => ({
    data: JSON.stringify({ error: { message, type, code, param: null } }),
  });
  return {
    open: (out) => void out.push(chunk('{"role":"assistant","content":""}')),
    text: (text, out) => void out.push(chunk(`{"content":${JSON.stringify(text)}}`)),
    reasoning: (text, out) => void out.push(chunk(`{"reasoning_content":${JSON.stringify(text)}}`)),
    toolStart: (call, index, out) =>
      void out.push(
        chunk(
          `{"tool_calls":[{"index":${index},"id":${JSON.stringify(call.id)},"type":"function","function":{"name":${JSON.stringify(call.name)},"arguments":""}}]}`,
        ),
      ),
    toolDelta: (_call, index, args, out) =>
      void out.push(chunk(`{"tool_calls":[{"index":${index},"function":{"arguments":${JSON.stringify(args)}}}]}`)),
    done(out) {
      out.push(chunk('{}', JSON.stringify(ctx.finishReason ?? 'stop')));
      const u = ctx.usage;
      if (options.includeUsage && u) {
        const usage = {
          prompt_tokens: u.inputTokens ?? 0,
          completion_tokens: u.outputTokens ?? 0,
          total_tokens: u.totalTokens ?? (u.inputTokens ?? 0) + (u.outputTokens ?? 0),
        };
        out.push({ data: `${prefix()}],"usage":${JSON.stringify(usage)}}` });
      }
      out.push({ data: '[DONE]' });
    },
    error(error, out) {
      out.push(fail(error.code, error.code, error.message));
      return true;
    },
    cancelled: (out) => void out.push(fail('cancelled', 'cancelled', 'The generation was cancelled')),
  };
}
