import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Which pages may call the API and which URLs the renderer may load. Plain Node, so it is testable. */
export interface RendererTrust {
  /** Our own index.html (file://), or any page of the dev server during development. */
  isRendererPage(url: string): boolean;
  /** The renderer's own files, the dev server (HTTP and its HMR socket), and in-page data: and blob: URLs. */
  mayLoad(url: string): boolean;
}

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

export function rendererTrust(opts: { rendererDir: string; devServerUrl?: string | undefined }): RendererTrust {
  const root = resolve(opts.rendererDir);
  const index = join(root, 'index.html');
  const dev = opts.devServerUrl ? new URL(opts.devServerUrl) : null;

  const filePath = (u: URL): string | null => {
    if (u.protocol !== 'file:') return null;
    try {
      return resolve(fileURLToPath(u));
    } catch {
      return null;
    }
  };
  const insideRoot = (path: string): boolean => {
    const rel = relative(root, path);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  };
  // The HMR socket is ws:// on the dev server's host and port, so the host is compared, not the origin.
  const onDevServer = (u: URL): boolean => dev !== null && /^(https?|wss?):$/.test(u.protocol) && u.host === dev.host;

  return {
    isRendererPage(url) {
      const u = parse(url);
      if (!u) return false;
      if (dev) return u.origin === dev.origin;
      return filePath(u) === index;
    },
    mayLoad(url) {
      const u = parse(url);
      if (!u) return false;
      if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'devtools:') return true;
      const path = filePath(u);
      return path !== null ? insideRoot(path) : onDevServer(u);
    },
  };
}
