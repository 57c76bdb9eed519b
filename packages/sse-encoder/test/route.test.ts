import express from 'express';
import express4 from 'express4';
import request from 'supertest';
import { routeContinuesAfter } from '@sluice/sse-encoder';

type Express = typeof express;

describe.each([
  ['express 5', express],
  ['express 4', express4 as unknown as Express],
])('routeContinuesAfter() on %s', (_name, makeApp) => {
  it('tells whether a later handler of the route will run', async () => {
    const seen: Record<string, string> = {};
    const probe = (name: string): express.RequestHandler => {
      const handler: express.RequestHandler = (req, _res, next) => {
        seen[name] = String(routeContinuesAfter(req, handler)); // JSON would drop undefined
        next();
      };
      return handler;
    };
    const app = makeApp();
    app.use(probe('use'));
    app.get('/x', probe('first'), probe('last'));
    app.use((_req, res) => res.status(404).json({ seen }));
    const res = await request(app).get('/x');
    expect(res.body.seen).toEqual({ use: 'undefined', first: 'true', last: 'false' });
  });

  it('counts a GET handler as following a HEAD request', async () => {
    let answer: boolean | undefined;
    const app = makeApp();
    const first: express.RequestHandler = (req, _res, next) => {
      answer = routeContinuesAfter(req, first);
      next();
    };
    app.get('/x', first, (_req, res) => res.end());
    await request(app).head('/x');
    expect(answer).toBe(true);
  });
});
