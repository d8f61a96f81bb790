// The capability catalogue: which TensorFlow ops can touch the world outside the tensor
// computation (files, the network, Python, the process) or can be made to allocate without
// bound, and which input or attr carries the path / URL / address / size. Written from the op
// definitions in tensorflow/core/ops/*.cc and the generated registry (exact input names); a
// test checks every input named here against the registry.
//
// Ops with no entry are pure computation (or only manipulate in-memory state such as
// variables, queues, tables and iterators). Ops that TensorFlow does not define at all are
// custom ops: their kernel is whatever native code the model's author shipped.
import type { NodeIR, OpDefIR } from '../../shared/ir.ts';
import type { Capability, Severity } from '../../shared/findings.ts';
import { isTensorFlowOp } from './op-registry.ts';

export interface CapabilityRule {
  capability: Capability;
  /** Input argument names (as in the op's OpDef) that carry the path / URL / address. */
  targetInputs: string[];
  /** Attr names that carry the path / URL / address. */
  targetAttrs: string[];
  /** Input argument names whose values decide how much is allocated (resource-exhaustion). */
  sizeInputs?: string[];
  /** Part of TensorFlow's own checkpoint save/restore machinery. */
  saverMachinery?: boolean;
  /** Severity before reachability and trigger analysis adjust it. */
  baseSeverity: Severity;
  description: string;
  /** For attr-dependent rules: when the rule applies, in plain words (catalogue view only). */
  condition?: string;
}

export const CAPABILITY_DESCRIPTIONS: Record<Capability, string> = {
  'file-read': 'Reads files from the machine that runs the model (local disk, or any filesystem TensorFlow can open).',
  'file-write': 'Creates, overwrites or appends to files on the machine that runs the model.',
  'filesystem-enumeration': 'Lists directory contents or expands glob patterns, revealing which files exist.',
  network: 'Opens network connections (gRPC, tf.data service, RPC, collective communication) or serves on a port.',
  process: 'Acts on the TensorFlow process itself (terminates it, changes how it reaches filesystems).',
  'python-code': 'Calls back into Python code registered in the running process (tf.py_function / tf.numpy_function).',
  'resource-exhaustion': 'Allocates memory, time or threads in proportion to a value that can be made huge.',
  'custom-op': 'An op TensorFlow does not define: its kernel is native code shipped with the model and can do anything.',
  policy: 'An op outside the allowlist policy given for the scan.',
  integrity: 'A checkpoint or model file that fails its integrity checks (crc, bounds, size, fingerprint): what cannot be read cannot be judged safe.',
  'known-vulnerability': 'An op whose TensorFlow kernel has published advisories (memory corruption, crashes) in the TensorFlow release that will serve the model.',
};

interface Where {
  inputs?: string[];
  attrs?: string[];
  sizes?: string[];
  saver?: boolean;
  condition?: string;
}

function rule(capability: Capability, baseSeverity: Severity, description: string, where: Where = {}): CapabilityRule {
  const out: CapabilityRule = {
    capability,
    targetInputs: where.inputs ?? [],
    targetAttrs: where.attrs ?? [],
    baseSeverity,
    description,
  };
  if (where.sizes) out.sizeInputs = where.sizes;
  if (where.saver) out.saverMachinery = true;
  if (where.condition) out.condition = where.condition;
  return out;
}

function sizes(description: string, sizeInputs: string[], baseSeverity: Severity = 'medium'): CapabilityRule {
  return rule('resource-exhaustion', baseSeverity, description, { sizes: sizeInputs });
}

/** Unconditional rules: the op always has the capability when it runs. */
const TABLE: Record<string, CapabilityRule[]> = {
  // ---- Plain file access -------------------------------------------------------------------
  ReadFile: [rule('file-read', 'high', 'Reads a whole file into a string tensor.', { inputs: ['filename'] })],
  WriteFile: [rule('file-write', 'high', 'Writes a string tensor to a file, creating parent directories and replacing the file.', { inputs: ['filename'] })],
  ImmutableConst: [rule('file-read', 'high', 'Memory-maps a file named by an attr and returns its bytes as a constant tensor.', { attrs: ['memory_region_name'] })],
  Skipgram: [rule('file-read', 'high', 'Reads a text corpus file named by an attr (word2vec training op).', { attrs: ['filename'] })],
  GenerateVocabRemapping: [rule('file-read', 'medium', 'Reads two vocabulary files to build an index remapping.', { inputs: ['new_vocab_file', 'old_vocab_file'] })],
  InitializeTableFromTextFile: [rule('file-read', 'medium', 'Fills a lookup table from the lines of a text file.', { inputs: ['filename'] })],
  InitializeTableFromTextFileV2: [rule('file-read', 'medium', 'Fills a lookup table from the lines of a text file.', { inputs: ['filename'] })],
  LoadAndRemapMatrix: [rule('file-read', 'medium', 'Reads a tensor from a checkpoint file and remaps its rows and columns.', { inputs: ['ckpt_path'] })],
  RecordInput: [
    rule('file-read', 'high', 'Reads records from every file matching a glob pattern given as an attr.', { attrs: ['file_pattern'] }),
    rule('filesystem-enumeration', 'medium', 'Expands a glob pattern (attr) to the list of matching files.', { attrs: ['file_pattern'] }),
  ],

  // ---- Legacy queue-based readers: the filenames come from the queue the read op dequeues ----
  WholeFileReader: [rule('file-read', 'high', 'Reader that returns the entire contents of each file named in its input queue.')],
  WholeFileReaderV2: [rule('file-read', 'high', 'Reader that returns the entire contents of each file named in its input queue.')],
  TextLineReader: [rule('file-read', 'high', 'Reader that returns the lines of each file named in its input queue.')],
  TextLineReaderV2: [rule('file-read', 'high', 'Reader that returns the lines of each file named in its input queue.')],
  TFRecordReader: [rule('file-read', 'high', 'Reader that returns the records of each TFRecord file named in its input queue.')],
  TFRecordReaderV2: [rule('file-read', 'high', 'Reader that returns the records of each TFRecord file named in its input queue.')],
  FixedLengthRecordReader: [rule('file-read', 'high', 'Reader that returns fixed-length records of each file named in its input queue.')],
  FixedLengthRecordReaderV2: [rule('file-read', 'high', 'Reader that returns fixed-length records of each file named in its input queue.')],
  LMDBReader: [rule('file-read', 'high', 'Reader that returns the key/value records of each LMDB file named in its input queue.')],

  // ---- tf.data sources that read files -------------------------------------------------------
  TFRecordDataset: [rule('file-read', 'high', 'Dataset of the records in one or more TFRecord files.', { inputs: ['filenames'] })],
  TFRecordDatasetV2: [rule('file-read', 'high', 'Dataset of the records in one or more TFRecord files.', { inputs: ['filenames'] })],
  FixedLengthRecordDataset: [rule('file-read', 'high', 'Dataset of fixed-length records read from files.', { inputs: ['filenames'] })],
  FixedLengthRecordDatasetV2: [rule('file-read', 'high', 'Dataset of fixed-length records read from files.', { inputs: ['filenames'] })],
  TextLineDataset: [rule('file-read', 'high', 'Dataset of the lines of one or more text files.', { inputs: ['filenames'] })],
  CSVDataset: [rule('file-read', 'high', 'Dataset of the rows of one or more CSV files.', { inputs: ['filenames'] })],
  CSVDatasetV2: [rule('file-read', 'high', 'Dataset of the rows of one or more CSV files.', { inputs: ['filenames'] })],
  ExperimentalCSVDataset: [rule('file-read', 'high', 'Dataset of the rows of one or more CSV files.', { inputs: ['filenames'] })],
  LMDBDataset: [rule('file-read', 'high', 'Dataset of the key/value records of LMDB files.', { inputs: ['filenames'] })],
  ExperimentalLMDBDataset: [rule('file-read', 'high', 'Dataset of the key/value records of LMDB files.', { inputs: ['filenames'] })],
  SqlDataset: [
    rule('file-read', 'high', 'Runs an SQL query against a database file (sqlite) and yields the rows.', { inputs: ['data_source_name', 'query'] }),
    rule('file-write', 'medium', 'The query runs with full sqlite powers: a single statement such as ATTACH or VACUUM INTO creates files.', { inputs: ['data_source_name', 'query'] }),
  ],
  ExperimentalSqlDataset: [
    rule('file-read', 'high', 'Runs an SQL query against a database file (sqlite) and yields the rows.', { inputs: ['data_source_name', 'query'] }),
    rule('file-write', 'medium', 'The query runs with full sqlite powers: a single statement such as ATTACH or VACUUM INTO creates files.', { inputs: ['data_source_name', 'query'] }),
  ],
  LoadDataset: [rule('file-read', 'high', 'Loads a dataset previously written by tf.data.Dataset.save from a directory.', { inputs: ['path'] })],
  SnapshotDatasetReader: [rule('file-read', 'high', 'Reads the elements of a tf.data snapshot shard directory.', { inputs: ['shard_dir'] })],
  SnapshotChunkDataset: [rule('file-read', 'high', 'Reads the elements of one tf.data snapshot chunk file.', { inputs: ['chunk_file'] })],
  ListSnapshotChunksDataset: [rule('filesystem-enumeration', 'medium', 'Lists the chunk files of a distributed tf.data snapshot directory.', { inputs: ['snapshot_path'] })],

  // ---- tf.data ops that write files ----------------------------------------------------------
  SaveDataset: [rule('file-write', 'high', 'Writes every element of a dataset to files under a directory.', { inputs: ['path'] })],
  SaveDatasetV2: [rule('file-write', 'high', 'Writes every element of a dataset to files under a directory.', { inputs: ['path'] })],
  SnapshotDataset: [
    rule('file-write', 'high', 'Writes the dataset to a snapshot directory on first use.', { inputs: ['path'] }),
    rule('file-read', 'high', 'Reads the dataset back from an existing snapshot directory.', { inputs: ['path'] }),
  ],
  SnapshotDatasetV2: [
    rule('file-write', 'high', 'Writes the dataset to a snapshot directory on first use.', { inputs: ['path'] }),
    rule('file-read', 'high', 'Reads the dataset back from an existing snapshot directory.', { inputs: ['path'] }),
  ],
  CacheDataset: [
    rule('file-write', 'medium', 'Caches dataset elements in files with the given prefix (in memory when the filename is empty).', { inputs: ['filename'] }),
    rule('file-read', 'medium', 'Reads cached dataset elements back from files with the given prefix.', { inputs: ['filename'] }),
  ],
  CacheDatasetV2: [
    rule('file-write', 'medium', 'Caches dataset elements in files with the given prefix (in memory when the filename is empty).', { inputs: ['filename'] }),
    rule('file-read', 'medium', 'Reads cached dataset elements back from files with the given prefix.', { inputs: ['filename'] }),
  ],
  DatasetToTFRecord: [rule('file-write', 'high', 'Writes every element of a dataset of strings to a TFRecord file.', { inputs: ['filename'] })],
  ExperimentalDatasetToTFRecord: [rule('file-write', 'high', 'Writes every element of a dataset of strings to a TFRecord file.', { inputs: ['filename'] })],
  DistributedSave: [
    rule('network', 'high', 'Sends a dataset to a tf.data service dispatcher at the given address.', { inputs: ['address'] }),
    rule('file-write', 'high', 'Has the tf.data service write the dataset to a directory.', { inputs: ['directory'] }),
  ],

  // ---- Enumeration ----------------------------------------------------------------------------
  MatchingFiles: [rule('filesystem-enumeration', 'medium', 'Returns the names of all files matching a glob pattern.', { inputs: ['pattern'] })],
  MatchingFilesDataset: [rule('filesystem-enumeration', 'medium', 'Dataset of the names of all files matching glob patterns.', { inputs: ['patterns'] })],
  ExperimentalMatchingFilesDataset: [rule('filesystem-enumeration', 'medium', 'Dataset of the names of all files matching glob patterns.', { inputs: ['patterns'] })],

  // ---- Checkpoint save / restore (TensorFlow's own machinery when reached only by the saver) --
  SaveV2: [rule('file-write', 'high', 'Writes tensors to a V2 checkpoint (.index and .data files) at a prefix.', { inputs: ['prefix'], saver: true })],
  Save: [rule('file-write', 'high', 'Writes tensors to a V1 checkpoint file.', { inputs: ['filename'], saver: true })],
  SaveSlices: [rule('file-write', 'high', 'Writes tensor slices to a V1 checkpoint file.', { inputs: ['filename'], saver: true })],
  MergeV2Checkpoints: [
    rule('file-write', 'high', 'Merges checkpoint shards into a destination prefix and deletes the source files.', { inputs: ['destination_prefix'], saver: true }),
    rule('file-read', 'medium', 'Reads the checkpoint shards it merges.', { inputs: ['checkpoint_prefixes'], saver: true }),
  ],
  RestoreV2: [rule('file-read', 'medium', 'Reads tensors from a V2 checkpoint at a prefix.', { inputs: ['prefix'], saver: true })],
  Restore: [rule('file-read', 'medium', 'Reads a tensor from V1 checkpoint files matching a pattern.', { inputs: ['file_pattern'], saver: true })],
  RestoreSlice: [rule('file-read', 'medium', 'Reads a tensor slice from V1 checkpoint files matching a pattern.', { inputs: ['file_pattern'], saver: true })],
  DTensorRestoreV2: [rule('file-read', 'medium', 'Reads DTensor-laid-out tensors from a V2 checkpoint at a prefix.', { inputs: ['prefix'], saver: true })],

  // ---- Summaries and debugging output --------------------------------------------------------
  CreateSummaryFileWriter: [rule('file-write', 'high', 'Opens an event file for writing in a log directory.', { inputs: ['logdir'] })],
  CreateSummaryDbWriter: [rule('file-write', 'high', 'Opens an sqlite database file for writing summaries.', { inputs: ['db_uri'] })],
  WriteSummary: [rule('file-write', 'medium', 'Appends a summary to the event file of a summary writer.')],
  WriteScalarSummary: [rule('file-write', 'medium', 'Appends a scalar summary to the event file of a summary writer.')],
  WriteHistogramSummary: [rule('file-write', 'medium', 'Appends a histogram summary to the event file of a summary writer.')],
  WriteImageSummary: [rule('file-write', 'medium', 'Appends an image summary to the event file of a summary writer.')],
  WriteAudioSummary: [rule('file-write', 'medium', 'Appends an audio summary to the event file of a summary writer.')],
  WriteGraphSummary: [rule('file-write', 'medium', 'Appends a serialized graph to the event file of a summary writer.')],
  WriteRawProtoSummary: [rule('file-write', 'medium', 'Appends raw Summary protos to the event file of a summary writer.')],
  ImportEvent: [rule('file-write', 'medium', 'Appends a serialized Event to the event file of a summary writer.')],
  FlushSummaryWriter: [rule('file-write', 'low', 'Flushes pending summaries of a summary writer to its file.')],
  CloseSummaryWriter: [rule('file-write', 'low', 'Flushes and closes the event file of a summary writer.')],
  StatsAggregatorSetSummaryWriter: [rule('file-write', 'low', 'Routes tf.data statistics into a summary writer (and so into its event file).')],
  DumpTensor: [rule('file-write', 'high', 'Writes a tensor to a file in a directory named by attrs (quantization debugging).', { attrs: ['log_dir_path', 'file_name'] })],
  CalibrationStatisticsSaver: [rule('file-write', 'high', 'Writes calibration statistics to a file named by an attr.', { attrs: ['output_file_path'] })],

  // ---- Network --------------------------------------------------------------------------------
  DataServiceDataset: [rule('network', 'high', 'Reads dataset elements from a tf.data service at the given address.', { inputs: ['address', 'protocol'] })],
  DataServiceDatasetV2: [rule('network', 'high', 'Reads dataset elements from a tf.data service at the given address.', { inputs: ['address', 'protocol'] })],
  DataServiceDatasetV3: [rule('network', 'high', 'Reads dataset elements from a tf.data service at the given address.', { inputs: ['address', 'protocol'] })],
  DataServiceDatasetV4: [rule('network', 'high', 'Reads dataset elements from a tf.data service at the given address.', { inputs: ['address', 'protocol'] })],
  RegisterDataset: [rule('network', 'high', 'Sends a serialized dataset to a tf.data service dispatcher at the given address.', { inputs: ['address', 'protocol'] })],
  RegisterDatasetV2: [rule('network', 'high', 'Sends a serialized dataset to a tf.data service dispatcher at the given address.', { inputs: ['address', 'protocol'] })],
  RpcClient: [rule('network', 'high', 'Connects to a gRPC server at the given address.', { inputs: ['server_address'] })],
  RpcCall: [rule('network', 'high', 'Calls a remote method over an RpcClient connection, sending tensors as arguments.', { inputs: ['method_name'] })],
  RpcServer: [rule('network', 'high', 'Creates a gRPC server listening on the given address.', { inputs: ['server_address'] })],
  RpcServerRegister: [rule('network', 'high', 'Exposes a function of the model as a remotely callable method of an RpcServer.', { inputs: ['method_name'] })],
  RpcServerStart: [rule('network', 'high', 'Starts an RpcServer: the process accepts remote calls.')],
  Rpc: [rule('network', 'high', 'Sends a request to a method at a network address and returns the response (TensorFlow 1.x).', { inputs: ['address', 'method'] })],
  TryRpc: [rule('network', 'high', 'Sends a request to a method at a network address and returns the response (TensorFlow 1.x).', { inputs: ['address', 'method'] })],
  RemoteCall: [rule('network', 'medium', 'Runs a function on the device named by `target`, which may be another task of the cluster.', { inputs: ['target'] })],
  FileSystemSetConfiguration: [rule('process', 'medium', 'Changes the configuration of a filesystem scheme (e.g. endpoints, credentials) for the whole process.', { inputs: ['scheme', 'key', 'value'] })],
  BigQueryReader: [rule('network', 'high', 'Reader that reads rows from a BigQuery table over the network (TensorFlow 1.x).', { attrs: ['project_id', 'dataset_id', 'table_id', 'test_end_point'] })],
  GenerateBigQueryReaderPartitions: [rule('network', 'high', 'Queries BigQuery over the network to partition a table (TensorFlow 1.x).', { attrs: ['project_id', 'dataset_id', 'table_id', 'test_end_point'] })],
  KafkaDataset: [rule('network', 'high', 'Dataset of messages consumed from Kafka bootstrap servers (TensorFlow 1.x contrib).', { inputs: ['servers', 'topics'] })],

  // Collectives talk to the other workers of a multi-worker job, chosen by the runtime's cluster.
  CollectiveReduce: [rule('network', 'low', 'Collective all-reduce with the other workers of the group.')],
  CollectiveReduceV2: [rule('network', 'low', 'Collective all-reduce with the other workers of the group.')],
  CollectiveReduceV3: [rule('network', 'low', 'Collective all-reduce over a communicator.')],
  CollectiveReduceScatterV2: [rule('network', 'low', 'Collective reduce-scatter with the other workers of the group.')],
  CollectiveGather: [rule('network', 'low', 'Collective all-gather with the other workers of the group.')],
  CollectiveGatherV2: [rule('network', 'low', 'Collective all-gather with the other workers of the group.')],
  CollectiveBcastSend: [rule('network', 'low', 'Broadcasts a tensor to the other workers of the group.')],
  CollectiveBcastSendV2: [rule('network', 'low', 'Broadcasts a tensor to the other workers of the group.')],
  CollectiveBcastRecv: [rule('network', 'low', 'Receives a broadcast tensor from another worker of the group.')],
  CollectiveBcastRecvV2: [rule('network', 'low', 'Receives a broadcast tensor from another worker of the group.')],
  CollectiveAllToAllV2: [rule('network', 'low', 'Collective all-to-all exchange with the other workers of the group.')],
  CollectiveAllToAllV3: [rule('network', 'low', 'Collective all-to-all exchange over a communicator.')],
  CollectiveInitializeCommunicator: [rule('network', 'low', 'Sets up a communicator with the other workers of a collective group.')],

  // ---- Python and the process -----------------------------------------------------------------
  PyFunc: [rule('python-code', 'high', 'Calls a Python function registered in the running process under the token attr.', { attrs: ['token'] })],
  PyFuncStateless: [rule('python-code', 'high', 'Calls a Python function registered in the running process under the token attr.', { attrs: ['token'] })],
  EagerPyFunc: [rule('python-code', 'high', 'Calls an eager Python function registered in the running process under the token attr.', { attrs: ['token'] })],
  Abort: [rule('process', 'medium', 'Terminates the whole process (optionally reporting success).')],

  // ---- TensorRT resource files (TensorRT builds only) ----------------------------------------
  InitializeTRTResource: [rule('file-read', 'medium', 'Loads serialized TensorRT engines from a file.', { inputs: ['filename'] })],
  SerializeTRTResource: [rule('file-write', 'medium', 'Writes serialized TensorRT engines to a file.', { inputs: ['filename'] })],

  // ---- Sizes an attacker can inflate ----------------------------------------------------------
  Tile: [sizes('Repeats its input `multiples` times along each axis.', ['multiples'])],
  Fill: [sizes('Creates a tensor of shape `dims` filled with a value.', ['dims'])],
  Empty: [sizes('Allocates an uninitialised tensor of the given shape.', ['shape'])],
  BroadcastTo: [sizes('Broadcasts its input to the given shape.', ['shape'])],
  Range: [sizes('Creates the sequence start, start+delta, … below limit.', ['start', 'limit', 'delta'])],
  LinSpace: [sizes('Creates `num` evenly spaced values.', ['num'])],
  RaggedRange: [sizes('Creates ragged sequences from starts, limits and deltas.', ['starts', 'limits', 'deltas'])],
  OneHot: [sizes('One-hot encodes indices with `depth` classes.', ['depth'])],
  MatrixDiagV2: [sizes('Builds a batched diagonal matrix of num_rows × num_cols.', ['k', 'num_rows', 'num_cols'])],
  MatrixDiagV3: [sizes('Builds a batched diagonal matrix of num_rows × num_cols.', ['k', 'num_rows', 'num_cols'])],
  Pad: [sizes('Pads a tensor by the amounts in `paddings`.', ['paddings'])],
  PadV2: [sizes('Pads a tensor by the amounts in `paddings`.', ['paddings'])],
  MirrorPad: [sizes('Pads a tensor by the amounts in `paddings` with mirrored values.', ['paddings'])],
  XlaPad: [sizes('Pads a tensor by low, high and interior amounts.', ['padding_low', 'padding_high', 'padding_interior'])],
  UnsortedSegmentSum: [sizes('Sums into an output with `num_segments` rows.', ['num_segments'])],
  UnsortedSegmentMax: [sizes('Reduces into an output with `num_segments` rows.', ['num_segments'])],
  UnsortedSegmentMin: [sizes('Reduces into an output with `num_segments` rows.', ['num_segments'])],
  UnsortedSegmentProd: [sizes('Reduces into an output with `num_segments` rows.', ['num_segments'])],
  SparseSegmentSumWithNumSegments: [sizes('Sums into an output with `num_segments` rows.', ['num_segments'])],
  SparseSegmentMeanWithNumSegments: [sizes('Averages into an output with `num_segments` rows.', ['num_segments'])],
  SparseSegmentSqrtNWithNumSegments: [sizes('Reduces into an output with `num_segments` rows.', ['num_segments'])],
  ScatterNd: [sizes('Scatters updates into a new zero tensor of the given shape.', ['shape'])],
  SparseToDense: [sizes('Builds a dense tensor of shape `output_shape` from sparse values.', ['output_shape'])],
  RaggedTensorToTensor: [sizes('Converts a ragged tensor to a dense tensor of the given shape.', ['shape'])],
  StridedSliceGrad: [sizes('Builds a gradient tensor of the given shape.', ['shape'])],
  TensorArray: [sizes('Creates a TensorArray of `size` elements.', ['size'])],
  TensorArrayV2: [sizes('Creates a TensorArray of `size` elements.', ['size'])],
  TensorArrayV3: [sizes('Creates a TensorArray of `size` elements.', ['size'])],
  TensorListReserve: [sizes('Creates a tensor list with `num_elements` slots.', ['num_elements'])],
  TensorListResize: [sizes('Resizes a tensor list to `size` slots.', ['size'])],
  Bincount: [sizes('Counts values into `size` bins.', ['size'])],
  DenseBincount: [sizes('Counts values into `size` bins.', ['size'])],
  RaggedBincount: [sizes('Counts values into `size` bins.', ['size'])],
  SparseBincount: [sizes('Counts values into `size` bins.', ['size'])],
  ResizeBilinear: [sizes('Resizes images to `size`.', ['size'])],
  ResizeNearestNeighbor: [sizes('Resizes images to `size`.', ['size'])],
  ResizeBicubic: [sizes('Resizes images to `size`.', ['size'])],
  ResizeArea: [sizes('Resizes images to `size`.', ['size'])],
  ScaleAndTranslate: [sizes('Resamples images to `size`.', ['size'])],
  ResizeNearestNeighborGrad: [sizes('Builds an image gradient of `size`.', ['size'])],
  CropAndResize: [sizes('Crops boxes and resizes them to `crop_size`.', ['crop_size'])],
  ExtractGlimpse: [sizes('Extracts glimpses of `size` from images.', ['size'])],
  ExtractGlimpseV2: [sizes('Extracts glimpses of `size` from images.', ['size'])],
  ImageProjectiveTransformV2: [sizes('Transforms images into an output of `output_shape`.', ['output_shape'])],
  ImageProjectiveTransformV3: [sizes('Transforms images into an output of `output_shape`.', ['output_shape'])],
  Conv2DBackpropInput: [sizes('Builds an input gradient of shape `input_sizes`.', ['input_sizes'])],
  Conv3DBackpropInputV2: [sizes('Builds an input gradient of shape `input_sizes`.', ['input_sizes'])],
  DepthwiseConv2dNativeBackpropInput: [sizes('Builds an input gradient of shape `input_sizes`.', ['input_sizes'])],
  AvgPoolGrad: [sizes('Builds an input gradient of shape `orig_input_shape`.', ['orig_input_shape'])],
  SobolSample: [sizes('Generates `num_results` Sobol points of `dim` dimensions.', ['dim', 'num_results'])],
  RandomUniform: [sizes('Random values of the given shape.', ['shape'])],
  RandomStandardNormal: [sizes('Random values of the given shape.', ['shape'])],
  TruncatedNormal: [sizes('Random values of the given shape.', ['shape'])],
  RandomUniformInt: [sizes('Random integers of the given shape.', ['shape'])],
  ParameterizedTruncatedNormal: [sizes('Random values of the given shape.', ['shape'])],
  RandomGamma: [sizes('Random samples of the given shape.', ['shape'])],
  RandomPoisson: [sizes('Random samples of the given shape.', ['shape'])],
  RandomPoissonV2: [sizes('Random samples of the given shape.', ['shape'])],
  NonDeterministicInts: [sizes('Random integers of the given shape.', ['shape'])],
  Multinomial: [sizes('Draws `num_samples` samples per row of logits.', ['num_samples'])],
  StatelessMultinomial: [sizes('Draws `num_samples` samples per row of logits.', ['num_samples'])],
  StatelessRandomUniform: [sizes('Random values of the given shape.', ['shape'])],
  StatelessRandomNormal: [sizes('Random values of the given shape.', ['shape'])],
  StatelessTruncatedNormal: [sizes('Random values of the given shape.', ['shape'])],
  StatelessRandomUniformInt: [sizes('Random integers of the given shape.', ['shape'])],
  StatelessRandomUniformFullInt: [sizes('Random integers of the given shape.', ['shape'])],
  StatelessRandomBinomial: [sizes('Random samples of the given shape.', ['shape'])],
  StatelessRandomGammaV2: [sizes('Random samples of the given shape.', ['shape'])],
  StatelessRandomGammaV3: [sizes('Random samples of the given shape.', ['shape'])],
  StatelessRandomPoisson: [sizes('Random samples of the given shape.', ['shape'])],
  StatelessRandomUniformV2: [sizes('Random values of the given shape.', ['shape'])],
  StatelessRandomNormalV2: [sizes('Random values of the given shape.', ['shape'])],
  StatelessTruncatedNormalV2: [sizes('Random values of the given shape.', ['shape'])],
  StatelessRandomUniformIntV2: [sizes('Random integers of the given shape.', ['shape'])],
  StatelessRandomUniformFullIntV2: [sizes('Random integers of the given shape.', ['shape'])],
  StatelessParameterizedTruncatedNormal: [sizes('Random values of the given shape.', ['shape'])],
  StatefulUniform: [sizes('Random values of the given shape.', ['shape'])],
  StatefulStandardNormal: [sizes('Random values of the given shape.', ['shape'])],
  StatefulStandardNormalV2: [sizes('Random values of the given shape.', ['shape'])],
  StatefulTruncatedNormal: [sizes('Random values of the given shape.', ['shape'])],
  StatefulUniformFullInt: [sizes('Random integers of the given shape.', ['shape'])],
  StatefulUniformInt: [sizes('Random integers of the given shape.', ['shape'])],
  StatefulRandomBinomial: [sizes('Random samples of the given shape.', ['shape'])],
  XlaRngBitGenerator: [sizes('Random bits of the given shape.', ['shape'])],
  RepeatDataset: [sizes('Repeats a dataset `count` times (forever when -1).', ['count'])],
  ShuffleAndRepeatDataset: [sizes('Shuffles with a buffer of `buffer_size` elements and repeats `count` times.', ['buffer_size', 'count'])],
  ShuffleAndRepeatDatasetV2: [sizes('Shuffles with a buffer of `buffer_size` elements and repeats `count` times.', ['buffer_size', 'count'])],
  RangeDataset: [sizes('Dataset of the numbers from start to stop.', ['start', 'stop', 'step'])],
  PrivateThreadPoolDataset: [sizes('Runs a dataset on a private pool of `num_threads` threads.', ['num_threads'])],
  SleepOp: [sizes('Blocks the executing thread for `sleep_seconds`.', ['sleep_seconds'])],
  SleepIdentityOp: [sizes('Blocks the executing thread for `sleep_seconds`, then forwards its input.', ['sleep_seconds'])],
  SleepDataset: [sizes('Sleeps `sleep_microseconds` before producing each element.', ['sleep_microseconds'])],
  ExperimentalSleepDataset: [sizes('Sleeps `sleep_microseconds` before producing each element.', ['sleep_microseconds'])],
};

/** Ops whose TensorFlow checkpoint role needs no capability of their own (they build filenames). */
const SAVER_HELPER_OPS: ReadonlySet<string> = new Set(['ShardedFilename', 'ShardedFilespec']);

/** Readers whose handle opens files named in a queue (ReaderRead* on them reads files). */
const FILE_READER_OPS: ReadonlySet<string> = new Set([
  'WholeFileReader', 'WholeFileReaderV2', 'TextLineReader', 'TextLineReaderV2', 'TFRecordReader', 'TFRecordReaderV2',
  'FixedLengthRecordReader', 'FixedLengthRecordReaderV2', 'LMDBReader',
]);

// ---- Attr-dependent rules ------------------------------------------------------------------------

const DEBUG_URL_OPS = ['DebugIdentity', 'DebugIdentityV2', 'DebugIdentityV3', 'DebugNanCount', 'DebugNumericSummary'] as const;
const SEND_OPS = ['Send', '_Send', '_HostSend'] as const;
const RECV_OPS = ['Recv', '_Recv', '_HostRecv'] as const;

function debugNetworkRule(op: string): CapabilityRule {
  return rule('network', 'high', `${op} streams the watched tensor to the grpc:// debug server in debug_urls.`, {
    attrs: ['debug_urls'],
    condition: 'attr debug_urls holds a grpc:// URL (or another non-file scheme)',
  });
}

function debugFileRule(op: string): CapabilityRule {
  return rule('file-write', 'high', `${op} dumps the watched tensor into the file:// directory in debug_urls.`, {
    attrs: ['debug_urls'],
    condition: 'attr debug_urls holds a file:// URL',
  });
}

const PRINTV2_FILE_RULE = rule('file-write', 'high', 'PrintV2 appends the printed text to the file named after file:// in output_stream.', {
  attrs: ['output_stream'],
  condition: 'attr output_stream starts with file://',
});

function protoDescriptorRule(op: string): CapabilityRule {
  return rule('file-read', 'medium', `${op} loads protobuf descriptors from the file named in descriptor_source.`, {
    attrs: ['descriptor_source'],
    condition: "attr descriptor_source is a file path (not 'local://' or 'bytes://…')",
  });
}

const VOCAB_FILE_RULE = rule('file-read', 'medium', 'FixedUnigramCandidateSampler reads its vocabulary distribution from the file in vocab_file.', {
  attrs: ['vocab_file'],
  condition: 'attr vocab_file is non-empty',
});

function transferRule(op: string, peerAttr: 'recv_device' | 'send_device'): CapabilityRule {
  const verb = peerAttr === 'recv_device' ? 'sends a tensor to' : 'receives a tensor from';
  return rule('network', 'medium', `${op} ${verb} another task of the cluster (${peerAttr}).`, {
    attrs: [peerAttr],
    condition: 'send_device and recv_device name different job/replica/task',
  });
}

/** The catalogue view of attr-dependent rules. */
const CONDITIONAL: Record<string, CapabilityRule[]> = {
  PrintV2: [PRINTV2_FILE_RULE],
  DecodeProtoV2: [protoDescriptorRule('DecodeProtoV2')],
  EncodeProto: [protoDescriptorRule('EncodeProto')],
  FixedUnigramCandidateSampler: [VOCAB_FILE_RULE],
};
for (const op of DEBUG_URL_OPS) CONDITIONAL[op] = [debugNetworkRule(op), debugFileRule(op)];
for (const op of SEND_OPS) CONDITIONAL[op] = [transferRule(op, 'recv_device')];
for (const op of RECV_OPS) CONDITIONAL[op] = [transferRule(op, 'send_device')];

const textDecoder = new TextDecoder('utf-8', { fatal: false });

// TensorFlow fills attrs a node omits from its own registry's defaults, never from the
// model's stripped op list, and its defaults for every attr tested here are harmless
// (output_stream 'stderr', debug_urls [], descriptor_source 'local://', vocab_file ''). So an
// absent attr means no capability, whatever default the model's own OpDef claims.
function attrString(node: NodeIR, name: string): string | null {
  const value = Object.prototype.hasOwnProperty.call(node.attr, name) ? node.attr[name] : undefined;
  return value && value.type === 's' ? textDecoder.decode(value.s) : null;
}

function attrStrings(node: NodeIR, name: string): string[] {
  const value = Object.prototype.hasOwnProperty.call(node.attr, name) ? node.attr[name] : undefined;
  if (!value) return [];
  if (value.type === 's') return [textDecoder.decode(value.s)];
  if (value.type === 'list') return (value.list.s ?? []).map((s) => textDecoder.decode(s));
  return [];
}

interface DeviceTask {
  job: string | null;
  replica: string | null;
  task: string | null;
}

function parseDeviceTask(device: string): DeviceTask {
  const part = (key: string): string | null => {
    const match = new RegExp(`/${key}:([^/]+)`).exec(device);
    return match ? match[1] : null;
  };
  return { job: part('job'), replica: part('replica'), task: part('task') };
}

function differentTasks(a: string, b: string): boolean {
  const left = parseDeviceTask(a);
  const right = parseDeviceTask(b);
  const differ = (x: string | null, y: string | null): boolean => x !== null && y !== null && x !== y;
  return differ(left.job, right.job) || differ(left.replica, right.replica) || differ(left.task, right.task);
}

function conditionalRules(node: NodeIR): CapabilityRule[] {
  const op = node.op;
  if (op === 'PrintV2') {
    const stream = attrString(node, 'output_stream');
    return stream !== null && stream.startsWith('file://') ? [PRINTV2_FILE_RULE] : [];
  }
  if ((DEBUG_URL_OPS as readonly string[]).includes(op)) {
    const urls = attrStrings(node, 'debug_urls').filter((u) => u.trim() !== '');
    const out: CapabilityRule[] = [];
    // memcbk:// hands the tensor to an in-process callback: nothing leaves the process.
    if (urls.some((u) => u.startsWith('file://'))) out.push(debugFileRule(op));
    if (urls.some((u) => !u.startsWith('file://') && !u.startsWith('memcbk://'))) out.push(debugNetworkRule(op));
    return out;
  }
  if (op === 'DecodeProtoV2' || op === 'EncodeProto') {
    const source = attrString(node, 'descriptor_source');
    if (source === null || source === '' || source === 'local://' || source.startsWith('bytes://')) return [];
    return [protoDescriptorRule(op)];
  }
  if (op === 'FixedUnigramCandidateSampler') {
    const file = attrString(node, 'vocab_file');
    return file !== null && file !== '' ? [VOCAB_FILE_RULE] : [];
  }
  const isSend = (SEND_OPS as readonly string[]).includes(op);
  if (isSend || (RECV_OPS as readonly string[]).includes(op)) {
    const sendDevice = attrString(node, 'send_device');
    const recvDevice = attrString(node, 'recv_device');
    if (sendDevice === null || recvDevice === null || !differentTasks(sendDevice, recvDevice)) return [];
    return [transferRule(op, isSend ? 'recv_device' : 'send_device')];
  }
  return [];
}

/**
 * Rules that apply to this node, with attr conditions resolved. [] for pure ops. `opDef` is
 * accepted for callers that have it; attr defaults are not taken from it (see attrString).
 */
export function capabilityRules(node: NodeIR, opDef?: OpDefIR | null): CapabilityRule[] {
  const fixed = Object.prototype.hasOwnProperty.call(TABLE, node.op) ? TABLE[node.op] : [];
  if (!Object.prototype.hasOwnProperty.call(CONDITIONAL, node.op)) return fixed.slice();
  return [...fixed, ...conditionalRules(node)];
}

/** Every rule the catalogue holds for an op, conditional ones included (with their condition). */
export function catalogueEntry(op: string): readonly CapabilityRule[] {
  const fixed = Object.prototype.hasOwnProperty.call(TABLE, op) ? TABLE[op] : [];
  const conditional = Object.prototype.hasOwnProperty.call(CONDITIONAL, op) ? CONDITIONAL[op] : [];
  return [...fixed, ...conditional];
}

/** All op names the catalogue describes, sorted. */
export function catalogueOps(): string[] {
  return [...new Set([...Object.keys(TABLE), ...Object.keys(CONDITIONAL)])].sort();
}

/** Input names whose values decide the allocation size of a resource-exhaustion op. */
export function sizeDrivingInputs(op: string): string[] {
  const names: string[] = [];
  for (const r of catalogueEntry(op)) {
    if (r.capability !== 'resource-exhaustion') continue;
    for (const name of r.sizeInputs ?? []) if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** True for ops of TensorFlow's checkpoint save/restore machinery (SaveV2, RestoreV2, ShardedFilename, …). */
export function isSaverMachineryOp(op: string): boolean {
  return SAVER_HELPER_OPS.has(op) || catalogueEntry(op).some((r) => r.saverMachinery === true);
}

/** True for legacy reader ops that open the files named in their input queue. */
export function isFileReaderOp(op: string): boolean {
  return FILE_READER_OPS.has(op);
}

/**
 * True when TensorFlow does not define the op: its kernel is native code shipped with the model.
 * The meta graph's stripped op list is written by the model itself, so a definition found there
 * never makes an op known; the parameter is accepted so callers can pass what they have.
 */
export function isUnknownOp(op: string, strippedOpList?: OpDefIR[]): boolean {
  return !isTensorFlowOp(op);
}

/** `FlexReadFile` (a TensorFlow op run through TFLite's Flex delegate) → `ReadFile`; other names unchanged. */
export function flexToTensorFlowOp(name: string): string {
  return name.startsWith('Flex') && name.length > 4 ? name.slice(4) : name;
}
