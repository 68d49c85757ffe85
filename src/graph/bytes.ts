/**
 * Byte-level helpers of the checkpoint codecs: CRC-32, little-endian array payloads, and the
 * binary container. Internal.
 *
 * The container, for States and GraphDefs alike:
 *
 * ```
 * 0        8-byte magic "EFNNX\0\x01\0" (format 1)
 * 8        uint32 LE: length H of the header
 * 12       H bytes: the header, UTF-8 JSON
 * ...      zero padding to a multiple of 8
 * P        payload (array data, each piece 8-byte aligned), as long as the header says
 * end - 4  uint32 LE: CRC-32 of every byte before it
 * ```
 *
 * The checksum makes corruption anywhere (a flipped bit in the data as much as in the header) a
 * load error rather than silently wrong weights.
 *
 * @since 0.1.0
 */
import type { DType, HostArray } from "../backend/DType.ts"
import { allocHost, wordsPerElement } from "../backend/DType.ts"

/** The container's magic bytes (they include the format number). */
export const MAGIC: ReadonlyArray<number> = [0x45, 0x46, 0x4e, 0x4e, 0x58, 0x00, 0x01, 0x00]

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/** CRC-32 (IEEE, as zlib) of a byte range. */
export const crc32 = (bytes: Uint8Array, start = 0, end = bytes.length): number => {
  let c = 0xffffffff
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Bytes per stored word of a dtype's host array. */
const wordBytes = (d: DType): number => (d === "bool" ? 1 : 4)

/** A host array's elements as little-endian bytes (a copy). */
export const hostToBytes = (data: HostArray): Uint8Array => {
  const out = new Uint8Array(data.byteLength)
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
  if (!littleEndian && data.BYTES_PER_ELEMENT > 1) swapWords(out, data.BYTES_PER_ELEMENT)
  return out
}

/** Host storage of `count` logical elements of `dtype` from little-endian bytes (a copy). */
export const bytesToHost = (bytes: Uint8Array, dtype: DType, count: number): HostArray => {
  const host = allocHost(dtype, count)
  const view = new Uint8Array(host.buffer, host.byteOffset, host.byteLength)
  view.set(bytes.subarray(0, host.byteLength))
  if (!littleEndian && host.BYTES_PER_ELEMENT > 1) swapWords(view, host.BYTES_PER_ELEMENT)
  return host
}

/** How many payload bytes `count` elements of `dtype` take. */
export const payloadBytes = (dtype: DType, count: number): number => count * wordsPerElement(dtype) * wordBytes(dtype)

const swapWords = (bytes: Uint8Array, width: number): void => {
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse()
}

/** Rounds up to a multiple of 8. */
export const align8 = (n: number): number => Math.ceil(n / 8) * 8

/** Builds a container from a header (already JSON text) and payload pieces at their offsets. */
export const writeContainer = (
  header: string,
  payloadLength: number,
  pieces: ReadonlyArray<readonly [offset: number, bytes: Uint8Array]>
): Uint8Array => {
  const headerBytes = new TextEncoder().encode(header)
  const payloadStart = align8(12 + headerBytes.length)
  const total = payloadStart + payloadLength + 4
  const out = new Uint8Array(total)
  out.set(MAGIC, 0)
  const view = new DataView(out.buffer)
  view.setUint32(8, headerBytes.length, true)
  out.set(headerBytes, 12)
  for (const [offset, bytes] of pieces) out.set(bytes, payloadStart + offset)
  view.setUint32(total - 4, crc32(out, 0, total - 4), true)
  return out
}

/** A container's parts, or why the bytes are not one. */
export type ContainerRead =
  | { readonly _tag: "Ok"; readonly header: string; readonly payload: Uint8Array }
  | { readonly _tag: "Error"; readonly reason: string }

/**
 * Checks a container's frame (magic, lengths, checksum) and returns its header text and payload.
 * `payloadLength` is read from the header by the caller and checked by `checkPayloadLength`.
 */
export const readContainer = (bytes: Uint8Array): ContainerRead => {
  if (!(bytes instanceof Uint8Array)) return { _tag: "Error", reason: "expected a Uint8Array" }
  if (bytes.length < 16) return { _tag: "Error", reason: `the file is truncated (${bytes.length} bytes)` }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i])
      return {
        _tag: "Error",
        reason: "not an effect-nnx checkpoint (wrong magic bytes) or an unsupported format version"
      }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const stored = view.getUint32(bytes.length - 4, true)
  if (crc32(bytes, 0, bytes.length - 4) !== stored)
    return { _tag: "Error", reason: "the checksum does not match: the file is truncated or corrupted" }
  const headerLength = view.getUint32(8, true)
  if (12 + headerLength > bytes.length - 4)
    return { _tag: "Error", reason: "the header length runs past the end of the file" }
  let header: string
  try {
    header = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(12, 12 + headerLength))
  } catch {
    return { _tag: "Error", reason: "the header is not valid UTF-8" }
  }
  const payloadStart = align8(12 + headerLength)
  if (payloadStart > bytes.length - 4) return { _tag: "Error", reason: "the file is truncated before its payload" }
  return { _tag: "Ok", header, payload: bytes.subarray(payloadStart, bytes.length - 4) }
}
