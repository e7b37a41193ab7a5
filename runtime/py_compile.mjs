/**
 * Byte-compile the .py files of zip archives (python_stdlib.zip, wheels) with Pyodide's own
 * interpreter, run under Node. Called by vendor.py; stdlib Node only.
 *
 *   node runtime/py_compile.mjs '<job JSON>'
 *
 * job = {"indexURL": "<folder with pyodide.mjs>/", "level": 9, "emptyDocstrings": true,
 *        "columns": false,
 *        "keepDocstrings": ["pyodide/", "_pyodide/"],
 *        "archives": [{"src": "in.zip", "dst": "out.zip", "prefix": "/lib/python312.zip/"}]}
 *
 * The host's CPython cannot do this: its .pyc magic number differs from Pyodide's Python
 * (3.12.7), and a .pyc with the wrong magic is silently ignored (or, sourceless, fails to
 * import). So the exact npm Pyodide that the site serves compiles its own bytecode.
 *
 * Each `foo.py` is replaced by a sourceless `foo.pyc` in the same place (as Pyodide's
 * `pyodide py-compile` does), an unchecked hash-based pyc (PEP 552): no timestamp, so the
 * same input gives the same bytes, and nothing to validate against at import time. Code
 * objects get `prefix + name` as co_filename (where the module lives in the browser), so
 * tracebacks name real paths. A .py that does not compile is kept as source and reported.
 * With `emptyDocstrings`, every docstring is compiled as "" (entries under a `keepDocstrings`
 * prefix excepted): the bytes of `python -OO`, but __doc__ stays a str and asserts stay, so code
 * that passes docstrings on (numpy's `add_docstring`, which accepts None only under -OO) works.
 * With `columns: false`, code objects keep line numbers but not column ranges (as under
 * PYTHONNODEBUGRANGES): tracebacks name the line without the ^^^ marks under it.
 * A wheel's RECORD is rewritten to list the .pyc files with their sha256 and size. Entries
 * keep their order, timestamps and attributes; deflated ones are recompressed at `level`.
 *
 * Prints one JSON line on stdout: {"python", "magic" (hex), "archives": [{"src", "compiled",
 * "kept_source": ["name: error"]}]}. Pyodide's own output goes to stderr. Exit 1 on failure.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const PYTHON = String.raw`
import ast, base64, csv, hashlib, importlib.util, io, json, sys, zipfile
from importlib._bootstrap_external import _code_to_hash_pyc


def record_hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def rewrite_record(data, renamed, payloads):
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        if row and row[0] in renamed:
            pyc = renamed[row[0]]
            row = [pyc, record_hash(payloads[pyc]), str(len(payloads[pyc]))]
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def empty_docstrings(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                first.value.value = ""
    return tree


def compile_archive(src, dst, prefix, level, strip_docstrings, keep_docstrings):
    entries, renamed, kept = [], {}, []
    with zipfile.ZipFile(src) as zin:
        names = set(zin.namelist())
        for info in zin.infolist():
            name, data = info.filename, zin.read(info)
            if name.endswith(".py") and not info.is_dir():
                if name + "c" in names:
                    raise RuntimeError(f"{src} already holds {name}c")
                try:
                    tree = ast.parse(data, prefix + name)
                    if strip_docstrings and not name.startswith(tuple(keep_docstrings)):
                        tree = empty_docstrings(tree)
                    code = compile(tree, prefix + name, "exec", dont_inherit=True, optimize=0)
                except (SyntaxError, ValueError) as exc:
                    kept.append(f"{name}: {exc}")
                else:
                    data = _code_to_hash_pyc(code, importlib.util.source_hash(data), False)
                    renamed[name] = name = name + "c"
            entries.append((info, name, data))
    payloads = {name: data for _, name, data in entries}
    with zipfile.ZipFile(dst, "w") as zout:
        for info, name, data in entries:
            if name.endswith(".dist-info/RECORD") and renamed:
                data = rewrite_record(data, renamed, payloads)
            out = zipfile.ZipInfo(name, info.date_time)
            out.create_system = info.create_system
            out.external_attr = info.external_attr
            out.compress_type = info.compress_type
            deflated = info.compress_type == zipfile.ZIP_DEFLATED
            zout.writestr(out, data, compresslevel=level if deflated else None)
    with zipfile.ZipFile(dst) as check:
        bad = check.testzip()
        if bad is not None:
            raise RuntimeError(f"{dst}: entry {bad} is corrupt after repacking")
    return {"src": src, "compiled": len(renamed), "kept_source": kept}


def main(job):
    job = json.loads(job)
    columns = any(col is not None for *_, col in compile("a + b", "", "eval").co_positions())
    if columns != job["columns"]:
        raise RuntimeError("PYTHONNODEBUGRANGES did not reach the compiler")
    reports = [
        compile_archive(
            a["src"], a["dst"], a["prefix"], job["level"], job["emptyDocstrings"],
            job["keepDocstrings"],
        )
        for a in job["archives"]
    ]
    return json.dumps({
        "python": sys.version.split()[0],
        "magic": importlib.util.MAGIC_NUMBER.hex(),
        "archives": reports,
    })
`;

async function main() {
  const job = JSON.parse(process.argv[2] ?? "null");
  if (!job || !job.indexURL || !Array.isArray(job.archives)) {
    throw new Error("usage: node py_compile.mjs '<job JSON>' (see the header of this file)");
  }
  const indexURL = job.indexURL.endsWith("/") ? job.indexURL : `${job.indexURL}/`;
  const { loadPyodide } = await import(pathToFileURL(`${indexURL}pyodide.mjs`).href);
  const toStderr = (line) => process.stderr.write(`${line}\n`);
  // The compiler reads PYTHONNODEBUGRANGES once, when Python starts.
  const env = job.columns === false ? { PYTHONNODEBUGRANGES: "1" } : {};
  const pyodide = await loadPyodide({ indexURL, env, stdout: toStderr, stderr: toStderr });

  // Archives go through Pyodide's in-memory file system under /work.
  pyodide.FS.mkdirTree("/work");
  const inner = job.archives.map((archive, i) => {
    const src = `/work/in-${i}.zip`;
    pyodide.FS.writeFile(src, readFileSync(archive.src));
    return { src, dst: `/work/out-${i}.zip`, prefix: archive.prefix };
  });
  const options = {
    level: job.level ?? 9,
    emptyDocstrings: job.emptyDocstrings ?? false,
    columns: job.columns ?? true,
    keepDocstrings: job.keepDocstrings ?? [],
  };
  pyodide.globals.set("JOB", JSON.stringify({ ...options, archives: inner }));
  const report = JSON.parse(pyodide.runPython(`${PYTHON}\nmain(JOB)`));
  job.archives.forEach((archive, i) => {
    writeFileSync(archive.dst, pyodide.FS.readFile(inner[i].dst));
    report.archives[i].src = archive.src;
  });
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error) => {
  process.stderr.write(`py_compile.mjs: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
