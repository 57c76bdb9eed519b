// Type-level checks (compiled by the root `tsc`, not run by jest).
import type { Request, Response } from 'express';
import { ndjson, parseNDJSON, type NDJSONParseError } from '@sluice/ndjson';

declare const req: Request;
declare const res: Response;

export async function typeChecks(): Promise<void> {
  for await (const row of req.ndjson!<{ id: number }>()) {
    const id: number = row.id;
    void id;
  }
  await res.ndjson!([{ id: 1 }], { errorLine: true, replacer: (_k, v) => v });
  await res.ndjson!(async (signal: AbortSignal) => (signal.aborted ? [] : [1, 2]));
  await ndjson(res, (async function* () {
    yield { id: 1 };
  })());
  // @ts-expect-error a number is not a source of values
  await res.ndjson!(42);
  // @ts-expect-error unknown option
  parseNDJSON('', { maxLines: 3 });
  const values = parseNDJSON('1', {
    validate: (v): { n: number } => ({ n: Number(v) }),
    onMalformed: (line: string, lineNumber: number, error: NDJSONParseError) => void [line, lineNumber, error.code],
  });
  for await (const v of values) {
    const n: number = v.n;
    void n;
  }
}
