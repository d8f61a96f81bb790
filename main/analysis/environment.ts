// Ops whose value comes from the world the model runs in, not from the model: the clock,
// random number generators, files, queues, datasets and readers consumed at run time, Python
// callbacks and other run-time state. A gate fed by one of them is an `environment` trigger:
// nothing in the model or its checkpoint decides it, and no caller input does either.

export type EnvironmentKind = 'time' | 'randomness' | 'file' | 'run-time data' | 'python' | 'run-time state';

const TIME = new Set(['Timestamp']);
const FILE = new Set(['ReadFile', 'MatchingFiles', 'ImmutableConst', 'DecodeProtoV2', 'FixedLengthRecordReader', 'FixedLengthRecordReaderV2', 'TextLineReader', 'TextLineReaderV2', 'TFRecordReader', 'TFRecordReaderV2', 'WholeFileReader', 'WholeFileReaderV2', 'IdentityReader', 'IdentityReaderV2', 'LMDBReader', 'ReaderRead', 'ReaderReadV2', 'ReaderReadUpTo', 'ReaderReadUpToV2', 'RestoreV2', 'Restore', 'RestoreSlice', 'CSVDataset', 'TFRecordDataset', 'TextLineDataset', 'FixedLengthRecordDataset']);
const PYTHON = new Set(['PyFunc', 'PyFuncStateless', 'EagerPyFunc', 'NumpyFunction']);

/** Random number generation: stateful RNG ops, and stateless ones whose seed the model may feed from state. */
function isRandom(op: string): boolean {
  return /Random|Multinomial|TruncatedNormal|^Rng|^StatefulUniform|^StatefulStandardNormal|^StatefulTruncatedNormal|^NonDeterministicInts|^ParameterizedTruncatedNormal|^RandomGamma|^RandomPoisson|^Stateless(Multinomial|ParameterizedTruncatedNormal)|^AnonymousSeedGenerator|^AnonymousRandomSeedGenerator/.test(op);
}

/** Queues, iterators, datasets, tensor arrays of run-time data, session handles. */
function isRunTimeData(op: string): boolean {
  return /^(Queue|Iterator|MultiDeviceIterator|AnonymousIterator|OneShotIterator|GetSessionTensor|GetSessionHandle|Stage|Unstage|MapPeek|MapUnstage|OrderedMap|Barrier|Accumulator|ConditionalAccumulator|ResourceAccumulator|SparseAccumulator|Recv|_Recv|_HostRecv)/.test(op) || /Dataset(V\d)?$/.test(op) || /^(QueueDequeue|IteratorGetNext)/.test(op);
}

/** The environment an op reads, or null when its value is the model's own. */
export function environmentOf(op: string): EnvironmentKind | null {
  if (TIME.has(op)) return 'time';
  if (isRandom(op)) return 'randomness';
  if (FILE.has(op)) return 'file';
  if (PYTHON.has(op)) return 'python';
  if (isRunTimeData(op)) return 'run-time data';
  return null;
}

export function describeEnvironment(kind: EnvironmentKind | 'run-time state', op: string, node: string): string {
  const what: Record<EnvironmentKind, string> = {
    time: 'the clock',
    randomness: 'a random number generator',
    file: 'a file read at run time',
    'run-time data': 'data fed at run time (queue, dataset, iterator)',
    python: 'a Python callback',
    'run-time state': 'run-time state the analysis does not model',
  };
  return `${what[kind]}: ${op} (${node})`;
}
