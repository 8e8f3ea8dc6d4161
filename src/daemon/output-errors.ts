/** A write to stdout or stderr that fails (the log file's disk is full) is dropped, not fatal. */
export function ignoreOutputErrors(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount('error') === 0) stream.on('error', () => {});
  }
}
