// The Python with TensorFlow that tests use to write and run models: $TFAUDIT_TF_PYTHON, else
// /opt/tfvenv (what .ci/run installs). Tests that need it skip with this message without it.
import { existsSync } from 'node:fs';

export const TF_PYTHON = process.env.TFAUDIT_TF_PYTHON ?? '/opt/tfvenv/bin/python';

export const skipWithoutTf: string | false = existsSync(TF_PYTHON)
  ? false
  : `TensorFlow 2.21 virtualenv missing: ${TF_PYTHON} missing (set TFAUDIT_TF_PYTHON) — install: python3 -m venv /opt/tfvenv && /opt/tfvenv/bin/pip install --index-url file:///opt/pypi/simple tensorflow-cpu==2.21.0 (npm run doctor lists every tool)`;
