// `tfaudit serve`: the renderer bundle and the AuditService API over HTTP on loopback only.
// Every request needs the random access token (query on first load → HttpOnly SameSite=Strict
// cookie, or `Authorization: Bearer`). Uploads land in a private temp workspace that is
// deleted on close. Sandbox runs and progress stream to the page as Server-Sent Events.
import { STATIC_CONTENT_TYPES } from '../service/content-types.ts';
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { join, resolve, sep, extname } from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  CHANNELS,
  RequestValidationError,
  toApiError,
  validateAddCheckpointsUploadedRequest,
  validateExportPdfRequest,
  validateExportRegistryPdfRequest,
  validateOpenRegistryModelRequest,
  validateGetAuditRequest,
  validateSetRuntimeRequest,
  validateOpenUploadedRequest,
  validateSandboxLaunchRequest,
  validateSandboxPlanRequest,
  validateSandboxStopRequest,
  validateVulnReportRequest,
  type ApiResult,
  type SandboxEvent,
  type ProgressEvent,
} from '../../shared/api.ts';
import { rendererCsp, scriptHashesOf } from '../service/csp.ts';
import type { AuditBackend } from '../service/backend.ts';
import { DEFAULT_UPLOAD_LIMITS, UploadRejected, UploadWorkspace, type UploadLimits } from './upload.ts';

/** The HTTP host's CSP: the renderer's, plus what only a header can carry (frame-ancestors). */
export function webCsp(indexHtml: string): string {
  return `${rendererCsp(scriptHashesOf(indexHtml))}; frame-ancestors 'none'`;
}
export const TOKEN_COOKIE = 'tfaudit_token';
const MAX_JSON_BYTES = 64 * 1024;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

export interface ServeOptions {
  backend: AuditBackend;
  /** Built renderer (dist/renderer): index.html + bundle. */
  rendererDir: string;
  /** Loopback only: 127.0.0.1 (default), ::1 or localhost. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  limits?: Partial<UploadLimits>;
  /** Fixed token for tests; random 32 bytes otherwise. */
  token?: string;
}

export interface RunningServer {
  url: string;
  /** The URL to open: carries the token once, the page then lives on the cookie. */
  urlWithToken: string;
  port: number;
  token: string;
  /** The Content-Security-Policy header on every response. */
  csp: string;
  workspace: UploadWorkspace;
  server: Server;
  /** Stops listening, ends event streams, deletes the workspace. Does not dispose the backend. */
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.has(host)) throw new Error(`tfaudit serve listens on loopback only (127.0.0.1, ::1, localhost), not ${host}`);
  const rendererDir = resolve(options.rendererDir);
  if (!existsSync(join(rendererDir, 'index.html'))) throw new Error(`no renderer bundle at ${rendererDir} (run npm run build)`);
  const csp = webCsp(readFileSync(join(rendererDir, 'index.html'), 'utf8'));
  const token = options.token ?? randomBytes(32).toString('base64url');
  const tokenBytes = Buffer.from(token);
  const workspace = new UploadWorkspace({ ...DEFAULT_UPLOAD_LIMITS, ...options.limits });
  const backend = options.backend;
  const streams = new Set<ServerResponse>();
  let port = 0;

  const broadcast = (type: 'progress' | 'sandbox', payload: ProgressEvent | SandboxEvent) => {
    const frame = `event: ${type}\ndata: ${JSON.stringify(payload)}\n\n`;
    for (const res of streams) res.write(frame);
  };
  const stopProgress = backend.onProgress((e) => broadcast('progress', e));

  const tokenMatches = (candidate: string | null | undefined): boolean => {
    if (!candidate) return false;
    const c = Buffer.from(candidate);
    return c.length === tokenBytes.length && timingSafeEqual(c, tokenBytes);
  };

  const authorised = (req: IncomingMessage, url: URL): 'header' | 'cookie' | 'query' | null => {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ') && tokenMatches(auth.slice(7))) return 'header';
    if (tokenMatches(readCookie(req.headers.cookie, TOKEN_COOKIE))) return 'cookie';
    if (req.method === 'GET' && url.pathname === '/' && tokenMatches(url.searchParams.get('token'))) return 'query';
    return null;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    setSecurityHeaders(res, csp);
    // DNS-rebinding defence: the Host header must name the loopback address we listen on.
    const hostHeader = req.headers.host ?? '';
    if (!isLoopbackHost(hostHeader, port)) throw new HttpError(421, 'unexpected Host header');
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const auth = authorised(req, url);
    if (!auth) throw new HttpError(401, 'missing or wrong access token: open the URL printed by `tfaudit serve`');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const origin = req.headers.origin;
      if (origin && !isLoopbackHost(origin.replace(/^https?:\/\//, ''), port)) throw new HttpError(403, 'cross-origin request refused');
    }
    if (auth === 'query') {
      // Trade the token in the URL for a cookie and drop it from the address bar and history.
      res.setHeader('Set-Cookie', `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
      res.writeHead(303, { Location: '/' }).end();
      return;
    }

    const path = url.pathname;
    if (path === '/api/uploads' && req.method === 'POST') return sendJson(res, 200, { uploadId: workspace.newBatch() });
    const uploadMatch = /^\/api\/uploads\/([A-Za-z0-9]+)$/.exec(path);
    if (uploadMatch && req.method === 'PUT') {
      const name = url.searchParams.get('path');
      if (name === null) throw new HttpError(400, 'the upload needs ?path=<relative name>');
      const length = req.headers['content-length'] ? Number(req.headers['content-length']) : null;
      const stored = await workspace.writeFile(uploadMatch[1], name, req, Number.isFinite(length) ? length : null);
      return sendJson(res, 200, { bytes: stored.bytes });
    }
    if (path === '/api/events' && req.method === 'GET') return openEventStream(res);
    const downloadMatch = /^\/api\/download\/([A-Za-z0-9]+)$/.exec(path);
    if (downloadMatch && req.method === 'GET') {
      const artifact = workspace.readArtifact(downloadMatch[1]);
      if (!artifact) throw new HttpError(404, 'no such download');
      res.writeHead(200, {
        'Content-Type': artifact.type,
        'Content-Length': artifact.bytes.length,
        'Content-Disposition': `attachment; filename="${artifact.name.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
      });
      res.end(artifact.bytes);
      return;
    }
    if (path.startsWith('/api/') && req.method === 'POST') {
      const channel = decodeURIComponent(path.slice('/api/'.length));
      const body = await readJson(req);
      const result = await invoke(channel, body);
      return sendJson(res, result.ok ? 200 : statusFor(result.error.code), result);
    }
    if (req.method === 'GET' || req.method === 'HEAD') return serveStatic(path, res);
    throw new HttpError(405, 'method not allowed');
  }

  async function invoke(channel: string, body: unknown): Promise<ApiResult<unknown>> {
    try {
      return { ok: true, value: await dispatch(channel, body) };
    } catch (err) {
      return { ok: false, error: toApiError(err instanceof UploadRejected ? new RequestValidationError(err.message) : err) };
    }
  }

  async function dispatch(channel: string, body: unknown): Promise<unknown> {
    switch (channel) {
      case CHANNELS.openDropped:
        validateOpenUploadedRequest(body);
        return backend.open(workspace.entries(body.uploadId));
      case CHANNELS.addCheckpointsDropped:
        validateAddCheckpointsUploadedRequest(body);
        return backend.addCheckpoints(body.auditId, workspace.entries(body.uploadId));
      case CHANNELS.getAudit:
        validateGetAuditRequest(body);
        return backend.get(body.auditId);
      case CHANNELS.setRuntime:
        validateSetRuntimeRequest(body);
        return backend.setRuntime(body.auditId, body.tfRuntime);
      case CHANNELS.exportPdf: {
        validateExportPdfRequest(body);
        const pdf = await backend.exportPdf(body.auditId, body.auditor);
        const id = workspace.storeArtifact(pdf, `tfaudit-${body.auditId}.pdf`, 'application/pdf');
        return { savedTo: null, downloadUrl: `/api/download/${id}` };
      }
      case CHANNELS.openRegistryModel:
        validateOpenRegistryModelRequest(body);
        return backend.openRegistryModel(body.registryId, body.rowId);
      case CHANNELS.exportRegistryPdf: {
        validateExportRegistryPdfRequest(body);
        const pdf = await backend.exportRegistryPdf(body.registryId, body.auditor);
        const id = workspace.storeArtifact(pdf, 'tfaudit-registry.pdf', 'application/pdf');
        return { savedTo: null, downloadUrl: `/api/download/${id}` };
      }
      case CHANNELS.vulnReport:
        validateVulnReportRequest(body);
        return { markdown: await backend.vulnReport(body.auditId, body.findingId) };
      case CHANNELS.sandboxPlan:
        validateSandboxPlanRequest(body);
        return backend.sandboxPlan(body.auditId, body.findingId, body.overrides);
      case CHANNELS.sandboxLaunch:
        validateSandboxLaunchRequest(body);
        return backend.sandboxLaunch(body.auditId, body.findingId, body.overrides, (e) => broadcast('sandbox', e));
      case CHANNELS.sandboxStop:
        validateSandboxStopRequest(body);
        await backend.sandboxStop(body.runId);
        return null;
      case CHANNELS.openDialog:
      case CHANNELS.addCheckpointsDialog:
        throw new RequestValidationError('the web host opens files in the browser and uploads them; there is no server-side dialog');
      default:
        throw Object.assign(new Error(`unknown API channel ${JSON.stringify(channel)}`), { code: 'not-found' });
    }
  }

  function openEventStream(res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
    res.write(': tfaudit events\n\n');
    streams.add(res);
    res.on('close', () => streams.delete(res));
  }

  function serveStatic(path: string, res: ServerResponse): void {
    const rel = path === '/' ? 'index.html' : decodeURIComponent(path.slice(1));
    const type = STATIC_CONTENT_TYPES[extname(rel)];
    const file = resolve(rendererDir, rel);
    if (!type || rel.includes('\0') || !file.startsWith(rendererDir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      throw new HttpError(404, 'not found');
    }
    const bytes = readFileSync(file);
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': bytes.length });
    res.end(bytes);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : err instanceof UploadRejected ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // Drain what the client still sends so it sees the status rather than a reset.
      req.resume();
      sendJson(res, status, { ok: false, error: { code: status >= 500 ? 'internal' : 'bad-request', message } });
    });
  });
  server.requestTimeout = 0; // large uploads: limits are by size, not time
  await new Promise<void>((done, failed) => {
    server.once('error', failed);
    server.listen(options.port ?? 0, host, () => done());
  });
  port = (server.address() as AddressInfo).port;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closed = false;
  return {
    url: `${base}/`,
    urlWithToken: `${base}/?token=${encodeURIComponent(token)}`,
    port,
    token,
    csp,
    workspace,
    server,
    async close() {
      if (closed) return;
      closed = true;
      stopProgress();
      for (const res of streams) res.end();
      streams.clear();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      workspace.dispose();
    },
  };
}

function statusFor(code: string): number {
  switch (code) {
    case 'bad-request':
      return 400;
    case 'not-found':
      return 404;
    case 'unreadable-model':
      return 422;
    case 'timeout':
      return 504;
    case 'sandbox-unavailable':
      return 503;
    default:
      return 500;
  }
}

function setSecurityHeaders(res: ServerResponse, csp: string): void {
  res.setHeader('Content-Security-Policy', csp);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BYTES) throw new HttpError(413, `request body larger than ${MAX_JSON_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
  } catch {
    throw new HttpError(400, 'request body is not JSON');
  }
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

function isLoopbackHost(hostHeader: string, port: number): boolean {
  const m = /^(\[::1\]|127\.0\.0\.1|localhost)(?::(\d+))?$/.exec(hostHeader);
  return m !== null && (m[2] === undefined ? port === 80 : Number(m[2]) === port);
}
