# Runs the oracle's generated programs in TensorFlow (meant to run inside bubblewrap: no network,
# models read-only, only the canary directory writable). For every program: load the SavedModel,
# call its serving signature CALLS times under checkpoint A (the SavedModel's own variables),
# restore checkpoint B into the same loaded object and call it CALLS times again. After each call
# the canary directory says which sinks ran; prints one JSON object:
#   {"programs": {"p00001": {"A": {"p00001_s0": 3}, "B": {}, "error": null, "callErrors": []}}, "seconds": ...}
# where the number is the call (1-based) after which the sink's canary first appeared.
#
#   python run.py MODELS_DIR CANARY_DIR CALLS [program ids...]
import json
import os
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
import tensorflow as tf  # noqa: E402

tf.get_logger().setLevel('ERROR')


def clear(canary):
    for name in os.listdir(canary):
        os.remove(os.path.join(canary, name))


def calls_under(fn, canary, calls, errors):
    first = {}
    for call in range(1, calls + 1):
        try:
            fn()
        except tf.errors.OpError as e:  # e.g. tf.range of a negative limit: sinks before it still ran
            errors.append('call %d: %s' % (call, e.message.splitlines()[0][:200]))
        for name in os.listdir(canary):
            first.setdefault(name, call)
    clear(canary)
    return first


def main():
    models, canary, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ids = sys.argv[4:] or sorted(n for n in os.listdir(models) if os.path.isdir(os.path.join(models, n)))
    started = time.time()
    results = {}
    os.makedirs(canary, exist_ok=True)
    clear(canary)
    for pid in ids:
        entry = {'A': None, 'B': None, 'error': None, 'callErrors': []}
        try:
            loaded = tf.saved_model.load(os.path.join(models, pid, 'A'))
            fn = loaded.signatures['serving_default']
            entry['A'] = calls_under(fn, canary, calls, entry['callErrors'])
            status = tf.train.Checkpoint(loaded).read(os.path.join(models, pid, 'B', 'variables'))
            status.assert_existing_objects_matched()
            entry['B'] = calls_under(fn, canary, calls, entry['callErrors'])
        except Exception as e:  # a program TensorFlow cannot run is reported, not fatal
            entry['error'] = '%s: %s' % (type(e).__name__, str(e).splitlines()[0] if str(e) else '')
            clear(canary)
        results[pid] = entry
    print(json.dumps({'programs': results, 'seconds': round(time.time() - started, 1)}))


if __name__ == '__main__':
    main()
