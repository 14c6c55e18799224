/**
 * Live output of a container without a TTY. The engine multiplexes stdout and stderr on one
 * attach stream as frames (8-byte header: stream type, 3 zero bytes, big-endian length; then
 * the payload). Frames and UTF-8 characters may be split across network chunks, so both are
 * reassembled here — pure code, tested with arbitrary chunk boundaries.
 */
import { StringDecoder } from 'node:string_decoder';

/** Which stream a frame belongs to. */
export type OutputStream = 'stdout' | 'stderr';

/** Feeds raw attach bytes in; calls back with decoded text per stream, in arrival order. */
export interface OutputDemuxer {
  push(chunk: Buffer): void;
  /** Flush a trailing partial UTF-8 character (call once, when the stream ended). */
  end(): void;
}

const HEADER = 8;

/**
 * Build a demuxer that hands every piece of text to `emit` as soon as its frame is complete.
 * stdin frames (type 0) and unknown types are treated as stdout, as the engine's clients do.
 */
export function createOutputDemuxer(
  emit: (text: string, stream: OutputStream) => void,
): OutputDemuxer {
  const decoders: Record<OutputStream, StringDecoder> = {
    stdout: new StringDecoder('utf8'),
    stderr: new StringDecoder('utf8'),
  };
  let pending: Buffer = Buffer.alloc(0);

  const deliver = (stream: OutputStream, bytes: Buffer): void => {
    const text = decoders[stream].write(bytes);
    if (text.length > 0) emit(text, stream);
  };

  return {
    push(chunk: Buffer): void {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= HEADER) {
        const size = pending.readUInt32BE(4);
        if (pending.length < HEADER + size) break;
        const stream: OutputStream = pending[0] === 2 ? 'stderr' : 'stdout';
        deliver(stream, pending.subarray(HEADER, HEADER + size));
        pending = pending.subarray(HEADER + size);
      }
    },
    end(): void {
      for (const stream of ['stdout', 'stderr'] as const) {
        const rest = decoders[stream].end();
        if (rest.length > 0) emit(rest, stream);
      }
    },
  };
}
