// Node built without ICU has no buffer.transcode(): runs of multi-byte lines then cannot be turned
// into UTF-16 in one call, and each such line must be decoded on its own, with the same results.
const transcode = jest.fn(() => {
  throw new Error('Node built without ICU');
});
jest.mock('node:buffer', () => ({ ...jest.requireActual<typeof import('node:buffer')>('node:buffer'), transcode }));

import { parseNDJSON } from '@sluice/ndjson';

async function collect(chunks: Buffer[], onMalformed?: 'skip'): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const value of parseNDJSON(chunks, { onMalformed })) out.push(value);
  return out;
}

describe('parseNDJSON without buffer.transcode (Node built without ICU)', () => {
  const values = [{ id: 1, name: 'Ada' }, 'Zoë', '李雷😀', { x: 'é\r' }, [2, 'ok'], 'plain'];
  const bytes = Buffer.from(values.map((v) => JSON.stringify(v)).join('\r\n') + '\n');

  beforeEach(() => transcode.mockClear());

  it('decodes multi-byte lines one by one, for the input cut at every byte position', async () => {
    for (let i = 1; i < bytes.length; i++) {
      expect(await collect([bytes.subarray(0, i), bytes.subarray(i)])).toEqual(values);
    }
    // The fallback is what ran: without this the test could pass on the transcode path.
    expect(transcode).toHaveBeenCalled();
  });

  it('still reports a line that is not UTF-8, with its number, and keeps the lines after it', async () => {
    const bad = Buffer.concat([Buffer.from('"Zoë"\n"a'), Buffer.from([0xff]), Buffer.from('b"\n"李"\n')]);
    await expect(collect([bad])).rejects.toMatchObject({ code: 'NDJSON_INVALID_UTF8', lineNumber: 2 });
    expect(await collect([bad], 'skip')).toEqual(['Zoë', '李']);
  });
});
