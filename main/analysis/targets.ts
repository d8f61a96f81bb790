// Classifies a path, URL or address that an unsafe op will use, so a finding can say in plain
// words what is at stake ("reads /etc/passwd: the account list", "writes into the model's own
// variables/"). Works on the resolved string only; it never touches the filesystem.
import { posix } from 'node:path';

export type TargetClassification =
  | 'local-path'
  | 'sensitive-path'
  | 'model-own-files'
  | 'file-url'
  | 'grpc'
  | 'cloud-storage'
  | 'http'
  | 'network-address'
  | 'unknown';

export interface TargetContext {
  /** Absolute path of the model directory (SavedModel root), when known. */
  modelDir?: string | null;
}

export interface TargetInfo {
  classification: TargetClassification;
  note?: string;
}

const CLOUD_SCHEMES: Record<string, string> = {
  'gs:': 'Google Cloud Storage',
  's3:': 'Amazon S3',
  'hdfs:': 'HDFS',
  'viewfs:': 'HDFS (viewfs)',
  'har:': 'Hadoop archive',
  'az:': 'Azure Blob Storage',
  'oss:': 'Alibaba OSS',
};

interface SensitiveRule {
  test: (path: string) => boolean;
  note: string;
}

const segmentsOf = (path: string): string[] => path.split('/').filter((s) => s !== '');
const baseName = (path: string): string => segmentsOf(path).pop() ?? '';

// Order matters: the first matching rule gives the note.
const SENSITIVE: SensitiveRule[] = [
  { test: (p) => /^\/etc\/(shadow|gshadow)(-|$)/.test(p), note: 'the password hashes of the system accounts' },
  { test: (p) => /^\/etc\/passwd(-|$)/.test(p), note: 'the list of system accounts' },
  { test: (p) => /^\/etc\/sudoers(\.d)?(\/|$)/.test(p), note: 'who may run commands as root' },
  { test: (p) => /^\/etc\/(cron\.[^/]+|crontab)(\/|$)/.test(p) || /^\/var\/spool\/cron(\/|$)/.test(p), note: 'scheduled commands (crontab): code that runs later' },
  { test: (p) => /(^|\/)\.ssh(\/|$)/.test(p), note: 'SSH keys and authorised logins (~/.ssh)' },
  { test: (p) => baseName(p) === 'authorized_keys' || baseName(p) === 'authorized_keys2', note: 'the keys allowed to log in over SSH' },
  { test: (p) => /(^|\/)\.(aws|gcloud|azure|kube|docker|gnupg)(\/|$)/.test(p) || /(^|\/)\.config\/gcloud(\/|$)/.test(p), note: 'cloud, cluster or signing credentials' },
  { test: (p) => /(^|\/)\.(netrc|pgpass|git-credentials|npmrc|pypirc)$/.test(p), note: 'stored passwords or access tokens' },
  { test: (p) => /(^|\/)\.(bashrc|bash_profile|bash_login|profile|zshrc|zprofile|zshenv|bash_logout|xinitrc|xprofile)$/.test(p), note: 'a shell start-up file: commands in it run at the next login' },
  { test: (p) => p === '/var/run/docker.sock' || p === '/run/docker.sock', note: 'the Docker socket: control over the host' },
  { test: (p) => /^\/proc(\/|$)/.test(p), note: 'process information of the machine (/proc), e.g. environment variables and memory' },
  { test: (p) => /^\/sys(\/|$)/.test(p), note: 'kernel and device settings (/sys)' },
  { test: (p) => /^\/dev(\/|$)/.test(p), note: 'a device file (/dev): endless reads or raw hardware access' },
  { test: (p) => /^\/root(\/|$)/.test(p), note: "the root user's home directory" },
  { test: (p) => /^\/etc(\/|$)/.test(p), note: 'system configuration (/etc)' },
  { test: (p) => /^\/boot(\/|$)/.test(p), note: 'the boot loader and kernel' },
  { test: (p) => /^\/(usr\/)?(s?bin|lib|lib64|libexec)(\/|$)/.test(p), note: 'system programs and libraries' },
  { test: (p) => /\.(py|pyc|pyo|pth)$/.test(p), note: 'Python code: it runs the next time it is imported' },
  { test: (p) => /\.(so|so\.\d[\d.]*|dylib|dll)$/.test(p), note: 'a native library: it runs when loaded' },
  { test: (p) => /\.(sh|bash|zsh|ps1|bat|cmd|exe)$/.test(p), note: 'a script or program' },
  { test: (p) => /(^|\/)(sitecustomize|usercustomize)\.py$/.test(p) || /(^|\/)site-packages(\/|$)/.test(p), note: 'Python packages: code that runs on import' },
  { test: (p) => /^~(\/|$)/.test(p) || /^\/home\/[^/]+(\/|$)/.test(p) || /^\/Users\/[^/]+(\/|$)/.test(p), note: "a user's home directory" },
];

function hasTraversal(path: string): boolean {
  return segmentsOf(path).includes('..');
}

function hasGlob(path: string): boolean {
  return /[*?[\]{}]/.test(path);
}

function normalise(path: string): string {
  if (path.startsWith('~')) return path;
  return posix.normalize(path);
}

function isInside(child: string, parent: string): boolean {
  const rel = posix.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !posix.isAbsolute(rel));
}

function modelOwnNote(path: string, modelDir: string): string | null {
  const dir = posix.normalize(modelDir.replace(/\\/g, '/'));
  const absolute = posix.isAbsolute(path) ? path : null;
  const relative = absolute ? posix.relative(dir, absolute) : posix.normalize(path);
  if (absolute && !isInside(absolute, dir)) return null;
  if (relative.startsWith('..')) return null;
  const first = segmentsOf(relative)[0] ?? '';
  if (first === 'variables') return "the model's own checkpoint (variables/): overwriting it changes what the model computes next time";
  if (first === 'saved_model.pb' || first === 'saved_model.pbtxt') return "the model's own graph (saved_model.pb): overwriting it changes the program";
  if (first === 'assets' || first === 'assets.extra') return "the model's own asset files";
  if (first === 'fingerprint.pb' || first === 'keras_metadata.pb') return "the model's own metadata";
  return absolute ? 'a file inside the model directory' : null;
}

function classifyLocalPath(raw: string, ctx: TargetContext): TargetInfo {
  const path = normalise(raw);
  const notes: string[] = [];
  if (hasTraversal(raw)) notes.push('path traversal (..) climbs out of the directory it starts in');
  if (hasGlob(raw)) notes.push('a glob pattern: every matching file is listed or opened');

  for (const rule of SENSITIVE) {
    if (rule.test(path) || rule.test(raw)) return { classification: 'sensitive-path', note: [rule.note, ...notes].join('; ') };
  }
  if (ctx.modelDir) {
    const own = modelOwnNote(path, ctx.modelDir);
    if (own) return { classification: 'model-own-files', note: [own, ...notes].join('; ') };
  }
  if (hasTraversal(raw)) return { classification: 'sensitive-path', note: notes.join('; ') };
  if (path === '/' || /^\/(home|Users)\/?$/.test(path) || /^\/(home|Users)\/[*?]/.test(path)) {
    return { classification: 'sensitive-path', note: ['the root of the filesystem or of the home directories', ...notes].join('; ') };
  }
  const note = notes.length ? notes.join('; ') : path.startsWith('/') ? undefined : 'a relative path: resolved against the working directory of the process';
  return note ? { classification: 'local-path', note } : { classification: 'local-path' };
}

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Classify a path / URL / address string an op will use. */
export function classifyTarget(value: string, ctx: TargetContext = {}): TargetInfo {
  const text = value.trim();
  if (text === '') return { classification: 'unknown', note: 'empty string' };

  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
  if (scheme) {
    const name = scheme[1].toLowerCase();
    const rest = text.slice(scheme[0].length);
    if (name === 'file') {
      const inner = classifyLocalPath(rest, ctx);
      const note = inner.note ? `file URL for ${rest}: ${inner.note}` : `file URL for ${rest}`;
      return { classification: inner.classification === 'local-path' ? 'file-url' : inner.classification, note };
    }
    if (name === 'grpc' || name === 'grpc+loas' || name === 'grpcs') {
      return { classification: 'grpc', note: `gRPC endpoint ${rest}: data leaves the process over the network` };
    }
    if (name === 'http' || name === 'https') {
      return { classification: 'http', note: `web address ${rest.split('/')[0]}: read or written through TensorFlow's HTTP filesystem` };
    }
    const cloud = CLOUD_SCHEMES[`${name}:`];
    if (cloud) return { classification: 'cloud-storage', note: `${cloud} (${rest.split('/')[0]}): data goes over the network with the process's credentials` };
    if (name === 'ram') return { classification: 'local-path', note: "TensorFlow's in-memory filesystem (ram://): nothing reaches the disk" };
    if (name === 'memcbk') return { classification: 'local-path', note: 'an in-process debugger callback (memcbk://)' };
    return { classification: 'unknown', note: `unrecognised scheme ${name}://` };
  }

  const hostPort = HOST_PORT.exec(text);
  if (hostPort && !text.includes('/') && Number(hostPort[2]) <= 65535) {
    return { classification: 'network-address', note: `network address ${text}` };
  }
  if (/^(localhost|(\d{1,3}\.){3}\d{1,3})$/.test(text)) return { classification: 'network-address', note: `network host ${text}` };

  // Windows paths (C:\Users\bob\.ssh) are checked with the same rules, drive letter dropped.
  if (text.startsWith('\\\\')) return { classification: 'network-address', note: `Windows network share ${text.split('\\').filter(Boolean)[0] ?? ''}` };
  if (/^[A-Za-z]:[\\/]/.test(text)) return classifyLocalPath(text.replace(/^[A-Za-z]:/, '').replace(/\\/g, '/'), ctx);
  return classifyLocalPath(text, ctx);
}
