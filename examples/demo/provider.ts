// Chooses the demo's language model: an OpenAI-compatible server (OPENAI_BASE_URL/OPENAI_API_KEY:
// OpenAI itself, Ollama, llama.cpp, vLLM…), Anthropic (ANTHROPIC_API_KEY), or, with neither, an
// embedded offline model: a local server speaking OpenAI's streaming wire format with scripted
// text and token timing, so the demo runs with no configuration and no network through the very
// same code path (the real OpenAI SDK, a real upstream HTTP request to abort).
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { LLMStreamValue } from '@sluice/llm-stream';
import { openAIServer, type LLMTestServer } from '@sluice/testing';

export type ChatMessage = { role: 'user' | 'assistant'; content: string };

export interface Provider {
  /** Shown on the page. */
  label: string;
  offline: boolean;
  /** Starts a streamed completion; `signal` aborts the upstream request. */
  complete(messages: ChatMessage[], signal: AbortSignal): PromiseLike<LLMStreamValue>;
  close(): Promise<void>;
}

const ANSWER =
  'Sluice streams each token to the browser the moment the model produces it. Server-Sent Events ' +
  'carry them over plain HTTP, keep-alive comments hold idle proxies open, and when you press Stop ' +
  'the browser closes the connection: the server sees the response close, aborts the upstream ' +
  'request to the model, and stops paying for tokens nobody will read. Ask me anything else and I ' +
  'will keep talking slowly enough for you to try the Stop button yourself.';

/** Splits text into word-and-space tokens, roughly what a tokenizer streams. */
function tokens(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

export async function chooseProvider(env: NodeJS.ProcessEnv = process.env): Promise<Provider> {
  if (env.OPENAI_BASE_URL || env.OPENAI_API_KEY) {
    const openai = new OpenAI({ baseURL: env.OPENAI_BASE_URL, apiKey: env.OPENAI_API_KEY ?? 'none' });
    const model = env.OPENAI_MODEL ?? 'gpt-4o-mini';
    return {
      label: `OpenAI-compatible: ${model} at ${env.OPENAI_BASE_URL ?? 'api.openai.com'}`,
      offline: false,
      complete: (messages, signal) => openai.chat.completions.create({ model, messages, stream: true }, { signal }),
      close: async () => {},
    };
  }
  if (env.ANTHROPIC_API_KEY) {
    const anthropic = new Anthropic({ apiKey: env.ANTHROPIC_API_KEY });
    const model = env.ANTHROPIC_MODEL ?? 'claude-sonnet-4-5';
    return {
      label: `Anthropic: ${model}`,
      offline: false,
      complete: (messages, signal) => anthropic.messages.create({ model, max_tokens: 1024, messages, stream: true }, { signal }),
      close: async () => {},
    };
  }
  const upstream: LLMTestServer = await openAIServer((body) => {
    const messages = (body.messages ?? []) as ChatMessage[];
    const question = messages.at(-1)?.content ?? '';
    return { tokens: tokens(`You asked: “${question.slice(0, 200)}”. ${ANSWER}`), delayMs: 45, firstTokenDelayMs: 300 };
  });
  const openai = new OpenAI({ baseURL: upstream.url, apiKey: 'offline', maxRetries: 0 });
  return {
    label: 'offline demo model (no network, scripted text at ~20 tokens/s)',
    offline: true,
    complete: (messages, signal) => openai.chat.completions.create({ model: 'offline', messages, stream: true }, { signal }),
    close: () => upstream.close(),
  };
}
