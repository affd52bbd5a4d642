/**
 * Parses `ip route show table local` (and, with the same reader, `ip route show table main`) and answers the
 * questions the tracer asks: is this address local to the node, and which device routes it.
 * The local table is what makes a destination "local" for routing and for `-m addrtype --dst-type LOCAL`.
 */

import { DiagnosticList, type Diagnostic, type ParseResult } from '../diagnostics';
import { parseIPv4, parsePrefix4, prefixContains, type Prefix4 } from '../net/ipv4';

export interface RouteEntry {
  /** local, broadcast, anycast, multicast, unicast, blackhole, unreachable, prohibit, throw, nat. */
  type: string;
  /** `10.0.0.1`, `10.0.0.0/8`, or `default`. */
  prefix: string;
  device?: string;
  scope?: string;
  src?: string;
  via?: string;
  proto?: string;
  line: number;
}

const ROUTE_TYPES = new Set([
  'unicast',
  'local',
  'broadcast',
  'multicast',
  'throw',
  'unreachable',
  'prohibit',
  'blackhole',
  'nat',
  'anycast',
]);

/** Keywords of `ip route` output that take one value. */
const VALUE_KEYWORDS = new Set(['dev', 'scope', 'src', 'via', 'proto', 'metric', 'table', 'mtu', 'realm', 'pref', 'expires', 'onlink']);

export function parseRoutes(text: string, file: string): ParseResult<RouteEntry[]> {
  const diagnostics = new DiagnosticList(file);
  const entries: RouteEntry[] = [];
  const report = (line: number, severity: Diagnostic['severity'], message: string) => diagnostics.add(line, severity, message);
  if (text.trim() === '') {
    // Every node has routes (lo's at least): an empty file means the command's output was lost.
    report(0, 'warning', 'the file is empty, but every node has routes (lo at least): the output was lost, so no route is known');
  }
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index].trim();
    if (line.length === 0) continue;
    const lineNumber = index + 1;
    if (line.length > 4096) {
      report(lineNumber, 'error', 'line is too long for a route; skipped');
      continue;
    }
    const words = line.split(/\s+/);
    let i = 0;
    let type = 'unicast';
    if (ROUTE_TYPES.has(words[0])) {
      type = words[0];
      i = 1;
    }
    const prefix = words[i];
    // An IPv4 prefix starts with a digit: checking that first keeps junk lines away from the costlier parse.
    const isPrefix = prefix !== undefined && (prefix === 'default' || prefix.includes(':') || (isDigit(prefix.charCodeAt(0)) && parsePrefix4(prefix) !== undefined));
    if (!isPrefix) {
      report(lineNumber, 'warning', `not a route, ignored: "${line.length > 80 ? `${line.slice(0, 77)}…` : line}"`);
      continue;
    }
    const entry: RouteEntry = { type, prefix, line: lineNumber };
    for (i++; i < words.length; i++) {
      const word = words[i];
      if (!VALUE_KEYWORDS.has(word)) continue;
      const value = words[i + 1];
      i++;
      if (word === 'dev') entry.device = value;
      else if (word === 'scope') entry.scope = value;
      else if (word === 'src') entry.src = value;
      else if (word === 'via') entry.via = value;
      else if (word === 'proto') entry.proto = value;
    }
    entries.push(entry);
  }
  return { value: entries, diagnostics: diagnostics.list() };
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Longest-prefix lookups over IPv4 routes. */
class RouteIndex {
  readonly #exact = new Map<number, RouteEntry>();
  readonly #prefixes: { prefix: Prefix4; entry: RouteEntry }[] = [];

  constructor(entries: RouteEntry[]) {
    for (const entry of entries) {
      const prefix = entry.prefix === 'default' ? parsePrefix4('0.0.0.0/0') : parsePrefix4(entry.prefix);
      if (!prefix) continue;
      if (prefix.bits === 32) {
        if (!this.#exact.has(prefix.network)) this.#exact.set(prefix.network, entry);
      } else {
        this.#prefixes.push({ prefix, entry });
      }
    }
    this.#prefixes.sort((a, b) => b.prefix.bits - a.prefix.bits);
  }

  lookup(ip: string): RouteEntry | undefined {
    const address = parseIPv4(ip);
    if (address === undefined) return undefined;
    const exact = this.#exact.get(address);
    if (exact) return exact;
    return this.#prefixes.find(({ prefix }) => prefixContains(prefix, address))?.entry;
  }
}

export class LocalRoutes {
  readonly #index: RouteIndex;

  constructor(readonly entries: RouteEntry[]) {
    this.#index = new RouteIndex(entries.filter((entry) => entry.type === 'local' || entry.type === 'broadcast'));
  }

  /** The local-table entry that covers the address, if any. */
  entryFor(ip: string): RouteEntry | undefined {
    return this.#index.lookup(ip);
  }

  /** True when the kernel would deliver a packet for this address to the node itself. */
  isLocal(ip: string): boolean {
    return this.#index.lookup(ip)?.type === 'local';
  }

  isBroadcast(ip: string): boolean {
    return this.#index.lookup(ip)?.type === 'broadcast';
  }

  deviceOf(ip: string): string | undefined {
    return this.#index.lookup(ip)?.device;
  }
}

/** The main routing table: which device and source address the node uses to reach an address. */
export class MainRoutes {
  readonly #index: RouteIndex;

  constructor(readonly entries: RouteEntry[]) {
    this.#index = new RouteIndex(entries.filter((entry) => entry.type === 'unicast'));
  }

  routeTo(ip: string): RouteEntry | undefined {
    return this.#index.lookup(ip);
  }
}

export function parseRouteLocal(text: string, file = 'route-local.txt'): ParseResult<LocalRoutes> {
  const { value, diagnostics } = parseRoutes(text, file);
  return { value: new LocalRoutes(value), diagnostics };
}

export function parseRouteMain(text: string, file = 'route-main.txt'): ParseResult<MainRoutes> {
  const { value, diagnostics } = parseRoutes(text, file);
  return { value: new MainRoutes(value), diagnostics };
}
