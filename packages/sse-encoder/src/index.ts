export { SSEFormatError } from './errors.js';
export type { SSEFormatErrorCode } from './errors.js';
export { formatEvent, encodeEvent } from './format.js';
export { createSSEStream, SSEStream } from './stream.js';
export type { SSEStreamOptions } from './stream.js';
export { sse } from './middleware.js';
export { routeContinuesAfter } from './route.js';
export type { SSEOptions } from './middleware.js';
export type { SSEEvent, EncodedEvent } from './types.js';
