import { createInterface } from 'node:readline';

/**
 * The passphrase comes from HOMOPAI_PASSPHRASE or an interactive prompt, never from argv (visible in `ps`
 * and shell history).
 */
export async function readPassphrase(purpose: string, env = 'HOMOPAI_PASSPHRASE'): Promise<string> {
  const fromEnv = process.env[env];
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) {
    throw new Error(`${purpose} needs the vault passphrase: set ${env} or run in a terminal`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Echo is suppressed by writing nothing for each typed character.
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  process.stderr.write(`Passphrase (${purpose}): `);
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    process.stderr.write('\n');
    rl.close();
  }
}
