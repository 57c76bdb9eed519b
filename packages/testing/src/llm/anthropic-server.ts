import type http from 'node:http';
import { sendHttpError, startScripted, type LLMTestServer, type Pacer, type Script, type ScriptedReply } from './script.js';

const DEFAULT_TOKENS = ['Hello', ',', ' world', '!'];
type Event = { type: string; [key: string]: unknown };
const frame = (data: Event) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;

async function speak(reply: ScriptedReply, body: Record<string, unknown>, res: http.ServerResponse, pace: Pacer): Promise<void> {
  if (reply.httpError) {
    const { status, type, message = type, headers } = reply.httpError;
    return sendHttpError(res, status, { type: 'error', error: { type, message } }, headers);
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  res.flushHeaders();
  const model = typeof body.model === 'string' ? body.model : 'claude-test';
  const tokens = reply.tokens ?? DEFAULT_TOKENS;
  const tools = reply.toolCalls ?? [];
  const { input, output } = reply.usage ?? { input: 10, output: tokens.length };
  const send = (data: Event) => pace.write(frame(data));
  const message = { id: 'msg_test', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: input, output_tokens: 1 } };
  if (!(await send({ type: 'message_start', message }))) return;
  let index = 0;
  if (reply.reasoning?.length) {
    if (!(await send({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } }))) return;
    for (const thinking of reply.reasoning) {
      if (!(await send({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking } }))) return;
    }
    if (!(await send({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: 'sig' } }))) return;
    if (!(await send({ type: 'content_block_stop', index }))) return;
    index++;
  }
  if (!(await send({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }))) return;
  if (!(await send({ type: 'ping' }))) return;
  for (const [i, text] of tokens.entries()) {
    if (reply.dropAfter === i) return pace.drop();
    if (reply.errorAfter?.tokens === i) {
      const { type, message = type } = reply.errorAfter;
      await send({ type: 'error', error: { type, message } });
      return void res.end();
    }
    if (!(await send({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } }))) return;
  }
  if (!(await send({ type: 'content_block_stop', index }))) return;
  for (const call of tools) {
    index++;
    if (!(await send({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} } }))) return;
    for (const partial_json of call.arguments) {
      if (!(await send({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } }))) return;
    }
    if (!(await send({ type: 'content_block_stop', index }))) return;
  }
  if (reply.dropAfter !== undefined) return pace.drop();
  const stop_reason = reply.finishReason ?? (tools.length ? 'tool_use' : 'end_turn');
  if (!(await send({ type: 'message_delta', delta: { stop_reason, stop_sequence: null }, usage: { output_tokens: output } }))) return;
  await send({ type: 'message_stop' });
  res.end();
}

/**
 * Starts a local server that speaks Anthropic's Messages streaming format (`POST …/v1/messages`,
 * `message_start`, `content_block_*` with text/thinking/tool-input deltas, `ping`, `message_delta`,
 * `message_stop`, and `error` events after HTTP 200) with scripted tokens, delays, errors and
 * drops. Point the real SDK at it: `new Anthropic({ baseURL: server.url, apiKey: 'test', maxRetries: 0 })`.
 */
export function anthropicServer(script: Script = {}): Promise<LLMTestServer> {
  return startScripted(/\/v1\/messages(\?|$)/, script, speak, '');
}
