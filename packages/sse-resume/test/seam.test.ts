import fc from 'fast-check';
import { encodeEvent } from '@sluice/sse-encoder';
import { Seam } from '../src/seam.js';
import type { StoredEvent } from '@sluice/sse-resume';

const history = (n: number): StoredEvent[] =>
  Array.from({ length: n }, (_, i) => {
    const event = { id: `e-${i + 1}`, data: String(i + 1) };
    return { id: event.id, event, encoded: encodeEvent(event) };
  });

describe('Seam (replay/live overlap)', () => {
  it('property: replay + accepted live events = the history after the client, once each, in order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }), // events the client already had
        fc.integer({ min: 0, max: 40 }), // events replayed
        fc.integer({ min: 0, max: 40 }), // events appended after the read
        fc.nat(), // where live delivery starts inside the replay (lag or afterId re-delivery)
        (seen, replayedCount, later, startSeed) => {
          const all = history(seen + replayedCount + later);
          const replayed = all.slice(seen, seen + replayedCount);
          const start = seen + (startSeed % (replayedCount + 1)); // anywhere from the first replayed to just after
          const seam = new Seam(replayed);
          const sent = [...replayed, ...all.slice(start).filter((e) => seam.accepts(e))];
          expect(sent.map((e) => e.id)).toEqual(all.slice(seen).map((e) => e.id));
        },
      ),
    );
  });

  it('lets everything through when nothing was replayed', () => {
    const seam = new Seam([]);
    expect(history(3).every((e) => seam.accepts(e))).toBe(true);
  });
});
