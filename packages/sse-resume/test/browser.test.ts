import { existsSync } from 'node:fs';
import express from 'express';
import express4 from 'express4';
import { chromium, type Browser } from 'playwright-core';
import { flakyFeed } from './flaky-feed.js';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.SLUICE_REQUIRE_SERVICES === '1') {
    throw new Error(`SLUICE_REQUIRE_SERVICES=1 but ${CHROMIUM} is missing: the real-browser test cannot run`);
  }
  console.warn(`\n!!! ${CHROMIUM} not found: SKIPPING the real-browser EventSource test (apt-get install chromium) !!!\n`);
}

type Factory = typeof express;
const frameworks: [string, Factory][] = [
  ['express 5', express],
  ['express 4', express4 as unknown as Factory],
];

const PAGE = `<!doctype html><meta charset="utf-8"><title>feed</title><script>
  window.received = []; window.ids = [];
  const source = new EventSource('/feed');
  source.onmessage = (e) => { window.received.push(e.data); window.ids.push(e.lastEventId); };
</script>`;

(available ? describe : describe.skip)('resume() with headless Chromium EventSource', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it.each(frameworks)(
    'on %s: the browser reconnects after retry: with Last-Event-ID and ends with every event once, in order',
    async (_name, framework) => {
      const app = framework();
      app.get('/', (_req, res) => {
        res.type('html').send(PAGE);
      });
      const feed = await flakyFeed(app, 200);
      const page = await browser.newPage();
      try {
        await page.goto(`${feed.server.url}/`);
        await feed.run(60, 20);
        await page.waitForFunction(() => (globalThis as unknown as { received: string[] }).received.length >= 60, null, {
          timeout: 15_000,
        });
        const { received, ids } = await page.evaluate(() => {
          const w = globalThis as unknown as { received: string[]; ids: string[] };
          return { received: w.received, ids: w.ids };
        });
        expect(received).toEqual(Array.from({ length: 60 }, (_, i) => String(i + 1)));
        expect(feed.lastEventIds[0]).toBeUndefined();
        const resumedAfter = ids.indexOf(feed.lastEventIds[1]!);
        expect(resumedAfter).toBeGreaterThanOrEqual(10);
        expect(resumedAfter).toBeLessThan(20);
      } finally {
        await page.close();
        feed.server.close();
      }
    },
    60_000,
  );
});
