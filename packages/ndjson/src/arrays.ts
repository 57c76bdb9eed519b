/**
 * An empty array born with object elements. `[]` starts with Smi elements and changes kind at its
 * first object; code optimized for the changed kind is then thrown away when it meets a fresh `[]`
 * again (in the next parse, or at the next chunk for a queue of values). Used for arrays of objects
 * or strings, and for the queues of values (a batch handed out is one), whatever the values are.
 */
export function objectArray<T>(): T[] {
  const array: T[] = [undefined as T];
  array.length = 0;
  return array;
}
