import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

// Drives the real demo (`npm run demo`'s server, started the same way) in Debian's headless Chromium.
const CHROMIUM = '/usr/bin/chromium';
const required = process.env.SLUICE_REQUIRE_SERVICES === '1';
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser) {
  const message = `demo browser test: ${CHROMIUM} not found (apt-get install chromium)`;
  if (required) throw new Error(`${message}; SLUICE_REQUIRE_SERVICES=1 forbids skipping`);
  console.warn(`\n!!! SKIPPED ${message}\n`);
}
const root = join(__dirname, '..', '..', '..');
const output = join(root, 'test-output');
// Page-side code is passed as strings: these run in the browser, where the DOM types live.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = (id: string) => `document.querySelector('[data-testid=${id}]')`;

(haveBrowser ? describe : describe.skip)('the demo page in Chromium', () => {
  let server: ChildProcess;
  let url: string;
  let browser: Browser;
  let page: Page;
  const logs: string[] = [];

  beforeAll(async () => {
    server = spawn(process.execPath, ['--import', 'tsx', join(root, 'examples/demo/server.ts')], {
      cwd: root,
      env: { ...process.env, PORT: '0', OPENAI_BASE_URL: '', OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '' }, // the offline model
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`demo did not start: ${logs.join('')}`)), 20_000);
      server.stdout!.setEncoding('utf8').on('data', (text: string) => {
        logs.push(text);
        const match = /Sluice demo on (http:\S+)/.exec(logs.join(''));
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      server.stderr!.setEncoding('utf8').on('data', (text: string) => logs.push(text));
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 1300 } });
    await page.goto(url);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    server?.kill();
  });

  const text = async (id: string) => (await page.locator(`[data-testid=${id}]`).textContent()) ?? '';
  const number = async (id: string) => Number((await text(id)).replace(/[^\d]/g, ''));

  it('the counter advances', async () => {
    await page.waitForFunction(`Number(${q('counter-value')}.textContent) >= 2`, null, { timeout: 10_000 });
    expect(await number('counter-value')).toBeGreaterThanOrEqual(2);
  }, 15_000);

  it('a dropped feed connection resumes with no gap and no duplicate', async () => {
    await page.waitForFunction('window.sluiceFeed.seen.length >= 3', null, { timeout: 10_000 });
    const before = await number('feed-count');
    await page.locator('[data-testid=feed-drop]').click();
    await page.waitForFunction('window.sluiceFeed.reconnects >= 1', null, { timeout: 10_000 });
    await page.waitForFunction(`window.sluiceFeed.seen.length >= ${before + 4}`, null, { timeout: 10_000 });
    const seen = (await page.evaluate('window.sluiceFeed.seen.slice()')) as number[];
    expect(seen).toEqual(seen.map((_, i) => seen[0]! + i));
    expect(await text('feed-check')).toBe('no gap, no duplicate');
  }, 30_000);

  it('streams the million-row CSV with progress', async () => {
    await page.locator('[data-testid=csv-start]').click();
    await page.waitForFunction(`/done/.test(${q('csv-status')}.textContent)`, null, { timeout: 30_000 });
    expect(await number('csv-rows')).toBe(1_000_001);
  }, 40_000);

  it('chat streams tokens and Stop halts it at once, aborting the upstream request', async () => {
    expect(await text('chat-provider')).toMatch(/offline/);
    await page.locator('[data-testid=chat-send]').click();
    await page.waitForFunction(`/Model: \\S+ \\S+ \\S+/.test(${q('chat-log')}.textContent)`, null, { timeout: 10_000 });
    const clicked = Date.now();
    await page.locator('[data-testid=chat-stop]').click();
    await page.waitForFunction(`/stopped after/.test(${q('chat-status')}.textContent)`, null, { timeout: 5_000 });
    const stoppedAt = (await text('chat-log')).length;
    // The server logs the upstream abort once the response closed.
    while (!/\[chat\] \S+ client gone .*upstream request aborted/.test(logs.join('')) && Date.now() - clicked < 5000) await sleep(20);
    expect(logs.join('')).toMatch(/\[chat\] \S+ client gone after \d+ characters, upstream request aborted/);
    expect(Date.now() - clicked).toBeLessThan(1000);
    await sleep(400); // tokens arrive every 45 ms: none may follow the stop
    expect((await text('chat-log')).length).toBe(stoppedAt);
  }, 20_000);

  it('renders NDJSON rows as they arrive', async () => {
    await page.locator('[data-testid=users-start]').click();
    // Rows appear while the response is still streaming, before "done".
    await page.waitForFunction(`${q('users')}.rows.length > 0 && !/done/.test(${q('users-status')}.textContent)`, null, { timeout: 10_000 });
    await page.waitForFunction(`/40 rows, done/.test(${q('users-status')}.textContent)`, null, { timeout: 10_000 });
    mkdirSync(output, { recursive: true });
    await page.screenshot({ path: join(output, 'demo.png'), fullPage: true });
  }, 20_000);
});
