import type { Channel, HomopaiApi, Progress, Req, Res } from '../../../src-preload/contract.ts';

/** An error envelope from the services, rethrown so callers can show its message as is. */
export class ApiFailure extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

function api(): HomopaiApi {
  // The preload (or the test bridge) may be missing entirely, e.g. when index.html is opened on its own.
  const bridge: HomopaiApi | undefined = window.homopai;
  if (!bridge) throw new ApiFailure('NotConnected', 'HomoPAI services are not connected: start the app through HomoPAI.');
  return bridge;
}

export async function call<C extends Channel>(channel: C, req: Req<C>): Promise<Res<C>> {
  const envelope = await api().invoke(channel, req);
  if (!envelope.ok) throw new ApiFailure(envelope.error.name, envelope.error.message);
  return envelope.value;
}

export function newJobId(): string {
  return crypto.randomUUID();
}

/** Progress events are broadcast for every job; a caller only wants its own. Returns the unsubscribe. */
export function onJobProgress(jobId: string, listener: (p: Progress) => void): () => void {
  return api().onProgress((p) => {
    if (p.jobId === jobId) listener(p);
  });
}

/** Anything thrown (transport failures included) as a failure with a readable message. */
/** A message as a sentence for people: services write lowercase clauses for logs ("wrong passphrase (...)"). */
export function sentence(message: string): string {
  const text = message.trim();
  if (text === '') return text;
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?)]$/.test(capital) ? capital : `${capital}.`;
}

export function asFailure(error: unknown): ApiFailure {
  if (error instanceof ApiFailure) return error;
  if (error instanceof Error) return new ApiFailure(error.name, error.message);
  return new ApiFailure('Error', String(error));
}
