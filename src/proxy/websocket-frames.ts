/**
 * Just enough of the WebSocket framing (RFC 6455 §5.2) for the proxy to say goodbye cleanly:
 * where one frame ends in a byte stream, and the close frame it sends a client itself.
 */

/** A server-to-client close frame (unmasked) with status 1001 "going away": FIN + close, length 2, 0x03E9. */
export const GOING_AWAY_CLOSE_FRAME: Readonly<Buffer> = Buffer.from([0x88, 0x02, 0x03, 0xe9]);

/**
 * Follows the frames of one direction of a WebSocket connection, so the proxy can stop
 * forwarding at a frame boundary and slip in a frame of its own.
 *
 * @example
 * const cursor = new FrameCursor();
 * cursor.advance(chunk);
 * cursor.isAtBoundary; // true when chunk ended exactly after a frame
 */
export class FrameCursor {
  /** Header bytes of the frame under way, while its header is incomplete. */
  private head: number[] = [];
  private isInPayload = false;
  private payloadLeft = 0;

  /** True when no frame is under way: the next byte starts a new frame. */
  get isAtBoundary(): boolean {
    return !this.isInPayload && this.head.length === 0;
  }

  /**
   * Reads `chunk` from `offset` to the end of the frame under way (or of the frame starting at
   * `offset`); returns the offset just after that frame, or -1 when the chunk ends first.
   */
  endOfFrame(chunk: Buffer, offset: number): number {
    let i = offset;
    if (!this.isInPayload) {
      for (;;) {
        if (i >= chunk.length) return -1;
        this.head.push(chunk[i++]!);
        const size = headerSize(this.head);
        if (size !== undefined && this.head.length === size) break;
      }
      this.payloadLeft = payloadLength(this.head);
      this.head = [];
      this.isInPayload = true;
    }
    const take = Math.min(this.payloadLeft, chunk.length - i);
    this.payloadLeft -= take;
    i += take;
    if (this.payloadLeft > 0) return -1;
    this.isInPayload = false;
    return i;
  }

  /** Follows a whole chunk. */
  advance(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      const end = this.endOfFrame(chunk, offset);
      if (end === -1) return;
      offset = end;
    }
  }
}

/** The full header size once its first two bytes are known (extended length and mask key included). */
function headerSize(head: readonly number[]): number | undefined {
  if (head.length < 2) return undefined;
  const length7 = head[1]! & 0x7f;
  const extended = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
  const mask = head[1]! & 0x80 ? 4 : 0;
  return 2 + extended + mask;
}

function payloadLength(head: readonly number[]): number {
  const length7 = head[1]! & 0x7f;
  if (length7 < 126) return length7;
  if (length7 === 126) return (head[2]! << 8) | head[3]!;
  let length = 0;
  for (let i = 2; i < 10; i++) length = length * 256 + head[i]!;
  return length;
}
