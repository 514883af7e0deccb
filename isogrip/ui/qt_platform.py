"""Whether Qt's X11 (xcb) platform plugin can load, checked before Qt starts.

A missing system library of the plugin (``libxcb-cursor.so.0`` and others) is a fatal
Qt error that aborts the process, so :func:`check_xcb` reads the plugin's ELF
dependencies instead (PyQt6's ``plugins/platforms/libqxcb.so`` and the Qt libraries
next to it), finds each in the places the dynamic loader looks, and confirms the ones
not found with ``dlopen``. Nothing of Qt is imported or loaded; it takes about 3 ms.
``ISOGRIP_QT_PLUGIN`` names another plugin file to check (for tests).
"""

from __future__ import annotations

import importlib.util
import os
import struct
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: Soname stem (the part before ``.so``) -> its package on Debian/Ubuntu, Fedora, Arch.
_PACKAGES: dict[str, tuple[str, str, str]] = {
    "libxcb-cursor": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    "libxcb-icccm": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    "libxcb-image": ("libxcb-image0", "xcb-util-image", "xcb-util-image"),
    "libxcb-keysyms": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    "libxcb-render-util": ("libxcb-render-util0", "xcb-util-renderutil",
                           "xcb-util-renderutil"),
    "libxcb-util": ("libxcb-util1", "xcb-util", "xcb-util"),
    "libxcb-randr": ("libxcb-randr0", "libxcb", "libxcb"),
    "libxcb-shape": ("libxcb-shape0", "libxcb", "libxcb"),
    "libxcb-xinerama": ("libxcb-xinerama0", "libxcb", "libxcb"),
    "libxcb-xkb": ("libxcb-xkb1", "libxcb", "libxcb"),
    "libxcb-shm": ("libxcb-shm0", "libxcb", "libxcb"),
    "libxcb-sync": ("libxcb-sync1", "libxcb", "libxcb"),
    "libxcb-xfixes": ("libxcb-xfixes0", "libxcb", "libxcb"),
    "libxcb-render": ("libxcb-render0", "libxcb", "libxcb"),
    "libxcb": ("libxcb1", "libxcb", "libxcb"),
    "libX11-xcb": ("libx11-xcb1", "libX11-xcb", "libx11"),
    "libX11": ("libx11-6", "libX11", "libx11"),
    "libxkbcommon-x11": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    "libxkbcommon": ("libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    "libEGL": ("libegl1", "libglvnd-egl", "libglvnd"),
    "libGL": ("libgl1", "libglvnd-glx", "libglvnd"),
    "libOpenGL": ("libopengl0", "libglvnd-opengl", "libglvnd"),
    "libfontconfig": ("libfontconfig1", "fontconfig", "fontconfig"),
    "libfreetype": ("libfreetype6", "freetype", "freetype2"),
    "libdbus-1": ("libdbus-1-3", "dbus-libs", "dbus"),
    "libglib-2.0": ("libglib2.0-0", "glib2", "glib2"),
    "libgthread-2.0": ("libglib2.0-0", "glib2", "glib2"),
}
#: Family -> its column in :data:`_PACKAGES`, the install command, the distributions.
_FAMILIES = {"debian": (0, "sudo apt-get install", "Debian or Ubuntu"),
             "fedora": (1, "sudo dnf install", "Fedora"),
             "arch": (2, "sudo pacman -S", "Arch")}
#: os-release IDs (``ID``, ``ID_LIKE``) -> family.
_IDS = {"debian": "debian", "ubuntu": "debian", "fedora": "fedora", "rhel": "fedora",
        "centos": "fedora", "arch": "arch"}
_DEFAULT_DIRS = ("/lib64", "/usr/lib64", "/lib", "/usr/lib")


@dataclass(frozen=True)
class XcbCheck:
    """The answer of :func:`check_xcb`.

    Attributes:
        ok: False only when the plugin is known not to load.
        missing: The sonames no library was found for, e.g. ``libxcb-cursor.so.0``.
        packages: The packages to install for them (this distribution's, else all).
        message: One sentence (after "isogrip: ", so lower-case) naming what is missing
            and how to install it; empty if ok.
    """

    ok: bool
    missing: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    message: str = ""


def uses_xcb(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt would start its xcb platform here (Linux, X11, no other platform).

    Args:
        environ: The environment (``DISPLAY``, ``QT_QPA_PLATFORM``, the Wayland session).
        platform: ``sys.platform``.
    """
    if not platform.startswith("linux") or not environ.get("DISPLAY"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").strip()
    if chosen:  # e.g. "xcb", "xcb:option", "wayland;xcb": the first one is tried first
        return chosen.split(";")[0].split(":")[0].strip() == "xcb"
    return not (environ.get("XDG_SESSION_TYPE") == "wayland"
                and environ.get("WAYLAND_DISPLAY"))


def distro_family(os_release: Path = Path("/etc/os-release")) -> str | None:
    """The distribution family from an os-release file (its ``ID`` and ``ID_LIKE``).

    Returns:
        ``debian`` (also Ubuntu, Mint), ``fedora`` (also RHEL, CentOS) or ``arch``;
        None for any other distribution or no file.
    """
    try:
        text = os_release.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    fields = {key.strip(): value.strip().strip("\"'").lower() for key, _, value in
              (line.partition("=") for line in text.splitlines())}
    names = [fields.get("ID", ""), *fields.get("ID_LIKE", "").split()]
    return next((_IDS[name] for name in names if name in _IDS), None)


def install_sentence(missing: tuple[str, ...], family: str | None) -> tuple[tuple[str, ...], str]:
    """The packages for the missing sonames and the sentence saying how to install them.

    Args:
        missing: Sonames, e.g. ``libxcb-cursor.so.0``.
        family: As :func:`distro_family`; None names every family's command.

    Returns:
        The packages (in order, once each) and one sentence without line breaks.
    """
    families = [family] if family in _FAMILIES else list(_FAMILIES)
    stems = [name.split(".so")[0] for name in missing]
    commands: list[str] = []
    packages: list[str] = []
    for fam in families:
        column, command, where = _FAMILIES[fam]
        pkgs = list(dict.fromkeys(_PACKAGES[s][column] for s in stems if s in _PACKAGES))
        packages += pkgs
        if pkgs:
            commands.append(f"'{command} {' '.join(pkgs)}' ({where})")
    libs = ", ".join(missing)
    how = ("install them: " + ", or ".join(commands)) if commands else \
        "install the packages that provide them"
    return tuple(dict.fromkeys(packages)), (
        f"the desktop window cannot open because Qt's X11 plugin needs system libraries "
        f"that are missing ({libs}); {how}.")


def check_xcb(environ: Mapping[str, str] = os.environ) -> XcbCheck:
    """Whether Qt's xcb plugin can load; ok wherever Qt would not use xcb.

    Args:
        environ: The environment; ``ISOGRIP_QT_PLUGIN`` names the plugin to check.

    Returns:
        Not ok only when a library the plugin needs is surely missing.
    """
    if not uses_xcb(environ):
        return XcbCheck(ok=True)
    plugin = Path(environ["ISOGRIP_QT_PLUGIN"]) if environ.get("ISOGRIP_QT_PLUGIN") \
        else xcb_plugin()
    if plugin is None or _elf_key(plugin) is None:
        return XcbCheck(ok=True)  # not there or not readable: Qt says what is wrong
    try:
        missing = missing_libraries(plugin, environ)
    except (OSError, ValueError, LookupError, StopIteration, struct.error):
        return XcbCheck(ok=True)  # a file this reader does not understand: let Qt try
    if not missing:
        return XcbCheck(ok=True)
    packages, message = install_sentence(missing, distro_family())
    return XcbCheck(ok=False, missing=missing, packages=packages, message=message)


def xcb_plugin() -> Path | None:
    """PyQt6's xcb platform plugin (``Qt6/plugins/platforms/libqxcb.so``); None if absent."""
    spec = importlib.util.find_spec("PyQt6")  # finds the package, does not import it
    for root in (spec.submodule_search_locations or []) if spec else []:
        plugin = Path(root, "Qt6", "plugins", "platforms", "libqxcb.so")
        if plugin.is_file():
            return plugin
    return None


def missing_libraries(plugin: Path, environ: Mapping[str, str]) -> tuple[str, ...]:
    """The sonames that the plugin and Qt's libraries it needs miss, in order.

    Args:
        plugin: The plugin file (``libqxcb.so``).
        environ: The environment (its ``LD_LIBRARY_PATH``).
    """
    cache = _ld_cache()
    key = _elf_key(plugin)
    search = [d for d in environ.get("LD_LIBRARY_PATH", "").split(":") if d]
    arch = getattr(sys.implementation, "_multiarch", "")  # Debian's x86_64-linux-gnu
    system = [*_DEFAULT_DIRS, *(f"{d}/{arch}" for d in ("/lib", "/usr/lib") if arch)]
    todo, seen, missing = [plugin], set(), []
    while todo:
        obj = todo.pop(0)
        needed, runpath = _dynamic(obj)
        own = [d.replace("${ORIGIN}", str(obj.parent)).replace("$ORIGIN", str(obj.parent))
               for d in runpath]
        for name in needed:
            if name in seen:
                continue
            seen.add(name)
            dirs = [*own, *search, *_cached(cache, name), *system]  # the loader's order
            found = next((p for d in dirs if _elf_key(p := Path(d, name)) == key), None)
            if found is not None and found.parent in {Path(d) for d in own}:
                todo.append(found)  # Qt's own library (or ICU): check what it needs too
            elif found is None and not name.startswith("libQt6") and not _loads(name):
                missing.append(name)
    return tuple(missing)


def _loads(name: str) -> bool:
    import ctypes  # only for a library the files did not show

    try:
        ctypes.CDLL(name, mode=os.RTLD_LAZY | os.RTLD_LOCAL)
    except OSError:
        return False
    return True


def _ld_cache() -> bytes:
    """The dynamic loader's cache (/etc/ld.so.cache), whose strings include each path."""
    try:
        return Path("/etc/ld.so.cache").read_bytes()
    except OSError:
        return b""


def _cached(cache: bytes, name: str) -> list[str]:
    """The folders the loader's cache lists a library in."""
    folders, needle = [], b"/" + name.encode() + b"\0"
    at = cache.find(needle)
    while at >= 0:
        folders.append(cache[cache.rfind(b"\0", 0, at) + 1:at].decode(errors="replace"))
        at = cache.find(needle, at + 1)
    return folders


def _elf_key(path: Path) -> bytes | None:
    """Class, byte order and machine of an ELF file (what must match to load it)."""
    try:
        with path.open("rb", buffering=0) as f:
            head = f.read(20)
    except OSError:
        return None
    return head[4:6] + head[18:20] if head[:4] == b"\x7fELF" and len(head) == 20 else None


def _dynamic(path: Path) -> tuple[list[str], list[str]]:
    """DT_NEEDED sonames and RUNPATH/RPATH folders of an ELF shared object."""
    with path.open("rb") as f:
        head = f.read(64)
        wide, end = head[4] == 2, "<" if head[5] == 1 else ">"
        phoff = struct.unpack_from(end + ("Q" if wide else "I"), head, 32 if wide else 28)[0]
        phentsize, phnum = struct.unpack_from(end + "HH", head, 54 if wide else 42)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
        loads, dynamic = [], (0, 0)
        for i in range(phnum):
            fields = struct.unpack_from(end + ("IIQQQQ" if wide else "IIIII"), table,
                                        i * phentsize)
            kind, offset, vaddr, size = ((fields[0], fields[2], fields[3], fields[5]) if wide
                                         else (fields[0], fields[1], fields[2], fields[4]))
            if kind == 1:  # PT_LOAD
                loads.append((vaddr, offset, size))
            elif kind == 2:  # PT_DYNAMIC
                dynamic = (offset, size)
        f.seek(dynamic[0])
        raw = f.read(dynamic[1])
        entry = end + ("qQ" if wide else "iI")
        tags = list(struct.iter_unpack(entry, raw[:len(raw) // struct.calcsize(entry)
                                                 * struct.calcsize(entry)]))
        values = dict(tags)  # DT_STRTAB (5) and DT_STRSZ (10) occur once
        strtab = next(off + values[5] - va for va, off, size in loads
                      if va <= values[5] < va + size)

        def text(at: int) -> str:  # the string table holds every symbol: read only these
            f.seek(strtab + at)
            chunk = f.read(4096)
            return chunk[:chunk.index(b"\0")].decode(errors="replace")

        needed = [text(v) for tag, v in tags if tag == 1]
        paths = [d for tag, v in tags if tag in (15, 29) for d in text(v).split(":") if d]
    return needed, paths
