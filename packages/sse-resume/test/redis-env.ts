import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const REQUIRED = process.env.SLUICE_REQUIRE_SERVICES === '1';

let reachable: boolean | undefined;

/**
 * Whether Redis answers PING, checked synchronously (in a child process) so a suite can choose
 * `describe` or `describe.skip` at load time. Never skips under SLUICE_REQUIRE_SERVICES=1: the
 * tests then run, and fail, against the missing service.
 */
export function redisReachable(): boolean {
  if (reachable !== undefined) return reachable;
  const script = `const { Redis } = require('ioredis');
    const r = new Redis(process.argv[1], { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1500 });
    r.on('error', () => {});
    r.connect().then(() => r.ping()).then(() => process.exit(0), () => process.exit(1));`;
  const result = spawnSync(process.execPath, ['-e', script, REDIS_URL], { timeout: 5000 });
  reachable = result.status === 0;
  if (!reachable && !REQUIRED) {
    console.warn(`\n!!! Redis is not reachable at ${REDIS_URL}: SKIPPING the RedisEventStore tests.\n!!! Start one (redis-server) or set REDIS_URL; CI sets SLUICE_REQUIRE_SERVICES=1 and fails instead.\n`);
  }
  return reachable;
}

/** `describe` when Redis is reachable or required, else `describe.skip` (with a loud warning). */
export function describeRedis(name: string, body: () => void): void {
  const reachable = redisReachable();
  (reachable || REQUIRED ? describe : describe.skip)(name, () => {
    if (!reachable) {
      it(`needs Redis at ${REDIS_URL} (SLUICE_REQUIRE_SERVICES=1)`, () => {
        throw new Error(`Redis is not reachable at ${REDIS_URL}, and SLUICE_REQUIRE_SERVICES=1 requires it`);
      });
    }
    body();
  });
}

export function randomPrefix(): string {
  return `sluice-test:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}:`;
}

/** A client for tests: fails fast instead of queueing forever when Redis is gone. */
export function newClient(url = REDIS_URL, name?: string): Redis {
  const client = new Redis(url, { connectionName: name, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  client.on('error', () => {}); // reconnects are the point of several tests
  return client;
}

/** Deletes every key under `prefix` (SCAN, not KEYS, to be a good neighbour). */
export async function deletePrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Connections named `name`, from CLIENT LIST. */
export async function connectionsNamed(client: Redis, name: string): Promise<Record<string, string>[]> {
  const list = (await client.client('LIST')) as string;
  return list
    .split('\n')
    .filter(Boolean)
    .map((line) => Object.fromEntries(line.split(' ').map((pair) => pair.split('=', 2) as [string, string])))
    .filter((fields) => fields.name === name);
}
