"""The version protocol of every artifact root (var/index, var/lexical, var/models/<name>):
immutable numbered version directories <root>/<v>/ and a <root>/CURRENT file naming the served
version. Python twin of common/versions.h (same rules, same results; both are checked against
common/testdata/versions_fixture.txt).

A version name is the canonical decimal form of an integer in [1, 2**63 - 1] ("7", never "07",
"+7" or " 7"). Anything else under a root is ignored: staging directories (.tmp-<v>-<pid>),
CURRENT and its temporary file, plain files with numeric names.

Errors: FileNotFoundError where C++ returns NotFound, CorruptCurrentError (a ValueError) where it
returns DataLoss, ValueError where it returns InvalidArgument; an I/O error is an OSError whose
message names the operation and the file ("fsync <path>: Input/output error").

File I/O goes through a small file-system object (OsFileSystem; common/model_artifact.py uses
the same one), the twin of the C++ Env's write side. When the environment variable
MARKETSEARCH_FAULTS is set, default_fs() is a FaultInjectingFileSystem with the C++ spec syntax
(common/fault_injection_env.h): OP:PATTERN:ERROR[:WHEN],... — a test hook; a malformed spec
stops the process (exit 2) with a message naming the variable.

Import from a script in <repo>/<folder>/<sub>/ (works in the source tree and in Bazel runfiles):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    from common import versions
"""
import errno as _errno
import fnmatch
import operator
import os
import re
import shutil
import sys
import threading

CURRENT = "CURRENT"
_MAX_VERSION = 2 ** 63 - 1
_NAME = re.compile(rb"[1-9][0-9]*\Z")
_ASCII_SPACE = b" \t\n\v\f\r"  # what absl::StripAsciiWhitespace strips


FAULTS_ENV = "MARKETSEARCH_FAULTS"


def _os_error(err, what, path, injected=False):
    return OSError(err, "%s %s: %s%s" % (what, path, os.strerror(err),
                                         " (injected)" if injected else ""))


class OsFileSystem:
    """The real file system. Every method raises OSError naming the operation and the file."""

    def write_file(self, path, data):
        """Creates (or truncates) path, writes data (bytes) and fsyncs it."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise _os_error(e.errno, "create", path) from None
        try:
            view = memoryview(data)
            while view:
                try:
                    view = view[os.write(fd, view):]
                except OSError as e:
                    raise _os_error(e.errno, "write", path) from None
            try:
                os.fsync(fd)
            except OSError as e:
                raise _os_error(e.errno, "fsync", path) from None
        finally:
            os.close(fd)

    def read_file(self, path):
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise
        except OSError as e:
            raise _os_error(e.errno, "read", path) from None

    def fsync(self, path):
        """fsyncs an existing file (one a library wrote itself)."""
        self._sync(path, os.O_RDONLY, "fsync")

    def fsync_dir(self, path):
        self._sync(path, os.O_RDONLY | os.O_DIRECTORY, "fsync dir")

    def _sync(self, path, flags, what):
        try:
            fd = os.open(path, flags | os.O_CLOEXEC)
        except OSError as e:
            raise _os_error(e.errno, "open (for %s)" % what, path) from None
        try:
            os.fsync(fd)
        except OSError as e:
            raise _os_error(e.errno, what, path) from None
        finally:
            os.close(fd)

    def rename(self, src, dst):
        try:
            os.rename(src, dst)
        except OSError as e:
            raise _os_error(e.errno, "rename", "%s -> %s" % (src, dst)) from None

    def makedirs(self, path):
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as e:
            raise _os_error(e.errno, "mkdir", path) from None

    def remove_tree(self, path):
        """Removes a file or directory tree; absent is fine."""
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise _os_error(e.errno, "remove", path) from None


_OPS = ("write", "sync", "syncdir", "rename", "read", "mkdir", "remove")
_ERRORS = ("EIO", "ENOSPC", "EROFS", "EACCES", "EPERM", "EDQUOT", "ENOENT", "EBUSY", "EMFILE")


class FaultRule:
    def __init__(self, op, pattern, err, nth=0, and_later=False):
        self.op, self.pattern, self.err, self.nth, self.and_later = op, pattern, err, nth, and_later
        self.seen = 0


def parse_fault_spec(spec):
    """OP:PATTERN:ERROR[:WHEN],... (common/fault_injection_env.h) -> [FaultRule]. ValueError
    naming the bad rule."""
    if not spec:
        raise ValueError("empty (unset it to inject nothing)")
    rules = []
    for text in spec.split(","):
        def bad(why):
            return ValueError('bad rule "%s": %s (expected OP:PATTERN:ERROR[:WHEN], e.g. '
                              "rename:CURRENT:EIO or sync:*.pt:ENOSPC:first)" % (text, why))
        f = text.split(":")
        if len(f) not in (3, 4):
            raise bad("not 3 or 4 ':'-separated fields")
        if f[0] not in _OPS:
            raise bad('unknown operation "%s" (%s)' % (f[0], ", ".join(_OPS)))
        if not f[1]:
            raise bad("empty file pattern ('*' matches every file)")
        if f[2] not in _ERRORS:
            raise bad('unknown error "%s" (%s)' % (f[2], ", ".join(_ERRORS)))
        nth, and_later = 0, False
        if len(f) == 4 and f[3] != "every":
            when = "1" if f[3] == "first" else f[3]
            if when.endswith("+"):
                and_later, when = True, when[:-1]
            if not re.fullmatch(r"[1-9][0-9]*", when):
                raise bad('occurrence "%s" is not every, first, N or N+' % f[3])
            nth = int(when)
        rules.append(FaultRule(f[0], f[1], getattr(_errno, f[2]), nth, and_later))
    return rules


def fault_pattern_matches(pattern, path):
    """A glob (with * ? [) on the file name or the whole path, else a substring of the path."""
    if not any(c in pattern for c in "*?["):
        return pattern in path
    return (fnmatch.fnmatchcase(os.path.basename(path), pattern)
            or fnmatch.fnmatchcase(path, pattern))


class FaultInjectingFileSystem:
    """Forwards to `base` and fails the operations the rules choose, like the C++
    FaultInjectionEnv: OSError "<op> <path>: <strerror> (injected)"; an injected write stores
    the first half of the data first (a torn write)."""

    def __init__(self, base, rules):
        self.base, self.rules, self.injected = base, rules, 0
        self._lock = threading.Lock()

    def _check(self, op, paths, what, shown):
        err = 0
        with self._lock:
            for r in self.rules:
                if r.op != op or not any(fault_pattern_matches(r.pattern, p) for p in paths):
                    continue
                r.seen += 1
                if (r.nth == 0 or r.seen == r.nth or (r.and_later and r.seen > r.nth)) and not err:
                    err = r.err
            if err:
                self.injected += 1
        if err:
            raise _os_error(err, what, shown, injected=True)

    def write_file(self, path, data):
        try:
            self._check("write", [path], "write", path)
        except OSError:
            self.base.write_file(path, bytes(memoryview(data)[:len(data) // 2]))
            raise
        # The fsync of a written file is a "sync" too: write, then sync, as in C++.
        self.base.write_file(path, data)
        self._check("sync", [path], "fsync", path)

    def read_file(self, path):
        self._check("read", [path], "read", path)
        return self.base.read_file(path)

    def fsync(self, path):
        self._check("sync", [path], "fsync", path)
        self.base.fsync(path)

    def fsync_dir(self, path):
        self._check("syncdir", [path], "fsync dir", path)
        self.base.fsync_dir(path)

    def rename(self, src, dst):
        self._check("rename", [src, dst], "rename", "%s -> %s" % (src, dst))
        self.base.rename(src, dst)

    def makedirs(self, path):
        self._check("mkdir", [path], "mkdir", path)
        self.base.makedirs(path)

    def remove_tree(self, path):
        self._check("remove", [path], "remove", path)
        self.base.remove_tree(path)


_default_fs = None
_default_lock = threading.Lock()


def default_fs():
    """OsFileSystem, or a FaultInjectingFileSystem over it when MARKETSEARCH_FAULTS is set
    (which prints one loud line to stderr). A malformed spec exits the process (code 2)."""
    global _default_fs
    with _default_lock:
        if _default_fs is None:
            spec = os.environ.get(FAULTS_ENV)
            if spec is None:
                _default_fs = OsFileSystem()
            else:
                try:
                    rules = parse_fault_spec(spec)
                except ValueError as e:
                    sys.stderr.write("%s: %s\n" % (FAULTS_ENV, e))
                    sys.stderr.flush()
                    raise SystemExit(2)
                sys.stderr.write("*** %s is set: this process injects I/O faults (a test hook): "
                                 "%s ***\n" % (FAULTS_ENV, spec))
                sys.stderr.flush()
                _default_fs = FaultInjectingFileSystem(OsFileSystem(), rules)
        return _default_fs


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


def write_current(root, version, fs=None):
    """Makes <root>/CURRENT name version, atomically and durably (temporary file, fsync,
    rename, fsync of root). ValueError when version < 1; FileNotFoundError when
    <root>/<version> is not a directory (CURRENT is unchanged then). I/O through `fs`
    (default_fs()): an OSError names the step and the file, and leaves CURRENT unchanged when
    it comes before the rename."""
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
    fs = fs or default_fs()
    try:
        fs.write_file(tmp, b"%d\n" % version)
        fs.rename(tmp, path)
    except OSError:
        try:
            OsFileSystem().remove_tree(tmp)  # best effort: the error above is the one to report
        except OSError:
            pass
        raise
    fs.fsync_dir(root)


def version_dir(root, version):
    """The directory of one version: <root>/<version>."""
    return "%s/%d" % (root, version)


# A malformed MARKETSEARCH_FAULTS stops the process at import, before any training.
if FAULTS_ENV in os.environ:
    default_fs()
