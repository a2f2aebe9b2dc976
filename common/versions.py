"""The version protocol of every artifact root (var/index, var/lexical, var/models/<name>):
immutable numbered version directories <root>/<v>/ and a <root>/CURRENT file naming the served
version. Python twin of common/versions.h (same rules, same results; both are checked against
common/testdata/versions_fixture.txt).

A version name is the canonical decimal form of an integer in [1, 2**63 - 1] ("7", never "07",
"+7" or " 7"). Anything else under a root is ignored: staging directories (.tmp-<v>-<pid>),
CURRENT and its temporary file, plain files with numeric names.

Errors: FileNotFoundError where C++ returns NotFound, CorruptCurrentError (a ValueError) where it
returns DataLoss, ValueError where it returns InvalidArgument.

Import from a script in <repo>/<folder>/<sub>/ (works in the source tree and in Bazel runfiles):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    from common import versions
"""
import operator
import os
import re

CURRENT = "CURRENT"
_MAX_VERSION = 2 ** 63 - 1
_NAME = re.compile(rb"[1-9][0-9]*\Z")
_ASCII_SPACE = b" \t\n\v\f\r"  # what absl::StripAsciiWhitespace strips


class CorruptCurrentError(ValueError):
    """<root>/CURRENT exists but does not name a version (C++: absl::DataLossError)."""


def _parse_name(name):
    """The version a canonical version name (str or bytes) stands for, or None."""
    if isinstance(name, str):
        try:
            name = name.encode("ascii")
        except UnicodeEncodeError:
            return None
    if not _NAME.match(name):
        return None
    v = int(name)
    return v if v <= _MAX_VERSION else None


def list_versions(root):
    """The version directories under root, ascending. A missing or unreadable root has none."""
    try:
        entries = list(os.scandir(root))
    except OSError:
        return []
    out = []
    for e in entries:
        v = _parse_name(e.name)
        try:
            is_dir = e.is_dir()  # follows symlinks, as std::filesystem does
        except OSError:
            is_dir = False
        if v is not None and is_dir:
            out.append(v)
    return sorted(out)


def newest_version(root):
    """The highest version under root; FileNotFoundError when there is none."""
    versions = list_versions(root)
    if not versions:
        raise FileNotFoundError("no versions under %s" % root)
    return versions[-1]


def newest_version_dir(root):
    """version_dir(root, newest_version(root)): the newest artifact of a kind."""
    return version_dir(root, newest_version(root))


def next_version(root):
    """One more than the highest version under root (1 when there is none). Staging
    directories are not counted (see NextVersion in common/versions.h)."""
    versions = list_versions(root)
    return versions[-1] + 1 if versions else 1


def read_current(root):
    """The version named by <root>/CURRENT ("<v>\\n"; surrounding ASCII whitespace tolerated).
    FileNotFoundError when there is no CURRENT; CorruptCurrentError when it does not hold a
    version name. Does not check that <root>/<v> exists."""
    path = os.path.join(root, CURRENT)
    try:
        with open(path, "rb") as f:
            text = f.read()
    except FileNotFoundError:
        raise FileNotFoundError("no %s in %s" % (CURRENT, root)) from None
    v = _parse_name(text.strip(_ASCII_SPACE))
    if v is None:
        raise CorruptCurrentError("%s does not name a version: %r" % (path, text[:40]))
    return v


def write_current(root, version):
    """Makes <root>/CURRENT name version, atomically and durably (temporary file, fsync,
    rename, fsync of root). ValueError when version < 1; FileNotFoundError when
    <root>/<version> is not a directory (CURRENT is unchanged then)."""
    try:
        version = operator.index(version)  # ints and numpy integers, not floats or strings
    except TypeError:
        raise ValueError("version %r is not an integer" % (version,)) from None
    if version < 1:
        raise ValueError("version %d is not >= 1" % version)
    target = version_dir(root, version)
    if not os.path.isdir(target):
        raise FileNotFoundError("cannot make %s name %s: not a directory" % (CURRENT, target))
    path = os.path.join(root, CURRENT)
    tmp = path + ".tmp"  # the name WriteFileAtomically (common/file_util.cc) uses
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        data = b"%d\n" % version
        while data:
            data = data[os.write(fd, data):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, path)
    dfd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def version_dir(root, version):
    """The directory of one version: <root>/<version>."""
    return "%s/%d" % (root, version)
