import { randomUUID } from 'node:crypto';
import { LLMStreamError } from './errors.js';
import type { FinishReason, LLMEvent, LLMResult, ToolCall, Usage } from './types.js';

/**
 * The state of one generation: its id, the controller that stops its upstream, and what was
 * produced so far. Shared by the reading loop, the response sink and the cancel registry.
 * @internal
 */
export class Generation {
  /** 122 random bits (RFC 9562 v4): unguessable, so the id itself can authorise a cancel. */
  readonly id = randomUUID();
  readonly controller = new AbortController();
  model: string | undefined;
  text = '';
  reasoning = '';
  /** Tool calls by upstream index (Anthropic counts all content blocks), with their 0-based position among calls. */
  readonly tools = new Map<number, { call: ToolCall; ordinal: number }>();
  finishReason: FinishReason | undefined;
  usage: Usage | undefined;
  /** Something was written: from now on failures take the protocol's error form. */
  opened = false;
  /** The client went away: write nothing more. */
  aborted = false;
  cancelled = false;
  /** The upstream is done and the terminal unit chosen: too late to cancel. */
  ending = false;
  error: LLMStreamError | undefined;
  /** Resumable only (`resume.keepRunningMs`); undefined: the client's disconnect stops the model. */
  keepRunningMs: number | undefined;
  /** Resumable only: clients following it in this process; at 0 the keep-running clock runs. */
  #clients = 0;
  #idle: NodeJS.Timeout | undefined;

  get toolCalls(): ToolCall[] {
    return [...this.tools.values()].map((entry) => entry.call);
  }

  /** Client gone: stop the upstream, write nothing more. */
  abort(): void {
    if (this.ending || this.aborted || this.cancelled) return;
    this.aborted = true;
    this.controller.abort();
  }

  /** Stop requested through the cancel registry: stop the upstream, then send `cancelled`. */
  cancel(): boolean {
    if (this.ending || this.aborted || this.cancelled) return false;
    this.cancelled = true;
    this.controller.abort();
    return true;
  }

  /**
   * A client follows this (resumable) generation; the returned `leave` (idempotent) stops the
   * model `keepRunningMs` after the last such client left, unless one joins again before.
   */
  join(): (() => void) | undefined {
    const keepRunningMs = this.keepRunningMs;
    if (keepRunningMs === undefined || this.ending || this.aborted || this.cancelled) return undefined;
    this.#clients++;
    this.stopClock();
    let left = false;
    return () => {
      if (left) return;
      left = true;
      if (--this.#clients === 0 && !this.ending) this.#idle = setTimeout(() => this.abort(), keepRunningMs).unref();
    };
  }

  stopClock(): void {
    clearTimeout(this.#idle);
    this.#idle = undefined;
  }

  /** Folds an event into the state; returns the tool call it concerns, if any. */
  apply(event: LLMEvent): { call: ToolCall; ordinal: number } | undefined {
    switch (event.type) {
      case 'text':
        this.text += event.text;
        return undefined;
      case 'reasoning':
        this.reasoning += event.text;
        return undefined;
      case 'tool-start': {
        const entry = { call: { id: event.id, name: event.name, arguments: '' }, ordinal: this.tools.size };
        this.tools.set(event.index, entry);
        return entry;
      }
      case 'tool-delta': {
        let entry = this.tools.get(event.index);
        // A fragment before any start (a lax OpenAI-compatible server): keep it under a made-up id.
        if (!entry) {
          entry = { call: { id: `call_${event.index}`, name: '', arguments: '' }, ordinal: this.tools.size };
          this.tools.set(event.index, entry);
        }
        entry.call.arguments += event.args;
        return entry;
      }
      case 'finish':
        this.finishReason = event.reason;
        this.mergeUsage(event.usage);
        return undefined;
      case 'meta':
        this.model ??= event.model;
        this.mergeUsage(event.usage);
        return undefined;
    }
  }

  private mergeUsage(usage: Usage | undefined): void {
    if (!usage) return;
    const merged: Usage = { ...this.usage };
    for (const key of ['inputTokens', 'outputTokens', 'totalTokens'] as const) {
      if (typeof usage[key] === 'number') merged[key] = usage[key];
    }
    if (usage.totalTokens === undefined && merged.inputTokens !== undefined && merged.outputTokens !== undefined) {
      merged.totalTokens = merged.inputTokens + merged.outputTokens;
    }
    this.usage = merged;
  }

  result(): LLMResult {
    return {
      id: this.id,
      text: this.text,
      reasoning: this.reasoning,
      toolCalls: this.toolCalls,
      finishReason: this.finishReason,
      usage: this.usage,
      aborted: this.aborted,
      cancelled: this.cancelled,
      error: this.error,
    };
  }
}
