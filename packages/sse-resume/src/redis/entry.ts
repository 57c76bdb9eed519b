import { encodeEvent, formatEvent, SSEFormatError, type SSEEvent } from '@sluice/sse-encoder';
import type { StoredEvent } from '../types.js';

// Redis stream ids are `<ms>-<seq>`, two unsigned 64-bit integers.
const STREAM_ID = /^(0|[1-9][0-9]{0,19})-(0|[1-9][0-9]{0,19})$/;
const U64_MAX = 2n ** 64n - 1n;

/** True for an id Redis could have assigned. */
export function isStreamId(id: string): boolean {
  const match = STREAM_ID.exec(id);
  return match !== null && BigInt(match[1]!) <= U64_MAX && BigInt(match[2]!) <= U64_MAX;
}

/** Orders two well-formed stream ids: negative, zero or positive. */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  const [am, as] = a.split('-') as [string, string];
  const [bm, bs] = b.split('-') as [string, string];
  // Same-length decimal strings compare like numbers; shorter is smaller (no leading zeros).
  const ms = am.length - bm.length || (am < bm ? -1 : am > bm ? 1 : 0);
  if (ms !== 0) return ms;
  return as.length - bs.length || (as < bs ? -1 : 1);
}

/**
 * The entry fields for `event`, validated as `encodeEvent` would (so a bad event is rejected
 * before anything is stored). Data is serialized once, here: string data is kept as is (`k: s`),
 * other data as its JSON text (`k: j`), which is also its one `data:` line.
 */
export function toFields(event: SSEEvent): string[] {
  const { data, ...meta } = event;
  let kind: 's' | 'j' | undefined;
  let text: string | undefined;
  if (typeof data === 'string') [kind, text] = ['s', data];
  else if (data !== undefined) {
    try {
      text = JSON.stringify(data);
    } catch (cause) {
      throw new SSEFormatError('INVALID_DATA', `data cannot be JSON-encoded: ${(cause as Error).message}`, { cause });
    }
    if (text === undefined) throw new SSEFormatError('INVALID_DATA', `data of type ${typeof data} has no JSON form`);
    kind = 'j';
  }
  formatEvent({ ...meta, id: '0-0', ...(text === undefined ? {} : { data: text }) });
  const fields: string[] = [];
  if (Object.keys(meta).length > 0) fields.push('m', JSON.stringify(meta));
  if (kind !== undefined) fields.push('k', kind, 'd', text!);
  return fields;
}

/** Builds the stored event of one entry; the frame is encoded once per process read. */
export function fromEntry(id: string, fields: readonly string[]): StoredEvent {
  let meta: Omit<SSEEvent, 'data' | 'id'> = {};
  let kind: string | undefined;
  let text: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1]!;
    if (fields[i] === 'm') meta = JSON.parse(value) as typeof meta;
    else if (fields[i] === 'k') kind = value;
    else if (fields[i] === 'd') text = value;
  }
  const encoded = encodeEvent({ ...meta, id, ...(text === undefined ? {} : { data: text }) });
  if (kind !== 'j') return { id, event: { ...meta, id, ...(text === undefined ? {} : { data: text }) }, encoded };
  let parsed: { value: unknown } | undefined;
  const event = {
    ...meta,
    id,
    // Parsed on first use: resume() only sends the frame, so most reads never need it.
    get data(): unknown {
      parsed ??= { value: JSON.parse(text!) };
      return parsed.value;
    },
  };
  return { id, event, encoded };
}
