import fs from 'node:fs';

/** Pids of the processes in process group `pgid` (field 5 of /proc/PID/stat). */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return members;
}

/** Listening sockets by port, read once for a burst of checks (adoption checks every instance at once). */
let listenCache: { atMs: number; byPort: Map<number, Set<string>> } | null = null;
const LISTEN_CACHE_MS = 1_000;

/** Socket inodes listening on TCP `port` (IPv4 and IPv6), from /proc/net. */
function listeningInodes(port: number): Set<string> {
  if (!listenCache || performance.now() - listenCache.atMs > LISTEN_CACHE_MS) listenCache = { atMs: performance.now(), byPort: readListeners() };
  return listenCache.byPort.get(port) ?? new Set();
}

/** Every listening TCP socket: port → inodes. The tables can be long (connections too), so they are read once. */
function readListeners(): Map<number, Set<string>> {
  const byPort = new Map<number, Set<string>>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is HOST:PORT in hex; state 0A is LISTEN; field 9 is the inode.
      if (fields.length <= 9 || fields[3] !== '0A') continue;
      const port = parseInt(fields[1]!.slice(fields[1]!.lastIndexOf(':') + 1), 16);
      let inodes = byPort.get(port);
      if (!inodes) byPort.set(port, (inodes = new Set()));
      inodes.add(fields[9]!);
    }
  }
  return byPort;
}

/**
 * True when a process of group `pgid` holds a socket listening on `port`: the instance
 * still serves where its record says, not merely a process with its pid.
 */
export function groupListensOn(pgid: number, port: number): boolean {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return false;
  // The leader and its descendants first (cheap); the whole group (a scan of /proc) only if needed.
  const descendants = descendantsOf(pgid);
  return (
    holdsAny(descendants, inodes) ||
    holdsAny(
      groupMembers(pgid).filter((pid) => !descendants.includes(pid)),
      inodes,
    )
  );
}

/** `pid` and its descendants, from /proc/PID/task/TID/children. */
function descendantsOf(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && found.length < 1000) {
    const next = queue.shift()!;
    found.push(next);
    try {
      for (const task of fs.readdirSync(`/proc/${next}/task`)) {
        const children = fs.readFileSync(`/proc/${next}/task/${task}/children`, 'utf8').trim();
        if (children) queue.push(...children.split(' ').map(Number));
      }
    } catch {
      // Gone, or the kernel does not list children: the group scan covers it.
    }
  }
  return found;
}

function holdsAny(pids: readonly number[], inodes: ReadonlySet<string>): boolean {
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match && inodes.has(match[1]!)) return true;
      } catch {
        // Closed meanwhile.
      }
    }
  }
  return false;
}

/** The pid of a process whose environment holds NAME=VALUE, or null (a scan of /proc). */
export function findProcessByEnv(name: string, value: string): number | null {
  const needle = Buffer.from(`\0${name}=${value}\0`);
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = Buffer.concat([Buffer.from([0]), fs.readFileSync(`/proc/${entry}/environ`)]);
      if (environ.includes(needle)) return Number(entry);
    } catch {
      // Gone, or not readable.
    }
  }
  return null;
}

/** The process group of `pid`, or null when it is gone. */
export function processGroupOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return null;
  }
}
