// Compiles every .py file under a folder to CPython 3.13 bytecode (__pycache__/*.cpython-313.pyc),
// with CPython 3.13 itself: Pyodide's WebAssembly build, pinned in package.json, since the build
// machine need not have a python3.13. Bytecode is the same on every platform, so what this writes
// is what the python3.13 Lambda runtime would write if /opt were writable.
//
//   node infra/compile_bytecode.mjs <folder> <path the folder has at run time, e.g. /opt/python>
//
// The files are written with unchecked hashes: the runtime loads them without looking at the
// source's timestamp (which copying and zipping change) or hashing the source.
import { loadPyodide } from "pyodide";

const [folder, runtimePath] = process.argv.slice(2);
if (!folder || !runtimePath) {
  console.error("usage: node infra/compile_bytecode.mjs <folder> <runtime path>");
  process.exit(2);
}
const pyodide = await loadPyodide({ stdout: (line) => console.log(line), stderr: (line) => console.error(line) });
pyodide.FS.mkdirTree("/build");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: folder }, "/build");
pyodide.globals.set("runtime_path", runtimePath);
const ok = pyodide.runPython(`
import compileall
import py_compile
import sys

print(f"compiling with Python {sys.version.split()[0]} ({sys.implementation.cache_tag})")
compileall.compile_dir("/build", quiet=1, stripdir="/build", prependdir=runtime_path,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
`);
process.exit(ok ? 0 : 1);
