"""Runs common/testdata/versions_fixture.txt against common/versions.py; common/versions_test.cc
runs the same file against common/versions.h."""
import os
import shutil
import sys

import pytest

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO)
from common import versions  # noqa: E402

FIXTURE = os.path.join(_REPO, "common", "testdata", "versions_fixture.txt")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "s": " ", "\\": "\\"}


def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\":
            i += 1
            out.append(_ESCAPES[s[i]])  # KeyError: a broken fixture
        else:
            out.append(s[i])
        i += 1
    return "".join(out)


def read_fixture():
    cases = []
    with open(FIXTURE) as f:
        for number, raw in enumerate(f.read().split("\n"), start=1):
            if not raw or raw.startswith("#"):
                continue
            words = raw.split()
            if words[0] == "case":
                cases.append((words[1], []))
            else:
                assert cases, "line %d outside a case" % number
                cases[-1][1].append((number, words))
    return cases


CASES = read_fixture()


def test_fixture_is_read():
    assert len(CASES) >= 10


def _code(fn, *args):
    """Runs fn and names the outcome the way the fixture does."""
    try:
        return "OK", fn(*args)
    except versions.CorruptCurrentError as e:
        return "DATA_LOSS", e
    except FileNotFoundError as e:
        return "NOT_FOUND", e
    except ValueError as e:
        return "INVALID_ARGUMENT", e


@pytest.mark.parametrize("name,lines", CASES, ids=[c[0] for c in CASES])
def test_shared_fixture(tmp_path, name, lines):
    root = str(tmp_path / "root")
    os.makedirs(root)
    for number, w in lines:
        where = "case %s, line %d: %s" % (name, number, " ".join(w))
        op = w[0]
        if op == "no_root":
            shutil.rmtree(root)
        elif op == "dir":
            os.makedirs(os.path.join(root, w[1]))
        elif op == "file":
            with open(os.path.join(root, w[1]), "w", newline="") as f:
                f.write(unescape(w[2]) if len(w) > 2 else "")
        elif op == "list":
            assert versions.list_versions(root) == [int(x) for x in w[1:]], where
        elif op == "newest":
            code, v = _code(versions.newest_version, root)
            dcode, d = _code(versions.newest_version_dir, root)
            if w[1] == "NOT_FOUND":
                assert (code, dcode) == ("NOT_FOUND", "NOT_FOUND"), where
            else:
                assert (code, v) == ("OK", int(w[1])), where
                assert (dcode, d) == ("OK", root + "/" + w[1]), where
                assert versions.version_dir(root, v) == root + "/" + w[1], where
        elif op == "next":
            assert versions.next_version(root) == int(w[1]), where
        elif op == "current":
            code, v = _code(versions.read_current, root)
            if w[1] in ("NOT_FOUND", "DATA_LOSS"):
                assert code == w[1], (where, v)
                assert root in str(v), (where, v)  # the message names the file
            else:
                assert (code, v) == ("OK", int(w[1])), where
        elif op == "write_current":
            code, err = _code(versions.write_current, root, int(w[1]))
            assert code == w[2], (where, err)
            if code == "OK":
                with open(os.path.join(root, "CURRENT"), "rb") as f:
                    assert f.read() == b"%d\n" % int(w[1]), where
                assert not os.path.exists(os.path.join(root, "CURRENT.tmp")), where
        else:
            raise AssertionError("unknown fixture operation %r (%s)" % (op, where))


def test_write_current_takes_numpy_integers_but_not_floats(tmp_path):
    np = pytest.importorskip("numpy")
    os.makedirs(tmp_path / "4")
    versions.write_current(str(tmp_path), np.int64(4))
    assert versions.read_current(str(tmp_path)) == 4
    with pytest.raises(ValueError):
        versions.write_current(str(tmp_path), 4.0)
