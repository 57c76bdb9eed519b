import { Redis } from 'ioredis';
import { MemoryEventStore } from '@sluice/sse-resume';
import { RedisEventStore } from '@sluice/sse-resume/redis';
import { describeEventStoreContract } from './contract.js';
import { deletePrefix, newClient, randomPrefix, REQUIRED, redisReachable } from './redis-env.js';

describeEventStoreContract('MemoryEventStore', () => ({
  create: (options) => new MemoryEventStore({ maxEvents: options?.maxEvents ?? 10_000 }),
  cleanup: async () => {},
}));

describeEventStoreContract(
  'RedisEventStore',
  () => {
    let client: Redis | undefined;
    const made: { store: RedisEventStore; prefix: string }[] = [];
    return {
      create(options) {
        client ??= newClient();
        // A prefix per store: each is a separate history (another deployment).
        const prefix = randomPrefix();
        const store = new RedisEventStore(client, { prefix, maxEvents: options?.maxEvents ?? 10_000, exactTrim: true });
        made.push({ store, prefix });
        return store;
      },
      async cleanup() {
        for (const { store, prefix } of made) {
          await store.close();
          await deletePrefix(client!, prefix);
        }
        await client?.quit();
      },
    };
  },
  redisReachable() || REQUIRED ? describe : describe.skip,
);
