import fs from 'node:fs';

/**
 * CPU time and memory of processes, read from /proc (Linux only). A proxy's cost per request
 * is the CPU time its processes used during a run divided by the requests served.
 */

/** Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** User + system CPU time of one process, in microseconds; 0 when it is gone. */
export function cpuMicros(pid: number): number {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  // The command name (field 2) may hold spaces; the fields after it are plain.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1_000_000) / TICKS_PER_SECOND;
}

/** Resident memory of one process in bytes; 0 when it is gone. */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Memory only this process holds (USS: its private pages) and the shared pages it maps, in bytes,
 * from /proc/PID/smaps_rollup. Summing RSS over several Node processes counts the node binary's
 * pages (about 34 MB) once per process although the kernel keeps them once.
 */
export function memoryBreakdown(pid: number): { privateBytes: number; sharedBytes: number } {
  try {
    const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(rollup)?.[1] ?? 0) * 1024;
    return { privateBytes: kb('Private_Clean') + kb('Private_Dirty'), sharedBytes: kb('Shared_Clean') + kb('Shared_Dirty') };
  } catch {
    return { privateBytes: 0, sharedBytes: 0 };
  }
}

/** The pids whose parent is `parent` (one level), optionally only those whose command line contains `match`. */
export function childPids(parent: number, match?: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      if (match !== undefined && !fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(match)) continue;
      pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
