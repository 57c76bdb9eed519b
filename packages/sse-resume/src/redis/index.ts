export { RedisEventStore } from './store.js';
export type { RedisEventStoreOptions } from './options.js';
export { RedisEventStoreError } from './errors.js';
export type { RedisEventStoreErrorCode } from './errors.js';
