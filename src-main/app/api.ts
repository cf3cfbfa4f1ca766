import type { z } from 'zod';
import { Api, type Channel, type Envelope, type Progress } from '../../src-preload/contract.ts';
import { createHandlers, type Dialogs } from './handlers.ts';
import { authorize, DECRYPTING, PermissionError } from './roles.ts';
import { DEFAULT_IDLE_LOCK_MS, Session } from './session.ts';

export interface ApiDeps extends Dialogs {
  workspaceDir: string;
  emit(p: Progress): void;
  /** Auto-lock after this long without a call; 15 minutes unless a test wants it shorter. */
  idleLockMs?: number;
}

export interface AppApi {
  /** Takes any string: the channel comes off IPC or HTTP unchecked and is validated here. */
  invoke(channel: string, rawReq: unknown): Promise<Envelope<unknown>>;
  dispose(): void;
}

function isChannel(channel: string): channel is Channel {
  return Object.hasOwn(Api, channel);
}

/** Paths and messages only: zod's messages name the expected type, never the value received. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(request)'}: ${i.message}`)
    .join('; ');
}

function failure(name: string, message: string): Envelope<never> {
  return { ok: false, error: { name, message } };
}

function thrown(e: unknown): Envelope<never> {
  return e instanceof Error ? failure(e.name, e.message) : failure('Error', String(e));
}

/**
 * The contract bound to the services, with no Electron in it: the IPC adapter and the e2e bridge are two
 * transports for the same object. Every request is parsed by its schema, every caller's role checked, and
 * every response parsed by its schema before it leaves, so a service returning more than the contract
 * allows (a field too many is dropped, a wrong type is refused) cannot leak it.
 */
export function createApi(deps: ApiDeps): AppApi {
  const session = new Session({ workspaceDir: deps.workspaceDir, emit: deps.emit, idleLockMs: deps.idleLockMs ?? DEFAULT_IDLE_LOCK_MS });
  const handlers = createHandlers(session, deps);

  async function invoke(channel: string, rawReq: unknown): Promise<Envelope<unknown>> {
    if (!isChannel(channel)) return failure('UnknownChannel', `no API channel named ${JSON.stringify(channel.slice(0, 80))}`);
    session.touch();
    const { req: reqSchema, res: resSchema } = Api[channel] as { req: z.ZodType; res: z.ZodType };
    const req = reqSchema.safeParse(rawReq);
    if (!req.success) return failure('ValidationError', `invalid ${channel} request: ${describeIssues(req.error.issues)}`);
    try {
      authorize(channel, session.role);
      // TypeScript cannot pair a union-typed channel with its handler; the request was parsed by that channel's schema.
      const value = await (handlers[channel] as (req: unknown) => Promise<unknown>)(req.data);
      const res = resSchema.safeParse(value);
      if (!res.success) {
        console.error(`homopai: ${channel} response failed its schema:`, describeIssues(res.error.issues));
        return failure('ContractError', `the ${channel} result does not fit the API contract (${describeIssues(res.error.issues)})`);
      }
      return { ok: true, value: res.data };
    } catch (e) {
      if (e instanceof PermissionError && DECRYPTING.has(channel)) {
        // The refusal stands either way; a log that cannot be written is reported, not allowed to mask it.
        await session
          .write(() => session.caller().audit('decrypt-refused', { purpose: 'role', channel }))
          .catch((ae: unknown) => console.error('homopai: refusal not audited:', ae));
      }
      return thrown(e);
    }
  }

  return { invoke, dispose: () => session.dispose() };
}
