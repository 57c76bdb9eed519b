// Ids are `<epoch>-<seq>`: `epoch` is random per store instance, so ids from a previous process
// (a restart) or another server are recognised as unknown instead of being misread as positions.

const SEQ = /^[0-9a-z]{1,11}$/;

export function newEpoch(): string {
  return Date.now().toString(36) + Math.random().toString(36).slice(2, 6).padEnd(4, '0');
}

export function formatId(epoch: string, seq: number): string {
  return `${epoch}-${seq.toString(36)}`;
}

export type ParsedId = { kind: 'ours'; seq: number } | { kind: 'foreign' } | { kind: 'malformed' };

export function parseId(epoch: string, id: string): ParsedId {
  const dash = id.lastIndexOf('-');
  if (dash <= 0) return { kind: 'malformed' };
  const seqText = id.slice(dash + 1);
  if (!SEQ.test(seqText)) return { kind: 'malformed' };
  if (id.slice(0, dash) !== epoch) return { kind: 'foreign' };
  const seq = parseInt(seqText, 36);
  return Number.isSafeInteger(seq) ? { kind: 'ours', seq } : { kind: 'malformed' };
}
