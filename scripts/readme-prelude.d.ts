// Names README examples may use without declaring them, so each example shows only its point.
import type { Express } from 'express';

declare global {
  /** An Express app created earlier in the reader's code. */
  const app: Express;
  /** The reader's database layer; examples only need it to exist. */
  const db: any;
  /** A user type of the reader's. */
  type User = { id: number; name: string };
}
