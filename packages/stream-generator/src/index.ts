export { stream } from './stream.js';
export { streaming, streamRoute } from './middleware.js';
export { rechunk } from './rechunk.js';
export { StreamTypeError } from './errors.js';
export type { StreamErrorCode } from './errors.js';
export type { BodySource, Chunk, Source, StreamOptions, WebReadableStream } from './types.js';
