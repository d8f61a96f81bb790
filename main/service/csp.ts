// The renderer's Content-Security-Policy, the same for the Electron app:// protocol and the web host.

/**
 * The renderer's policy (the `<meta>` tag in the built index.html and the header on every
 * response): no inline script or style, scripts only by the hash of the built bundle (so not
 * even another file of our own origin could run), nothing from anywhere but the app itself.
 */
export function rendererCsp(scriptHashes: string[], connect: 'self' | 'none' = 'self'): string {
  if (scriptHashes.length === 0) throw new Error('the renderer bundle has no script integrity hash (build it with scripts/build.mjs)');
  const scripts = scriptHashes.map((h) => `'${h}'`).join(' ');
  return `default-src 'none'; script-src ${scripts}; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src '${connect}'; base-uri 'none'; form-action 'none'; object-src 'none'`;
}

/** Electron's renderer talks to main over IPC only: it needs no fetch/XHR/EventSource at all. */
export function electronCsp(scriptHashes: string[]): string {
  return rendererCsp(scriptHashes, 'none');
}

/** The `integrity` hashes of the built index.html's scripts (`sha256-…`), which the CSP allows. */
export function scriptHashesOf(indexHtml: string): string[] {
  return [...indexHtml.matchAll(/<script\b[^>]*\bintegrity="(sha(?:256|384|512)-[A-Za-z0-9+/]+={0,2})"/g)].map((m) => m[1]);
}
