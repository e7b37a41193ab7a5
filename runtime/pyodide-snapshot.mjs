/**
 * Pyodide memory snapshots made by the user's own browser, kept on the device, so a returning
 * visit skips Python's start-up, numpy's install and `import numpy` (copied next to pyodide.mjs
 * by vendor.py; used by pyodide-shim.mjs to restore and by snapshot-worker.mjs to make one).
 *
 * Why made here and not shipped: a snapshot is ~30 MB of wasm memory (7+ MB gzip), more than
 * the whole first visit may cost, and it only restores in the engine that made it (Pyodide
 * checks its build id; a function table built by another engine does not line up). So after a
 * first visit the page starts snapshot-worker.mjs in the background: it boots a plain Pyodide
 * with `_makeSnapshot`, installs numpy from the same vendored files (HTTP/service-worker cache:
 * no download), imports PRELOADED and saves one entry here.
 *
 * What an entry holds, besides the memory:
 * - numpy's shared libraries, with the memory and table bases they were loaded at. The wasm
 *   memory holds their data but not their code; before the memory is put back, each is
 *   instantiated again, in the same order, at the same bases (Emscripten reuses the bases a
 *   `dlopen` handle records; we hand it such a handle), so every function pointer in the
 *   snapshot points at the same code.
 * - every file numpy installed (site-packages lives in the JS-side file system, outside the
 *   memory): a numpy submodule first imported after the restore still finds its files.
 * - the app's own modules, imported (the page hands over the sources its Python had imported).
 *   Their files are not kept: the app writes its current files at every start, and the
 *   `_preloaded_sources` module records each source's sha256, so the app can drop a preloaded
 *   module whose file has changed since (site/worker.py) and ask for a new snapshot.
 *
 * Never stale: entries are keyed by snapshot-key.json (vendor.py writes the sha256 of Pyodide,
 * the stdlib zip, the numpy wheel and these modules) plus the browser's user agent; any change is
 * a new key, and old entries are deleted when a new one is saved.
 */

/** Imported before the memory is saved: numpy and the standard modules the app imports. */
const PRELOADED = ["numpy", "dataclasses", "hashlib", "json", "math", "typing"];

/** Writes the app's modules (`modules`: name -> source) to the working directory, as the app
 * does, imports them and records their sha256 (see above). */
const PRELOAD_APP = `
import hashlib, importlib, sys, types
record = types.ModuleType("_preloaded_sources")
record.sha256 = {}
for name, source in modules.items():
    with open(f"{name}.py", "w", encoding="utf-8") as file:
        file.write(source)
    with open(f"{name}.py", "rb") as file:
        record.sha256[name] = hashlib.sha256(file.read()).hexdigest()
importlib.invalidate_caches()
for name in modules:
    importlib.import_module(name)
sys.modules["_preloaded_sources"] = record
`;
const FORMAT = 1;

/*
 * Storage: the origin private file system (OPFS), one folder per Pyodide folder (two copies of
 * the app on one origin keep theirs), one file per key. Workers read it with a synchronous
 * access handle (37 MB in ~300 ms here, ~450 ms from Cache Storage). A snapshot is written under
 * a temporary name and renamed when complete, so a half-written one is never read.
 */
const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
const folderName = (url) => `mnist-draw-snapshot${new URL("./", url).pathname.replaceAll("/", "_")}`;

async function folder(url, create = false) {
  const root = await navigator.storage?.getDirectory?.();
  if (!root) return null;
  return root.getDirectoryHandle(folderName(url), { create }).catch(() => null);
}

/** Which file holds the snapshot for this Pyodide folder and this browser (null if no key):
 * {url (of the Pyodide folder), name (of the file)}. */
export async function snapshotFile(indexURL) {
  const response = await fetch(new URL("snapshot-key.json", indexURL));
  if (!response.ok) return null;
  const { key } = await response.json();
  const browser = hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(navigator.userAgent)));
  return { url: indexURL, name: `snapshot-${key}-${browser.slice(0, 16)}.bin` };
}

/** The saved snapshot at `where` (see snapshotFile), parsed, or null. */
export async function findSnapshot(where) {
  if (!where) return null;
  const file = await (await folder(where.url))?.getFileHandle(where.name).catch(() => null);
  if (!file) return null;
  return parse(await readAll(file));
}

async function readAll(file) {
  let access = null;
  try {
    access = await file.createSyncAccessHandle(); // dedicated workers only; one reader at a time
  } catch {
    return new Uint8Array(await (await file.getFile()).arrayBuffer());
  }
  try {
    const bytes = new Uint8Array(access.getSize());
    access.read(bytes, { at: 0 });
    return bytes;
  } finally {
    access.close();
  }
}

/** Delete this folder's saved snapshots (one that failed to restore must not be tried again). */
export async function forgetSnapshots(indexURL) {
  const root = await navigator.storage?.getDirectory?.();
  await root?.removeEntry(folderName(indexURL), { recursive: true }).catch(() => {});
}

async function save(where, entry) {
  await forgetSnapshots(where.url); // one entry: older keys are useless now
  const dir = await folder(where.url, true);
  if (!dir) throw new Error("no origin private file system");
  const partial = await dir.getFileHandle(`${where.name}.partial`, { create: true });
  const writable = await partial.createWritable();
  await writable.write(entry);
  await writable.close();
  await partial.move(where.name);
}

/*
 * Entry layout: u32 header length, the header (JSON, padded to 16 bytes), the memory snapshot,
 * then the files' bytes back to back. Pyodide reads the memory snapshot through a Uint32Array,
 * so it must start 4-byte aligned.
 */
function serialize(header, memory, files) {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = Math.ceil((4 + json.length) / 16) * 16;
  const total = headerBytes + memory.length + files.reduce((sum, f) => sum + f.length, 0);
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  out.set(memory, headerBytes);
  let offset = headerBytes + memory.length;
  for (const bytes of files) {
    out.set(bytes, offset);
    offset += bytes.length;
  }
  return out;
}

function parse(bytes) {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length)));
  if (header.format !== FORMAT) throw new Error(`snapshot format ${header.format}`);
  const start = Math.ceil((4 + length) / 16) * 16;
  const memory = bytes.subarray(start, start + header.memoryBytes);
  let offset = start + header.memoryBytes;
  const files = header.files.map(([path, size]) => {
    const file = [path, bytes.subarray(offset, offset + size)];
    offset += size;
    return file;
  });
  return { ...header, memory, files };
}

/**
 * Start compiling numpy's libraries now (off this thread), while Pyodide itself loads; the
 * restore then only instantiates them. Returns the snapshot with `compiled`: path -> Promise.
 */
export function compileLibraries(snapshot) {
  const bytes = new Map(snapshot.files);
  const compiled = new Map(
    snapshot.libraries.map(({ path }) => [path, WebAssembly.compile(bytes.get(path))]),
  );
  for (const module of compiled.values()) module.catch(() => {}); // reported when awaited
  return { ...snapshot, compiled };
}

/**
 * Restoring, step 1 (pyodide-shim.mjs calls it once the wasm module exists, before loadPyodide
 * puts the memory back): write numpy's files and instantiate its libraries at their recorded
 * bases.
 */
export async function reloadLibraries(Module, { files, libraries, tableLength, compiled }) {
  const { FS, LDSO, wasmTable } = Module;
  if (wasmTable.length > tableLength) {
    throw new Error(`function table ${wasmTable.length} > ${tableLength} entries`);
  }
  for (const [path, bytes] of files) {
    FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
    FS.writeFile(path, bytes);
  }
  // Emscripten instantiates each library from its bytes: hand it the module compiled already.
  let loading = null;
  const instantiate = WebAssembly.instantiate;
  WebAssembly.instantiate = async (binary, imports) => {
    const module = loading && compiled?.get(loading);
    if (!module) return instantiate(binary, imports);
    loading = null;
    const compiledModule = await module;
    return { module: compiledModule, instance: await instantiate(compiledModule, imports) };
  };
  try {
    await loadLibraries(Module, libraries, (path) => (loading = path));
  } finally {
    WebAssembly.instantiate = instantiate;
  }
}

async function loadLibraries(Module, libraries, onLoading) {
  const { FS, LDSO } = Module;
  // A dlopen handle as Emscripten lays it out: loaded flag at +8, memory base at +12, table
  // base at +20. Anywhere will do: the snapshot overwrites all memory afterwards.
  const handle = (Module._malloc ?? Module._emscripten_builtin_malloc)(64);
  for (const { path, global, memoryBase, tableBase } of libraries) {
    Module.HEAPU8.fill(0, handle, handle + 64);
    Module.HEAPU8[handle + 8] = 1;
    Module.HEAPU32[(handle + 12) >>> 2] = memoryBase;
    Module.HEAPU32[(handle + 20) >>> 2] = tableBase;
    onLoading(path);
    await Module.loadDynamicLibrary(
      path,
      { loadAsync: true, nodelete: true, allowUndefined: true, global, fs: FS },
      global ? null : {},
      handle,
    );
    delete LDSO.loadedLibsByHandle[handle];
    const name = path.slice(path.lastIndexOf("/") + 1); // as Pyodide's loadDynlib does
    LDSO.loadedLibsByName[name] ??= LDSO.loadedLibsByName[path];
  }
}

/**
 * Making: boot a plain Pyodide with `_makeSnapshot`, install numpy recording where its libraries
 * land, import PRELOADED and the app's `modules` (name -> source), and save the entry at `where`
 * (snapshotFile). Returns its size.
 */
export async function makeSnapshot(loadPyodide, indexURL, where, modules = {}) {
  const pyodide = await loadPyodide({ indexURL, _makeSnapshot: true });
  const Module = pyodide._module;
  const libraries = [];
  const tableLength = Module.wasmTable.length;
  let loading = null;
  const loadLibrary = Module.loadDynamicLibrary;
  Module.loadDynamicLibrary = (path, flags, ...rest) => {
    loading = { path, global: Boolean(flags?.global) };
    return loadLibrary(path, flags, ...rest);
  };
  const instantiate = WebAssembly.instantiate;
  WebAssembly.instantiate = (binary, imports, ...rest) => {
    const env = imports?.env;
    if (loading && env && "GOT.mem" in imports) {
      libraries.push({ ...loading, memoryBase: env.__memory_base, tableBase: env.__table_base });
      loading = null;
    }
    return instantiate(binary, imports, ...rest);
  };
  try {
    await pyodide.loadPackage("numpy", { messageCallback: () => {}, errorCallback: () => {} });
  } finally {
    Module.loadDynamicLibrary = loadLibrary;
    WebAssembly.instantiate = instantiate;
  }
  if (!("numpy" in pyodide.loadedPackages)) throw new Error("numpy could not be loaded");
  pyodide.runPython(PRELOADED.map((name) => `import ${name}`).join("\n"));
  const globals = pyodide.toPy({ modules });
  try {
    pyodide.runPython(PRELOAD_APP, { globals });
  } finally {
    globals.destroy();
  }

  const sitePackages = pyodide._api.sitePackages ?? Module.API?.sitePackages;
  const files = [];
  const walk = (dir) => {
    for (const name of pyodide.FS.readdir(dir)) {
      if (name === "." || name === "..") continue;
      const path = `${dir}/${name}`;
      if (pyodide.FS.isDir(pyodide.FS.stat(path).mode)) walk(path);
      else files.push([path, pyodide.FS.readFile(path)]);
    }
  };
  walk(sitePackages);

  // Pyodide cannot serialize the package loader's JS bookkeeping: empty it while saving.
  const loadedPackages = { ...pyodide.loadedPackages };
  for (const name of Object.keys(pyodide.loadedPackages)) delete pyodide.loadedPackages[name];
  const memory = pyodide.makeMemorySnapshot();
  Object.assign(pyodide.loadedPackages, loadedPackages);

  const header = {
    format: FORMAT,
    memoryBytes: memory.length,
    tableLength,
    libraries,
    loadedPackages,
    files: files.map(([path, bytes]) => [path, bytes.length]),
  };
  const entry = serialize(header, memory, files.map(([, bytes]) => bytes));
  await save(where, entry);
  return entry.length;
}
