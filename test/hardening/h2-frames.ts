/**
 * Raw HTTP/2 frames for the hostile corpus (not a test file itself): what a well-behaved client
 * library refuses to send. Header blocks use HPACK literals without indexing and without Huffman
 * coding (RFC 7541 §6.2.2), so any name or value, valid or not, can be written.
 */
import { connect, type TLSSocket } from 'node:tls';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const FrameType = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, CONTINUATION: 9 } as const;
export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK integer with an N-bit prefix (RFC 7541 §5.1), the prefix bits above it set to `high`. */
function hpackInteger(value: number, prefixBits: number, high: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([high | value]);
  const bytes = [high | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  return Buffer.concat([hpackInteger(bytes.length, 7, 0), bytes]);
}

/** A header block of literal fields, in the order given. */
export function headerBlock(fields: readonly (readonly [string, string])[]): Buffer {
  return Buffer.concat(fields.flatMap(([name, value]) => [Buffer.from([0x00]), hpackString(name), hpackString(value)]));
}

/** The usual request pseudo-headers for `host` and `path`. */
export function requestFields(host: string, path: string, method = 'GET'): [string, string][] {
  return [
    [':method', method],
    [':scheme', 'https'],
    [':authority', host],
    [':path', path],
  ];
}

/** What the server did with a raw connection: frame types per stream, and whether it closed. */
export interface H2Outcome {
  /** Frame types received, by stream id (0: the connection). */
  frames: Map<number, number[]>;
  /** The `:status` of each stream's response HEADERS (when it could be read, see `responseStatus`). */
  statuses: Map<number, number>;
  /** The error code of each stream's RST_STREAM. */
  resets: Map<number, number>;
  isClosed: boolean;
  /** The error code of the first GOAWAY, when one came. */
  goAwayCode: number | undefined;
}

/** `:status` values of HPACK's static table (RFC 7541 Appendix A), by index. */
const STATIC_STATUSES = new Map([
  [8, 200],
  [9, 204],
  [10, 206],
  [11, 304],
  [12, 400],
  [13, 404],
  [14, 500],
]);
/** Huffman codes of the digits (RFC 7541 Appendix B) as [bits, length]. */
const DIGIT_CODES: readonly (readonly [number, number])[] = [
  [0b00000, 5],
  [0b00001, 5],
  [0b00010, 5],
  [0b011001, 6],
  [0b011010, 6],
  [0b011011, 6],
  [0b011100, 6],
  [0b011101, 6],
  [0b011110, 6],
  [0b011111, 6],
];

/**
 * The `:status` of a response header block, which a server sends first: an indexed static field,
 * or a literal with the static name `:status` (index 8) and a three-digit value, plain or
 * Huffman-coded. Undefined for anything else (the test then knows only that HEADERS came).
 */
export function responseStatus(block: Buffer): number | undefined {
  const first = block[0];
  if (first === undefined) return undefined;
  if (first & 0x80) return STATIC_STATUSES.get(first & 0x7f);
  // Literal with incremental indexing (01xxxxxx), without indexing (0000xxxx) or never indexed (0001xxxx), name index 8.
  const nameIndex = (first & 0xc0) === 0x40 ? first & 0x3f : first & 0x0f;
  if (nameIndex !== 8 || block.length < 2) return undefined;
  const isHuffman = (block[1]! & 0x80) !== 0;
  const value = block.subarray(2, 2 + (block[1]! & 0x7f));
  const text = isHuffman ? huffmanDigits(value) : value.toString('latin1');
  return text !== undefined && /^\d{3}$/.test(text) ? Number(text) : undefined;
}

function huffmanDigits(bytes: Buffer): string | undefined {
  let bits = '';
  for (const byte of bytes) bits += byte.toString(2).padStart(8, '0');
  let text = '';
  let at = 0;
  while (at + 5 <= bits.length && text.length < 3) {
    const digit = DIGIT_CODES.findIndex(([code, length]) => at + length <= bits.length && parseInt(bits.slice(at, at + length), 2) === code);
    if (digit === -1) return undefined;
    text += String(digit);
    at += DIGIT_CODES[digit]![1];
  }
  return text;
}

/**
 * Opens a TLS connection with ALPN h2 to `port` for `host`, sends the preface, an empty SETTINGS,
 * then `payload`; collects what the server answers for `waitMs` (or until it closes).
 */
export function rawH2(port: number, host: string, ca: string, payload: Buffer, waitMs = 1_500): Promise<H2Outcome> {
  return new Promise((resolve, reject) => {
    const outcome: H2Outcome = { frames: new Map(), statuses: new Map(), resets: new Map(), isClosed: false, goAwayCode: undefined };
    let buffered = Buffer.alloc(0);
    const socket: TLSSocket = connect({ host: '127.0.0.1', port, servername: host, ca, ALPNProtocols: ['h2'] }, () => {
      if (socket.alpnProtocol !== 'h2') {
        socket.destroy();
        reject(new Error(`ALPN chose ${String(socket.alpnProtocol)}, not h2`));
        return;
      }
      socket.write(Buffer.concat([PREFACE, frame(FrameType.SETTINGS, 0, 0), payload]));
    });
    let isEndedByUs = false;
    const timer = setTimeout(() => {
      isEndedByUs = true;
      socket.destroy();
    }, waitMs);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 9) {
        const length = buffered.readUIntBE(0, 3);
        if (buffered.length < 9 + length) break;
        const type = buffered[3]!;
        const streamId = buffered.readUInt32BE(5) & 0x7fffffff;
        // The first GOAWAY says why; a graceful close may send another (NO_ERROR) after it.
        if (type === FrameType.GOAWAY && outcome.goAwayCode === undefined) outcome.goAwayCode = buffered.readUInt32BE(9 + 4);
        if (type === FrameType.RST_STREAM) outcome.resets.set(streamId, buffered.readUInt32BE(9));
        if (type === FrameType.HEADERS && !outcome.statuses.has(streamId)) {
          const status = responseStatus(headerBlockOf(buffered.subarray(0, 9 + length)));
          if (status !== undefined) outcome.statuses.set(streamId, status);
        }
        const list = outcome.frames.get(streamId) ?? [];
        list.push(type);
        outcome.frames.set(streamId, list);
        buffered = buffered.subarray(9 + length);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      outcome.isClosed = !isEndedByUs;
      resolve(outcome);
    });
  });
}

/** The header block fragment of a HEADERS frame (without its padding and priority fields). */
function headerBlockOf(headersFrame: Buffer): Buffer {
  const flags = headersFrame[4]!;
  let start = 9;
  let end = headersFrame.length;
  if (flags & 0x8) {
    end -= headersFrame[9]!;
    start += 1;
  }
  if (flags & 0x20) start += 5;
  return headersFrame.subarray(start, end);
}
