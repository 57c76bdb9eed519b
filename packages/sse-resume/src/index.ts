export { resume } from './middleware.js';
export type { ResumeHandler } from './middleware.js';
export type { ResumeOptions, UnknownIdPolicy } from './options.js';
export { MemoryEventStore } from './memory-store.js';
export type { MemoryEventStoreOptions } from './memory-store.js';
export { publish } from './publish.js';
export { ResumeError } from './errors.js';
export type { ResumeErrorCode } from './errors.js';
export type { EventStore, StoredEvent, ReadResult, ReadStatus, Unsubscribe } from './types.js';
