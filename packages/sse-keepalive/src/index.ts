export { keepalive } from './middleware.js';
export type { KeepaliveOptions } from './options.js';
export { KeepaliveScheduler } from './scheduler.js';
export type { KeepaliveSchedulerOptions } from './scheduler.js';
