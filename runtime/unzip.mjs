/**
 * A small zip reader for wheels, with the browser's native inflate (DecompressionStream).
 *
 * Pyodide's loadPackage unpacks a wheel with Python's zipfile inside WebAssembly, file by file;
 * reading the central directory here and inflating with the browser's own zlib is several times
 * faster, and it can start while Python itself is still booting. Handles what wheels use:
 * stored (0) and deflated (8) entries, no zip64, no encryption.
 */

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

/** Inflate raw deflate data natively. */
async function inflate(data) {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The entries of a zip archive: [{name, data: Uint8Array}], directories left out. */
export async function unzip(buffer) {
  const bytes = new Uint8Array(buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = bytes.length - 22; // the end record is last, followed by a comment of < 64 KiB
  while (eocd >= 0 && view.getUint32(eocd, true) !== EOCD_SIGNATURE) eocd--;
  if (eocd < 0) throw new Error("not a zip archive (no end of central directory)");
  const count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  const decoder = new TextDecoder();
  const pending = [];
  for (let i = 0; i < count; i++) {
    if (view.getUint32(at, true) !== CENTRAL_SIGNATURE) throw new Error("corrupt zip directory");
    const method = view.getUint16(at + 10, true);
    const size = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith("/")) continue;
    if (view.getUint32(local, true) !== LOCAL_SIGNATURE) throw new Error(`corrupt zip entry ${name}`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = bytes.subarray(start, start + size);
    if (method === 0) pending.push({ name, data: raw });
    else if (method === 8) pending.push(inflate(raw).then((data) => ({ name, data })));
    else throw new Error(`${name}: unsupported zip compression method ${method}`);
  }
  return Promise.all(pending);
}
