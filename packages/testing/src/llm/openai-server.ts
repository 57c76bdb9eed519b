import type http from 'node:http';
import { sendHttpError, startScripted, type LLMTestServer, type Pacer, type Script, type ScriptedReply } from './script.js';

const DEFAULT_TOKENS = ['Hello', ',', ' world', '!'];

async function speak(reply: ScriptedReply, body: Record<string, unknown>, res: http.ServerResponse, pace: Pacer): Promise<void> {
  if (reply.httpError) {
    const { status, type, message = type, headers } = reply.httpError;
    return sendHttpError(res, status, { error: { message, type, code: type, param: null } }, headers);
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  res.flushHeaders();
  const model = typeof body.model === 'string' ? body.model : 'gpt-test';
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: object, finish: string | null = null, extra: object = {}) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-test', object: 'chat.completion.chunk', created, model, system_fingerprint: null, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra })}\n\n`;
  const tokens = reply.tokens ?? DEFAULT_TOKENS;
  const tools = reply.toolCalls ?? [];
  if (!(await pace.write(chunk({ role: 'assistant', content: '' })))) return;
  for (const text of reply.reasoning ?? []) if (!(await pace.write(chunk({ reasoning_content: text })))) return;
  for (const [i, text] of tokens.entries()) {
    if (reply.dropAfter === i) return pace.drop();
    if (reply.errorAfter?.tokens === i) {
      const { type, message = type } = reply.errorAfter;
      await pace.write(`data: ${JSON.stringify({ error: { message, type, code: type, param: null } })}\n\n`);
      return void res.end();
    }
    if (!(await pace.write(chunk({ content: text })))) return;
  }
  for (const [index, call] of tools.entries()) {
    const start = { tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] };
    if (!(await pace.write(chunk(start)))) return;
    for (const args of call.arguments) {
      if (!(await pace.write(chunk({ tool_calls: [{ index, function: { arguments: args } }] })))) return;
    }
  }
  if (reply.dropAfter !== undefined) return pace.drop();
  const finish = reply.finishReason ?? (tools.length ? 'tool_calls' : 'stop');
  if (!(await pace.write(chunk({}, finish)))) return;
  const options = body.stream_options as { include_usage?: boolean } | undefined;
  if (options?.include_usage) {
    const { input, output } = reply.usage ?? { input: 10, output: tokens.length };
    const usage = { prompt_tokens: input, completion_tokens: output, total_tokens: input + output };
    const last = JSON.stringify({ id: 'chatcmpl-test', object: 'chat.completion.chunk', created, model, choices: [], usage });
    if (!(await pace.write(`data: ${last}\n\n`))) return;
  }
  await pace.write('data: [DONE]\n\n');
  res.end();
}

/**
 * Starts a local server that speaks OpenAI's chat completions streaming format
 * (`POST …/chat/completions`, `chat.completion.chunk` SSE, `data: [DONE]`) with scripted tokens,
 * delays, tool calls, mid-stream errors and drops. Point the real SDK at it:
 * `new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 })`.
 */
export function openAIServer(script: Script = {}): Promise<LLMTestServer> {
  return startScripted(/\/chat\/completions(\?|$)/, script, speak, '/v1');
}
