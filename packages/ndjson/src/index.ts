export { ndjson, ndjsonResponse } from './response.js';
export type { NDJSONOptions, NDJSONResponseSource } from './response.js';
export type { NDJSONValues } from './lines-out.js';
export { parseNDJSON, parseNDJSONBatches, DEFAULT_MAX_LINE_BYTES } from './parse.js';
export type { ParseNDJSONOptions, OnMalformed } from './parse.js';
export { ndjsonBody } from './body.js';
export type { NDJSONBodyOptions } from './body.js';
export type { NDJSONSource, NDJSONChunk, NDJSONReadableStream } from './chunks.js';
export {
  NDJSONParseError,
  NDJSONLineTooLongError,
  NDJSONAbortedError,
  NDJSONContentTypeError,
  NDJSONSerializeError,
} from './errors.js';
export type { NDJSONParseErrorCode } from './errors.js';
