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
  isClosed: boolean;
  /** The GOAWAY error code, when one came. */
  goAwayCode: number | undefined;
}

/**
 * Opens a TLS connection with ALPN h2 to `port` for `host`, sends the preface, an empty SETTINGS,
 * then `payload`; collects what the server answers for `waitMs` (or until it closes).
 */
export function rawH2(port: number, host: string, ca: string, payload: Buffer, waitMs = 1_500): Promise<H2Outcome> {
  return new Promise((resolve, reject) => {
    const outcome: H2Outcome = { frames: new Map(), isClosed: false, goAwayCode: undefined };
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
        if (type === FrameType.GOAWAY) outcome.goAwayCode = buffered.readUInt32BE(9 + 4);
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
