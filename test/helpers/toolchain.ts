// Every external tool and file the tests and the product use, with one check and one install
// hint each. `npm run doctor` prints the table; tests that need a tool skip with the same
// message; under CI (CI=true) a tool that .ci/run installs but that is missing fails the doctor
// step, so a missing install is one loud line instead of a failure deep in the suite.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS } from './corpus.ts';
import { TF_PYTHON } from './tensorflow.ts';

export interface Tool {
  id: string;
  /** What it is, as a person would name it. */
  label: string;
  /** Who needs it. */
  usedBy: string;
  /** How to get it on Debian (or otherwise). */
  install: string;
  /** .ci/run installs it: under CI=true its absence is a failure, not a skip. */
  ciInstalls: boolean;
  /** true when present and usable, else why not. */
  check: () => true | string;
}

function runs(command: string, args: string[], env?: NodeJS.ProcessEnv): { ok: boolean; out: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000, env: env ?? process.env });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

function executable(command: string, args = ['--version']): true | string {
  const r = runs(command, args);
  return r.ok ? true : `${command} not found or not runnable`;
}

/** Where Debian's libprotobuf-dev puts the well-known types that TensorFlow's .proto files import. */
export const PROTOBUF_INCLUDE = '/usr/include';

const TOOLS: Tool[] = [
  {
    id: 'node',
    label: 'Node.js ≥ 20',
    usedBy: 'everything',
    install: 'install Node.js 20 or newer',
    ciInstalls: false,
    check: () => (Number(process.versions.node.split('.')[0]) >= 20 ? true : `Node ${process.versions.node} is older than 20`),
  },
  {
    id: 'corpus',
    label: 'reference corpus ../shared/corpus',
    usedBy: 'corpus tests',
    install: 'check out the team reference material beside the repo (../shared)',
    ciInstalls: false,
    check: () => (existsSync(join(CORPUS, 'real')) ? true : `${CORPUS} is not present`),
  },
  {
    id: 'protoc',
    label: 'protoc with the well-known types (google/protobuf/*.proto)',
    usedBy: 'the .proto and text-format oracle tests',
    install: 'apt-get install protobuf-compiler libprotobuf-dev',
    ciInstalls: true,
    check: () => {
      if (executable('protoc') !== true) return 'protoc not installed (protobuf-compiler)';
      const missing = ['any.proto', 'wrappers.proto'].filter((f) => !existsSync(join(PROTOBUF_INCLUDE, 'google', 'protobuf', f)));
      return missing.length ? `${missing.join(', ')} missing under ${PROTOBUF_INCLUDE}/google/protobuf (libprotobuf-dev)` : true;
    },
  },
  {
    id: 'python3-protobuf',
    label: 'python3 with google.protobuf',
    usedBy: 'the text-format oracle tests',
    install: 'apt-get install python3 python3-protobuf',
    ciInstalls: true,
    check: () => (runs('/usr/bin/python3', ['-c', 'import google.protobuf.text_format']).ok ? true : '/usr/bin/python3 cannot import google.protobuf (python3-protobuf)'),
  },
  {
    id: 'python3-yaml',
    label: 'python3 with PyYAML',
    usedBy: 'the deploy manifest tests (Kubernetes Job, CI workflow)',
    install: 'apt-get install python3-yaml',
    ciInstalls: true,
    check: () => (runs('/usr/bin/python3', ['-c', 'import yaml']).ok ? true : '/usr/bin/python3 cannot import yaml (python3-yaml)'),
  },
  {
    id: 'bwrap',
    label: 'bubblewrap',
    usedBy: 'the sandbox, the analyzer isolation and their tests',
    install: 'apt-get install bubblewrap',
    ciInstalls: true,
    check: () => {
      const r = runs('bwrap', ['--ro-bind', '/', '/', '--unshare-pid', '--unshare-net', '--', '/bin/true']);
      return r.ok ? true : `bwrap missing or cannot create namespaces: ${r.out.trim().split('\n')[0] ?? ''}`;
    },
  },
  {
    id: 'strace',
    label: 'strace',
    usedBy: 'the sandbox observer (attempted system calls)',
    install: 'apt-get install strace',
    ciInstalls: true,
    check: () => (existsSync('/usr/bin/strace') ? executable('/usr/bin/strace', ['-V']) : 'strace not installed under /usr/bin'),
  },
  {
    id: 'gnu-time',
    label: 'GNU time',
    usedBy: 'the sandbox observer (peak memory, CPU time)',
    install: 'apt-get install time',
    ciInstalls: true,
    check: () => (runs('/usr/bin/time', ['--version']).out.includes('GNU') ? true : '/usr/bin/time is not GNU time'),
  },
  {
    id: 'poppler',
    label: 'poppler-utils (pdftotext, pdftoppm, pdfinfo)',
    usedBy: 'the PDF tests (reading reports back)',
    install: 'apt-get install poppler-utils',
    ciInstalls: true,
    check: () => {
      const missing = ['pdftotext', 'pdftoppm', 'pdfinfo'].filter((c) => executable(c, ['-v']) !== true);
      return missing.length ? `${missing.join(', ')} not installed` : true;
    },
  },
  {
    id: 'imagemagick',
    label: 'ImageMagick convert',
    usedBy: 'the PDF page-image tests',
    install: 'apt-get install imagemagick',
    ciInstalls: true,
    check: () => (runs('convert', ['-version']).out.includes('ImageMagick') ? true : 'ImageMagick convert not installed'),
  },
  {
    id: 'chromium',
    label: 'Chromium',
    usedBy: 'the end-to-end tests of the real renderer (playwright-core)',
    install: 'apt-get install chromium',
    ciInstalls: true,
    check: () => {
      const path = process.env.TFAUDIT_CHROMIUM ?? '/usr/bin/chromium';
      return existsSync(path) ? executable(path, ['--headless', '--no-sandbox', '--version']) : `${path} not present`;
    },
  },
  {
    id: 'tensorflow',
    label: 'TensorFlow 2.21 virtualenv',
    usedBy: 'tests that write attack models with real TensorFlow and run them in the sandbox',
    install: 'python3 -m venv /opt/tfvenv && /opt/tfvenv/bin/pip install --index-url file:///opt/pypi/simple tensorflow-cpu==2.21.0',
    ciInstalls: true,
    check: () => {
      if (!existsSync(TF_PYTHON)) return `${TF_PYTHON} missing (set TFAUDIT_TF_PYTHON)`;
      const r = runs(TF_PYTHON, ['-c', 'import tensorflow, h5py, keras; print(tensorflow.__version__)'], { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' });
      return r.ok ? true : `${TF_PYTHON} cannot import tensorflow, keras and h5py`;
    },
  },
];

const results = new Map<string, true | string>();

export function tools(): readonly Tool[] {
  return TOOLS;
}

/** The check's answer, run once per process. */
export function toolStatus(id: string): true | string {
  const tool = TOOLS.find((t) => t.id === id);
  if (!tool) throw new Error(`unknown tool ${id}`);
  if (!results.has(id)) results.set(id, tool.check());
  return results.get(id)!;
}

/** A test's `skip` option: false when every tool is there, else one line naming what is missing and its install command. */
export function skipWithout(...ids: string[]): string | false {
  for (const id of ids) {
    const status = toolStatus(id);
    if (status !== true) {
      const tool = TOOLS.find((t) => t.id === id)!;
      return `${tool.label} missing: ${status} — install: ${tool.install} (npm run doctor lists every tool)`;
    }
  }
  return false;
}
