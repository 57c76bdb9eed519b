import type { Encoder } from './encoder.js';

const nothing = () => {};

/**
 * The `'text'` protocol: the answer's text and nothing else. Plain text has no error form, so an
 * error after the first byte cuts the connection (the client sees an incomplete response, never a
 * clean end); a cancel ends it normally.
 */
export function textEncoder(): Encoder<string> {
  return {
    open: nothing,
    text: (text, out) => void out.push(text),
    reasoning: nothing,
    toolStart: nothing,
    toolDelta: nothing,
    done: nothing,
    error: () => false,
    cancelled: nothing,
  };
}
