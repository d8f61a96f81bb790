"""Dump the names and argument signatures of every op in TensorFlow's registry.

Run with a TensorFlow install (see README). The output, main/analysis/op-registry.json,
is a table of facts (op names, input/output argument lists, statefulness) that the
analyser uses to resolve `node:out:i` edges and to recognise ops that are not part of
TensorFlow (custom ops). Regenerate it when moving to a newer TensorFlow.
"""
import json
import sys

import tensorflow as tf  # noqa: F401  (loads every core kernel library and its op registrations)
from tensorflow.core.framework import op_def_pb2
from tensorflow.core.framework import types_pb2


def arg(a):
    out = {"name": a.name}
    if a.type:
        out["type"] = types_pb2.DataType.Name(a.type)
    if a.type_attr:
        out["typeAttr"] = a.type_attr
    if a.number_attr:
        out["numberAttr"] = a.number_attr
    if a.type_list_attr:
        out["typeListAttr"] = a.type_list_attr
    if a.is_ref:
        out["isRef"] = True
    return out


def main(path):
    from tensorflow.python.framework import op_def_library  # noqa: F401
    from tensorflow.python.client import pywrap_tf_session as c_api
    buf = c_api.TF_GetAllOpList()
    ops = op_def_pb2.OpList()
    ops.ParseFromString(c_api.TF_GetBuffer(buf))
    table = {}
    for op in sorted(ops.op, key=lambda o: o.name):
        entry = {"in": [arg(a) for a in op.input_arg], "out": [arg(a) for a in op.output_arg]}
        if op.is_stateful:
            entry["stateful"] = True
        attrs = {}
        for at in op.attr:
            attrs[at.name] = at.type
        if attrs:
            entry["attrs"] = attrs
        table[op.name] = entry
    with open(path, "w") as f:
        json.dump({"tensorflowVersion": tf.__version__, "ops": table}, f, separators=(",", ":"), sort_keys=True)
        f.write("\n")
    print(f"{len(table)} ops from TensorFlow {tf.__version__} -> {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "main/analysis/op-registry.json")
