"""Writing a model artifact directory <models_dir>/<name>/<version>/ — the one Python place
for it, used by both trainers and the test-artifact maker:

  model.pt        TorchScript (the fallback format)
  model.pt2       AOTInductor package of the torch.export'ed model (format "aoti", served)
  *.npy           parity fixtures, and load_check_input_<i>.npy / load_check_output.npy: exact
                  model inputs and the eager model's output, which the C++ runner reproduces
                  at load (a package that does not is refused)
  MANIFEST        text proto ModelManifest (proto/manifest.proto) checksumming every file

Written atomically: a temporary directory, fsync, rename. The writes, fsyncs, renames and the
checksum reads go through common/versions.py's file-system object (default_fs(): the real one,
or the fault-injecting one under MARKETSEARCH_FAULTS); on any error the temporary directory is
removed, no version directory appears, and the OSError names the operation and the file.
Exporters end with run_main(), which turns such an error into one line and exit status 1.

AOTInductor compiles for a fixed CPU target, not the build machine's (-march=native would
produce a package that dies with SIGILL on an older serving CPU): AOTI_MARCH / AOTI_SIMD_BITS,
recorded in the manifest, which the C++ runner checks against the CPU before loading.
"""
import hashlib
import io
import os
import sys
import time

import numpy as np

from common import versions

# x86-64-v3 = Haswell and newer (AVX2, FMA, BMI2): every x86 server of the last decade.
AOTI_MARCH = "x86-64-v3"
AOTI_SIMD_BITS = 256


def sha256(path, fs=None):
    """Hex SHA-256 of a file, read through fs (default_fs())."""
    return hashlib.sha256((fs or versions.default_fs()).read_file(path)).hexdigest()


def run_main(prog, main):
    """sys.exit(main()), except that an OSError — a failed write, fsync, rename or read, whose
    message names the operation and the file — ends the process with one line on stderr and
    exit status 1 instead of a traceback."""
    try:
        code = main()
    except OSError as e:
        # Ours carry "<op> <file>: <reason>" as strerror; others (open() of a missing input)
        # name the file in str(e).
        ours = e.errno and e.strerror and e.filename is None
        sys.stderr.write("%s: %s\n" % (prog, e.strerror if ours else e))
        sys.exit(1)
    sys.exit(code)


def export_aoti(model, example_inputs, dynamic_shapes, package_path):
    """torch.export (non-strict, the given dynamic dimensions) + AOTInductor into
    `package_path`: one thread per kernel (the server runs one request per core), vector code
    for AOTI_MARCH. Returns the eager model's output on `example_inputs`."""
    import torch
    from torch._inductor import aoti_compile_and_package

    model = model.eval()
    with torch.no_grad():
        ep = torch.export.export(model, tuple(example_inputs), dynamic_shapes=dynamic_shapes,
                                 strict=False)
        aoti_compile_and_package(ep, package_path=package_path, inductor_configs={
            "cpp.threads": 1,
            "cpp.march": AOTI_MARCH,
            "cpp.simdlen": AOTI_SIMD_BITS,
        })
        return model(*example_inputs)


def write_artifact(models_dir, name, version, manifest_lines, scripted=None, aoti=None,
                   extra=None):
    """Writes <models_dir>/<name>/<version>/ and returns its path.

    manifest_lines: the ModelManifest fields besides model_name, version, format, files and
      the AOTI fields (text proto lines, e.g. 'embedding_dim: 64').
    scripted: a TorchScript module, saved as model.pt.
    aoti: (model, example_inputs, dynamic_shapes) to export as model.pt2; the artifact's format
      is then "aoti", else "torchscript". example_inputs become the load-check fixture.
    extra: file name -> numpy array, saved beside the model and checksummed.
    """
    import torch

    fs = versions.default_fs()
    root = os.path.join(models_dir, name)
    fs.makedirs(root)
    tmp = os.path.join(root, ".tmp-%d-%d" % (version, os.getpid()))
    final = os.path.join(root, str(version))
    if os.path.exists(final):
        raise FileExistsError("%s exists; versions are immutable" % final)
    fs.makedirs(tmp)
    try:
        _write_files(fs, torch, tmp, name, version, manifest_lines, scripted, aoti, extra)
        fs.rename(tmp, final)
    except BaseException:
        try:
            versions.OsFileSystem().remove_tree(tmp)  # best effort; the error is the one to report
        except OSError:
            pass
        raise
    fs.fsync_dir(root)
    return final


def _write_files(fs, torch, tmp, name, version, manifest_lines, scripted, aoti, extra):
    """Everything of one artifact into the staging directory tmp, each file fsynced."""
    paths = []
    if scripted is not None:
        p = os.path.join(tmp, "model.pt")
        buf = io.BytesIO()
        torch.jit.save(scripted, buf)  # serialised in memory, written through fs
        fs.write_file(p, buf.getvalue())
        paths.append(p)
    lines = ['model_name: "%s"' % name, "version: %d" % version]
    extra = dict(extra or {})
    if aoti is not None:
        model, example_inputs, dynamic_shapes = aoti
        p = os.path.join(tmp, "model.pt2")
        out = export_aoti(model, example_inputs, dynamic_shapes, p)  # torch writes the package
        fs.fsync(p)
        paths.append(p)
        for i, x in enumerate(example_inputs):
            extra["load_check_input_%d.npy" % i] = x.detach().cpu().numpy()
        extra["load_check_output.npy"] = out.detach().cpu().numpy().astype(np.float32)
        lines += ['format: "aoti"', 'aoti_march: "%s"' % AOTI_MARCH,
                  "aoti_simd_bits: %d" % AOTI_SIMD_BITS]
    else:
        lines.append('format: "torchscript"')
    lines.append('torch_version: "%s"' % torch.__version__)
    lines += list(manifest_lines)
    lines.append("created_unix: %d" % int(time.time()))
    for fname, arr in sorted(extra.items()):
        p = os.path.join(tmp, fname)
        buf = io.BytesIO()
        np.save(buf, arr)
        fs.write_file(p, buf.getvalue())
        paths.append(p)
    for p in paths:
        data = fs.read_file(p)  # read back: the checksum is of what is on disk
        lines.append('files { name: "%s" sha256: "%s" bytes: %d }' % (
            os.path.basename(p), hashlib.sha256(data).hexdigest(), len(data)))
    fs.write_file(os.path.join(tmp, "MANIFEST"), ("\n".join(lines) + "\n").encode())
    fs.fsync_dir(tmp)
