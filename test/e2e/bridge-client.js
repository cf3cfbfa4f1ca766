// window.homopai for a plain browser, over the e2e bridge's loopback HTTP: the same HomopaiApi the preload
// exposes in Electron, so the renderer cannot tell the transports apart. Test code, never shipped.
(() => {
  const token = new URL(document.currentScript.src).searchParams.get('t');
  const listeners = new Set();
  // Opened at load, not on first subscribe: connecting takes a moment, and a job started right after
  // subscribing would lose its first progress events.
  const events = new EventSource(`/__bridge/events?t=${encodeURIComponent(token)}`);
  events.onmessage = (e) => {
    const progress = JSON.parse(e.data);
    for (const listener of listeners) listener(progress);
  };

  async function invoke(channel, req) {
    let res;
    try {
      res = await fetch('/__bridge/invoke', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-homopai-token': token },
        body: JSON.stringify({ channel, req }),
      });
    } catch (e) {
      return { ok: false, error: { name: 'BridgeError', message: `the test bridge is unreachable: ${e.message}` } };
    }
    if (!res.ok) return { ok: false, error: { name: 'BridgeError', message: `the test bridge answered ${res.status}: ${await res.text()}` } };
    return res.json();
  }

  function onProgress(listener) {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  Object.defineProperty(window, 'homopai', { value: Object.freeze({ invoke, onProgress }), enumerable: true });
})();
