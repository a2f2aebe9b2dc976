"""The Python twin of common/fault_injection_env: the spec parser, the fault-injecting file
system under write_current and model_artifact.write_artifact (nothing half-published, the
message names the operation and the file, the next write succeeds), and MARKETSEARCH_FAULTS in
a real process (loud line; a malformed spec exits 2 naming the variable)."""
import errno
import os
import subprocess
import sys

import pytest

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO)
from common import versions  # noqa: E402


def fs_with(spec):
    return versions.FaultInjectingFileSystem(versions.OsFileSystem(), versions.parse_fault_spec(spec))


def test_parse_reads_every_field():
    r = versions.parse_fault_spec(
        "rename:CURRENT:EIO,sync:*.pt:ENOSPC:first,write:MANIFEST:EROFS:3,read:x:EIO:2+")
    assert [(x.op, x.pattern, x.err, x.nth, x.and_later) for x in r] == [
        ("rename", "CURRENT", errno.EIO, 0, False), ("sync", "*.pt", errno.ENOSPC, 1, False),
        ("write", "MANIFEST", errno.EROFS, 3, False), ("read", "x", errno.EIO, 2, True)]


@pytest.mark.parametrize("bad", ["", "rename:CURRENT", "fsync:CURRENT:EIO", "rename::EIO",
                                 "rename:CURRENT:EWHAT", "rename:CURRENT:EIO:0",
                                 "rename:CURRENT:EIO:soon", "rename:CURRENT:EIO:1:2",
                                 "rename:CURRENT:EIO,"])
def test_parse_refuses_malformed_rules(bad):
    with pytest.raises(ValueError):
        versions.parse_fault_spec(bad)


def test_patterns_are_substrings_or_globs():
    m = versions.fault_pattern_matches
    assert m("CURRENT", "/d/index/CURRENT.tmp")
    assert not m("CURRENT", "/d/index/3/MANIFEST")
    assert m("*.pt", "/m/ranker/.tmp-3-9/model.pt")
    assert not m("*.pt", "/m/ranker/.tmp-3-9/model.pt2")


def test_occurrences(tmp_path):
    fs = fs_with("mkdir:*/zz_a:EIO:first,mkdir:*/zz_b:EIO:2,mkdir:*/zz_c:EIO:2+")

    def fails(d):
        try:
            fs.makedirs(str(tmp_path / d))
            return False
        except OSError:
            return True
    assert [fails("zz_a") for _ in range(3)] == [True, False, False]
    assert [fails("zz_b") for _ in range(3)] == [False, True, False]
    assert [fails("zz_c") for _ in range(3)] == [False, True, True]
    assert fs.injected == 4


@pytest.mark.parametrize("spec,what", [
    ("write:CURRENT:EIO", "write"), ("sync:CURRENT:EIO", "fsync"),
    ("rename:CURRENT:EIO", "rename"), ("write:CURRENT:ENOSPC", "No space left on device")])
def test_write_current_failure_leaves_the_old_current(tmp_path, spec, what):
    root = str(tmp_path)
    os.makedirs(os.path.join(root, "1"))
    os.makedirs(os.path.join(root, "2"))
    versions.write_current(root, 1)
    with pytest.raises(OSError) as e:
        versions.write_current(root, 2, fs=fs_with(spec))
    assert what in str(e.value) and os.path.join(root, "CURRENT") in str(e.value)
    assert versions.read_current(root) == 1
    assert not os.path.exists(os.path.join(root, "CURRENT.tmp"))
    versions.write_current(root, 2)
    assert versions.read_current(root) == 2


def test_real_errors_name_the_file_too(tmp_path):
    with pytest.raises(OSError) as e:
        versions.OsFileSystem().write_file(str(tmp_path / "no" / "such" / "f"), b"x")
    assert "create %s" % (tmp_path / "no" / "such" / "f") in str(e.value)


# --- model_artifact.write_artifact (needs torch) ---

def _write(models_dir, version):
    torch = pytest.importorskip("torch")
    np = pytest.importorskip("numpy")
    from common import model_artifact
    scripted = torch.jit.script(torch.nn.Linear(4, 2))
    return model_artifact.write_artifact(models_dir, "ranker", version, ['device: "cpu"'],
                                         scripted=scripted,
                                         extra={"parity.npy": np.arange(6, dtype=np.float32)})


@pytest.mark.parametrize("spec,what", [
    ("write:model.pt:EIO", "write"), ("write:MANIFEST:ENOSPC", "No space left on device"),
    ("sync:*.npy:EIO", "fsync"), ("read:model.pt:EIO", "read"), ("rename:.tmp-:EIO", "rename"),
    ("syncdir:.tmp-:EIO", "fsync dir"), ("mkdir:.tmp-:EROFS", "mkdir")])
def test_write_artifact_publishes_nothing_on_an_io_error(tmp_path, monkeypatch, spec, what):
    pytest.importorskip("torch")
    models = str(tmp_path)
    first = _write(models, 1)
    monkeypatch.setattr(versions, "_default_fs", fs_with(spec))
    with pytest.raises(OSError) as e:
        _write(models, 2)
    assert what in str(e.value) and models in str(e.value), str(e.value)
    root = os.path.join(models, "ranker")
    assert sorted(os.listdir(root)) == ["1"], "half-published: %s" % os.listdir(root)
    assert versions.newest_version_dir(root) == first
    monkeypatch.setattr(versions, "_default_fs", versions.OsFileSystem())
    assert _write(models, 2) == os.path.join(root, "2")
    assert sorted(os.listdir(os.path.join(root, "2"))) == ["MANIFEST", "model.pt", "parity.npy"]


# --- MARKETSEARCH_FAULTS in a real process ---

def _run(code, spec):
    env = dict(os.environ)
    env.pop(versions.FAULTS_ENV, None)
    if spec is not None:
        env[versions.FAULTS_ENV] = spec
    return subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, %r); " % _REPO + code],
                          env=env, capture_output=True, text=True, timeout=60)


def test_env_var_activates_the_fault_with_a_loud_line(tmp_path):
    root = str(tmp_path)
    os.makedirs(os.path.join(root, "1"))
    code = "from common import versions; versions.write_current(%r, 1)" % root
    ok = _run(code, None)
    assert ok.returncode == 0 and ok.stderr == "", ok.stderr
    os.remove(os.path.join(root, "CURRENT"))
    r = _run(code, "rename:CURRENT:EIO")
    assert r.returncode != 0
    assert "MARKETSEARCH_FAULTS is set" in r.stderr
    assert "rename %s/CURRENT.tmp -> %s/CURRENT: Input/output error (injected)" % (root, root) in r.stderr
    assert not os.path.exists(os.path.join(root, "CURRENT"))


@pytest.mark.parametrize("bad", ["rename:CURRENT", "fsync:x:EIO", "rename:CURRENT:EWHAT", ""])
def test_malformed_env_var_stops_the_process_at_import(bad):
    r = _run("from common import versions; print('ran')", bad)
    assert r.returncode == 2, r
    assert r.stderr.startswith("MARKETSEARCH_FAULTS: "), r.stderr
    assert "ran" not in r.stdout
