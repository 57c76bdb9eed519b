import compression from 'compression';
import type { Express } from 'express';
import { llmStream, type LLMProtocol } from '@sluice/llm-stream';
import { frameworks, serve, sleep } from './helpers.js';

describe.each(frameworks)('behind compression() on %s', (_name, framework) => {
  it.each<LLMProtocol>(['sse', 'openai', 'ai-sdk', 'text', 'ndjson'])("protocol '%s': each token reaches the client while the model is still generating", async (protocol) => {
    let produced = 0;
    async function* model() {
      for (let i = 0; i < 5; i++) {
        produced++;
        yield `tok${i} `;
        await sleep(40);
      }
    }
    const app = framework() as unknown as Express;
    app.use(compression());
    app.post('/chat', (req, res, next) => void llmStream(req, res, model(), { protocol }).catch(next));
    const server = await serve(app);
    try {
      const response = await fetch(`${server.url}/chat`, { method: 'POST', headers: { 'accept-encoding': 'gzip' } });
      // compression() skips types mime-db does not call compressible (application/x-ndjson).
      expect(response.headers.get('content-encoding')).toBe(protocol === 'ndjson' ? null : 'gzip');
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      while (!text.includes('tok0')) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      expect(text).toContain('tok0');
      expect(produced).toBeLessThan(5);
      await reader.cancel();
    } finally {
      await server.close();
    }
  });
});
