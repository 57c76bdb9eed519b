import type { FinishReason, LLMEvent, Usage } from '../types.js';

/** The fields of an OpenAI `chat.completion.chunk` that are read (typed structurally: no SDK import). */
export interface OpenAIChunkLike {
  model?: string;
  choices: Array<{
    index?: number;
    delta?: {
      content?: string | null;
      /** Not in OpenAI's own API; DeepSeek, vLLM and OpenRouter stream reasoning here. */
      reasoning_content?: string | null;
      reasoning?: string | null;
      tool_calls?: Array<{ index: number; id?: string; function?: { name?: string; arguments?: string } }> | null;
    } | null;
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null;
}

export function isOpenAIChunk(value: unknown): value is OpenAIChunkLike {
  return Array.isArray((value as OpenAIChunkLike | null)?.choices);
}

const REASONS: Record<string, FinishReason> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
  content_filter: 'content_filter',
};

function usageOf(u: NonNullable<OpenAIChunkLike['usage']>): Usage {
  return { inputTokens: u.prompt_tokens, outputTokens: u.completion_tokens, totalTokens: u.total_tokens };
}

/**
 * Appends the events of one chunk to `out`. Only choice 0 is read (`n > 1` is not streamed). The
 * usage chunk (`stream_options.include_usage`) comes after the finish chunk, with no choices.
 */
export function fromOpenAI(chunk: OpenAIChunkLike, out: LLMEvent[]): void {
  if (chunk.usage) out.push({ type: 'meta', model: chunk.model, usage: usageOf(chunk.usage) });
  const choice = chunk.choices[0];
  if (!choice) return;
  const delta = choice.delta;
  if (delta) {
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (reasoning) out.push({ type: 'reasoning', text: reasoning });
    if (delta.content) out.push({ type: 'text', text: delta.content });
    if (delta.tool_calls) {
      for (const call of delta.tool_calls) {
        // The first fragment of a call carries its id and name; later ones only argument text.
        if (call.id !== undefined) {
          out.push({ type: 'tool-start', index: call.index, id: call.id, name: call.function?.name ?? '' });
        }
        const args = call.function?.arguments;
        if (args) out.push({ type: 'tool-delta', index: call.index, args });
      }
    }
  }
  if (choice.finish_reason) {
    out.push({ type: 'finish', reason: REASONS[choice.finish_reason] ?? 'other' });
  }
}
