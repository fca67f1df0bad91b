#!/usr/bin/env python3
"""gen_ninja.py BUILD OUT: writes OUT/build.ninja, which builds every
libFuzzer harness tests/fuzz/fuzz_NAME.c as OUT/fuzz_NAME with clang.

Nothing here names a source file of the project: the libraries are the
build's own, read from meson's introspection (BUILD/meson-info): every
static library defined outside tests/ is compiled again with clang
(coverage for libFuzzer, ASan, UBSan) from the sources, include
directories and defines meson gives it, and archived; each harness links
all of them (an archive gives only the objects it needs) and every
dependency the build found. A file moved to another module, or a new
library, needs no change here.
"""
import glob
import json
import os
import shlex
import sys

SAN = "-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS = "-g -O1 " + SAN


def keep(param):
    """The compile parameters that say what the code is (include
    directories, defines, the standard, threads), not how gcc checks or
    optimises it (warnings, -Werror, -O, fortify)."""
    if param.startswith("-D_FORTIFY_SOURCE"):
        return False
    return (param.startswith(("-I", "-D", "-std=", "-isystem"))
            or param == "-pthread")


def esc(path):
    """A path in a ninja build line."""
    return path.replace("$", "$$").replace(" ", "$ ").replace(":", "$:")


def var(value):
    """A value of a ninja variable."""
    return value.replace("$", "$$")


def main():
    build, out = os.path.realpath(sys.argv[1]), sys.argv[2]
    info = os.path.join(build, "meson-info")
    with open(os.path.join(info, "meson-info.json")) as f:
        src = os.path.realpath(json.load(f)["directories"]["source"])
    with open(os.path.join(info, "intro-targets.json")) as f:
        targets = json.load(f)
    with open(os.path.join(info, "intro-dependencies.json")) as f:
        deps = json.load(f)
    tests = os.path.join(src, "tests") + os.sep

    libs, includes, lines, common = [], [], [], None
    for t in targets:
        if t["type"] != "static library" or \
                os.path.realpath(t["defined_in"]).startswith(tests):
            continue
        objs = []
        for ts in t["target_sources"]:
            if ts["language"] != "c":
                continue
            params = [p for p in ts["parameters"] if keep(p)]
            includes += [p for p in params
                         if p.startswith(("-I", "-isystem"))
                         and p not in includes]
            # the defines every library has (-D_FILE_OFFSET_BITS=64:
            # the harnesses share their structs) are the harnesses' too
            mine = [p for p in params
                    if not p.startswith(("-I", "-isystem"))]
            common = mine if common is None else \
                [p for p in common if p in mine]
            flags = var(" ".join(shlex.quote(p) for p in params))
            for s in ts["sources"] + ts["generated_sources"]:
                # the path below the source or build tree: two files
                # of one name in two directories stay two objects
                base = build if s.startswith(build + os.sep) else src
                o = "obj/%s/%s.o" % (t["name"], os.path.relpath(s, base))
                lines.append("build %s: cc %s\n  flags = %s" %
                             (esc(o), esc(s), flags))
                objs.append(o)
        a = "lib/lib%s.a" % t["name"]
        lines.append("build %s: ar %s" % (a, " ".join(map(esc, objs))))
        libs.append(a)
    if not libs:
        sys.exit("gen_ninja.py: no libraries in %s's introspection" % build)

    dep_cflags, dep_libs = [], []
    for d in deps:
        dep_cflags += [a for a in d["compile_args"] if a not in dep_cflags]
        dep_libs += [a for a in d["link_args"] if a not in dep_libs]
    inc = var(" ".join(shlex.quote(p)
                       for p in common + includes + dep_cflags))
    link = var(" ".join(shlex.quote(a) for a in dep_libs))

    harnesses = []
    for h in sorted(glob.glob(os.path.join(src, "tests", "fuzz",
                                           "fuzz_*.c"))):
        name = os.path.basename(h)[:-2]
        lines.append("build obj/%s.o: cc %s\n  flags = %s"
                     % (name, esc(h), inc))
        lines.append("build %s: link obj/%s.o | %s\n  libs = %s" %
                     (name, name, " ".join(libs), " ".join(libs)))
        harnesses.append(name)

    with open(os.path.join(out, "build.ninja.tmp"), "w") as f:
        f.write("""# written by tests/fuzz/gen_ninja.py from %(build)s/meson-info
rule cc
  command = clang %(cflags)s -fsanitize=fuzzer-no-link $flags -MD -MF $out.d -c $in -o $out
  depfile = $out.d
  deps = gcc
  description = CC $out
rule ar
  command = rm -f $out && ar crs $out $in
  description = AR $out
rule link
  command = clang %(cflags)s -fsanitize=fuzzer $in -Wl,--start-group $libs -Wl,--end-group -Wl,--as-needed %(link)s -o $out
  description = LINK $out
""" % {"build": build, "cflags": CFLAGS, "link": link})
        f.write("\n".join(lines) + "\n")
        f.write("default %s\n" % " ".join(harnesses))
    os.replace(os.path.join(out, "build.ninja.tmp"),
               os.path.join(out, "build.ninja"))


main()
