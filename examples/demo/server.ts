// The Sluice demo: one Express server composing the packages the way users will.
// `npm install && npm run demo`, then open the printed URL.
import { readFileSync } from 'node:fs';
import express from 'express';
import { sse } from '@sluice/sse-encoder';

export function createDemoApp(): express.Express {
  const app = express();
  const page = readFileSync(new URL('./index.html', import.meta.url), 'utf8');
  app.get('/', (_req, res) => res.type('html').send(page));

  // The seed's number stream: one event a second until the client leaves.
  app.get('/api/counter', sse({ retryMs: 2000 }), async (_req, res) => {
    const stream = res.sse!;
    for (let n = 1; !stream.closed; n++) {
      await stream.send({ event: 'count', id: n, data: { n, at: new Date().toISOString() } });
      await new Promise((resolve) => setTimeout(resolve, 1000).unref());
    }
  });
  return app;
}

if (process.argv[1] === import.meta.filename) {
  const port = Number(process.env.PORT ?? 3000);
  createDemoApp().listen(port, '127.0.0.1', () => console.log(`Sluice demo on http://127.0.0.1:${port}`));
}
