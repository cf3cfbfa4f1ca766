import { Api, type Channel, type Envelope, type HomopaiApi, type Progress, type Req, type Res } from '../../../src-preload/contract.ts';

/** Stands in for the transport only: each channel's answer is checked against the contract, both ways. */
export type FakeHandlers = { [C in Channel]?: (req: Req<C>) => Res<C> | Promise<Res<C>> };

export interface FakeHomopai {
  calls: { channel: Channel; req: unknown }[];
  callsTo(channel: Channel): unknown[];
  emit(p: Progress): void;
}

export function installFakeHomopai(handlers: FakeHandlers): FakeHomopai {
  const listeners = new Set<(p: Progress) => void>();
  const calls: FakeHomopai['calls'] = [];

  const api: HomopaiApi = {
    async invoke<C extends Channel>(channel: C, req: Req<C>): Promise<Envelope<Res<C>>> {
      calls.push({ channel, req });
      const schema = Api[channel];
      // A request the real services would refuse is a bug in the renderer: fail the test, not the UI.
      schema.req.parse(req);
      const handler = handlers[channel] as ((r: Req<C>) => Res<C> | Promise<Res<C>>) | undefined;
      if (!handler) return { ok: false, error: { name: 'NotFaked', message: `no fake answer for ${channel}` } };
      try {
        const value = await handler(req);
        return { ok: true, value: schema.res.parse(value) as Res<C> };
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        return { ok: false, error: { name: error.name, message: error.message } };
      }
    },
    onProgress(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  window.homopai = api;

  return {
    calls,
    callsTo: (channel) => calls.filter((c) => c.channel === channel).map((c) => c.req),
    emit: (p) => listeners.forEach((l) => l(p)),
  };
}

export function namedError(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

export const FINGERPRINT = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

export function keySetInfo(): NonNullable<Res<'session.status'>['keySet']> {
  return {
    fingerprint: FINGERPRINT,
    shortFingerprint: 'A1B2-C3D4-E5F6-0718',
    preset: 'standard',
    polyModulusDegree: 8192,
    coeffModulusBits: [50, 35, 35, 35, 50],
    scaleBits: 35,
    levels: 3,
    securityBits: 128,
    custody: 'passphrase',
    createdAt: '2025-01-10T09:00:00.000Z',
    publicKeyBytes: 400_000,
    relinKeyBytes: 1_600_000,
  };
}

export function sessionStatus(overrides: Partial<Res<'session.status'>> = {}): Res<'session.status'> {
  return {
    workspace: '/tmp/ws',
    keySet: null,
    unlocked: false,
    role: null,
    keychainAvailable: true,
    keychainProblem: null,
    ...overrides,
  };
}

export const PRESETS: Res<'presets.list'> = [
  {
    name: 'standard',
    summary: 'N=8192, 128-bit security, 3 levels: fast.',
    polyModulusDegree: 8192,
    coeffModulusBits: [50, 35, 35, 35, 50],
    levels: 3,
    securityBits: 128,
  },
  {
    name: 'deep',
    summary: 'N=16384, 128-bit security, 8 levels: about 4x slower.',
    polyModulusDegree: 16384,
    coeffModulusBits: [50, 40, 40, 40, 40, 40, 40, 40, 40, 50],
    levels: 8,
    securityBits: 128,
  },
];

export function metrics(overrides: Partial<Res<'evaluate.run'>['metrics']> = {}): Res<'evaluate.run'>['metrics'] {
  return { accuracy: 0.9474, precision: 0.75, recall: 1, f1: 0.8571, auc: 0.9792, brier: 0.0612, confusion: { tp: 3, fp: 1, tn: 15, fn: 0 }, ...overrides };
}

export const EMPTY_OVERVIEW: Res<'patients.overview'> = { hospitals: [], batches: [] };

/** Lets pending promise callbacks (fake answers, store updates) run before the next assertion. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}
