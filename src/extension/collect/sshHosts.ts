/**
 * Lists the host names an ssh config offers, for the "Collect from Node" picker: every name on a `Host` line
 * that is not a pattern (no `*`, `?` or `!`). Resolving a host's settings is src/node/ssh/hostConfig.ts's job.
 */

export function sshConfigHosts(configText: string | undefined): string[] {
  if (!configText) return [];
  const hosts = new Set<string>();
  for (const line of configText.split(/\r?\n/)) {
    const match = /^\s*host(?:\s*=\s*|\s+)(.+?)\s*$/i.exec(line);
    if (!match) continue;
    // Quoted names may hold spaces; such names cannot be typed as an ssh target, so they are left out.
    for (const word of match[1]!.matchAll(/"([^"]*)"|(\S+)/g)) {
      const name = word[1] ?? word[2] ?? '';
      if (name && !/[*?!\s]/.test(name)) hosts.add(name);
    }
  }
  return [...hosts];
}

/** A folder name for one collection: the host (made safe for a path) and the time, e.g. `node-1-20261125-134501`. */
export function collectionFolderName(host: string, now: Date): string {
  const safe = host.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+/, '').slice(0, 60) || 'node';
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${safe}-${stamp}`;
}
