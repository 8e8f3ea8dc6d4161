/**
 * Which paths of a release source are left out. A pattern without a slash matches a name at
 * any depth (`.git`, `*.log`, `node_modules`); one with a slash matches the path from the source
 * root (`docs/drafts`, `/tmp`). `*` stands for any characters but `/`, `**` for any, `?` for one.
 * A matched directory is left out with everything in it.
 *
 * @example excludeMatcher(['.git', '*.log'])('logs/app.log') // true
 */
export function excludeMatcher(patterns: readonly string[]): (relativePath: string) => boolean {
  const byName: RegExp[] = [];
  const byPath: RegExp[] = [];
  for (const raw of patterns) {
    const pattern = raw.replace(/\/+$/, '');
    if (pattern === '') continue;
    if (pattern.includes('/')) byPath.push(globToRegExp(pattern.replace(/^\/+/, '')));
    else byName.push(globToRegExp(pattern));
  }
  return (relativePath) => {
    const name = relativePath.slice(relativePath.lastIndexOf('/') + 1);
    return byName.some((re) => re.test(name)) || byPath.some((re) => re.test(relativePath));
  };
}

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
