/**
 * Real servers kept as text until first read. A node with 10,000 Services lists some 80,000 real servers; the
 * parser records where each virtual server's run of plain real-server lines lies in the file, and `realServers`
 * becomes an accessor that reads that run into RealServer objects the first time (then a plain array). The count,
 * the draining flag and the `ip:port` keys the Service tree groups by are answered from the text without objects.
 * Parsing of every other line shape lives in parseIpvsadm.ts.
 */

import type { RealServer, VirtualServer } from './model';

/** What one plain real-server line holds, as offsets into the text and numbers. */
export interface ScannedRealServer {
  addressStart: number;
  /** Offset of the `:` between address and port. */
  colon: number;
  port: number;
  portEnd: number;
  forwardStart: number;
  forwardEnd: number;
  weight: number;
  activeConn: number;
  inactiveConn: number;
  /** End of the line's text without trailing blanks. */
  rawEnd: number;
}

function isBlank(code: number): boolean {
  return code === 32 || code === 9;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isLetter(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
}

function isWordCharacter(code: number): boolean {
  return isLetter(code) || isDigit(code) || code === 95;
}

/**
 * Reads `  -> a.b.c.d:port  Forward Weight ActiveConn InActConn` at [start, stop) into `out`. True only for the
 * plainest form: blanks are spaces and tabs, the address is a canonical dotted quad (no leading zeros), the port
 * has no leading zero, and the numbers have at most 15 digits, so the text alone gives the same address, port
 * and `ip:port` key as a full parse. Anything else is false and is read by the general reader.
 */
export function scanPlainRealServer(text: string, start: number, stop: number, out: ScannedRealServer): boolean {
  let i = start;
  while (i < stop && isBlank(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== 45 /* - */ || text.charCodeAt(i + 1) !== 62 /* > */ || i + 1 >= stop) return false;
  i += 2;
  while (i < stop && isBlank(text.charCodeAt(i))) i++;
  out.addressStart = i;
  for (let group = 0; group < 4; group++) {
    const digitsStart = i;
    let octet = 0;
    while (i < stop && isDigit(text.charCodeAt(i)) && i - digitsStart < 3) octet = octet * 10 + (text.charCodeAt(i++) - 48);
    if (i === digitsStart || octet > 255 || (i - digitsStart > 1 && text.charCodeAt(digitsStart) === 48)) return false;
    if (i >= stop || text.charCodeAt(i) !== (group < 3 ? 46 /* . */ : 58) /* : */) return false;
    i++;
  }
  out.colon = i - 1;
  const portStart = i;
  let port = 0;
  while (i < stop && isDigit(text.charCodeAt(i)) && i - portStart < 5) port = port * 10 + (text.charCodeAt(i++) - 48);
  if (i === portStart || port > 65535 || (i - portStart > 1 && text.charCodeAt(portStart) === 48)) return false;
  out.port = port;
  out.portEnd = i;
  if (i >= stop || !isBlank(text.charCodeAt(i))) return false;
  while (i < stop && isBlank(text.charCodeAt(i))) i++;
  out.forwardStart = i;
  if (i >= stop || !isLetter(text.charCodeAt(i))) return false;
  while (i < stop && isWordCharacter(text.charCodeAt(i))) i++;
  out.forwardEnd = i;
  for (let n = 0; n < 3; n++) {
    if (i >= stop || !isBlank(text.charCodeAt(i))) return false;
    while (i < stop && isBlank(text.charCodeAt(i))) i++;
    const digitsStart = i;
    let value = 0;
    while (i < stop && isDigit(text.charCodeAt(i))) value = value * 10 + (text.charCodeAt(i++) - 48);
    if (i === digitsStart || i - digitsStart > 15) return false;
    if (n === 0) out.weight = value;
    else if (n === 1) out.activeConn = value;
    else out.inactiveConn = value;
  }
  out.rawEnd = i;
  while (i < stop && isBlank(text.charCodeAt(i))) i++;
  return i === stop;
}

export function newScannedRealServer(): ScannedRealServer {
  return { addressStart: 0, colon: 0, port: 0, portEnd: 0, forwardStart: 0, forwardEnd: 0, weight: 0, activeConn: 0, inactiveConn: 0, rawEnd: 0 };
}

const FORWARD_WORDS = ['Masq', 'Route', 'Tunnel', 'Local'];

/** The forward word of a scanned line: the shared constant for the four the kernel prints, else a copy. */
function forwardOf(text: string, scanned: ScannedRealServer): string {
  const length = scanned.forwardEnd - scanned.forwardStart;
  for (const word of FORWARD_WORDS) if (word.length === length && text.startsWith(word, scanned.forwardStart)) return word;
  return text.slice(scanned.forwardStart, scanned.forwardEnd);
}

/** The RealServer of a scanned line; `lineStart` is where the line begins (its raw text keeps the indent). */
export function realServerOf(text: string, scanned: ScannedRealServer, lineStart: number, line: number): RealServer {
  return {
    address: text.slice(scanned.addressStart, scanned.colon),
    port: scanned.port,
    forward: forwardOf(text, scanned),
    weight: scanned.weight,
    activeConn: scanned.activeConn,
    inactiveConn: scanned.inactiveConn,
    line,
    raw: text.slice(lineStart, scanned.rawEnd),
  };
}

/** A run of plain real-server lines (and lines of blanks between them) that belongs to one virtual server. */
export interface RealServerBlock {
  readonly text: string;
  /** Offset where the first real-server line begins. */
  readonly start: number;
  /** Offset just after the last one. */
  end: number;
  /** Line number of the first one. */
  readonly line: number;
  count: number;
  /** Some real server has weight 0. */
  draining: boolean;
}

/** Holds a virtual server's real servers: the array once read, or the block of text they wait in. */
const SERVERS = Symbol('real servers');

type Holder = { [SERVERS]?: RealServer[] | RealServerBlock; realServers: RealServer[] };

/** Reads the block's lines into objects; every non-blank line in it was scanned as plain when it was recorded. */
function readBlock(block: RealServerBlock): RealServer[] {
  const { text, end } = block;
  const servers: RealServer[] = [];
  const scanned = newScannedRealServer();
  let line = block.line;
  for (let start = block.start; start < end; line++) {
    let stop = text.indexOf('\n', start);
    if (stop < 0 || stop > end) stop = end;
    const next = stop + 1;
    if (stop > start && text.charCodeAt(stop - 1) === 13) stop--;
    if (scanPlainRealServer(text, start, stop, scanned)) servers.push(realServerOf(text, scanned, start, line));
    start = next;
  }
  return servers;
}

/**
 * One getter and setter shared by every virtual server, so they keep one hidden class (fast properties): the
 * accessor is there from creation, never swapped for a data property.
 */
const REAL_SERVERS: PropertyDescriptor = {
  enumerable: true,
  configurable: false,
  get(this: Holder): RealServer[] {
    const held = this[SERVERS];
    if (Array.isArray(held)) return held;
    // Nothing yet (a new array, kept so that pushes stay) or a block still in the text.
    const servers = held === undefined ? [] : readBlock(held);
    this[SERVERS] = servers;
    return servers;
  },
  set(this: Holder, servers: RealServer[]) {
    this[SERVERS] = servers;
  },
};

/**
 * Gives a virtual server under construction its `realServers` (empty), as an own enumerable accessor placed where
 * the caller adds it among the keys, so JSON.stringify and spread see an ordinary array.
 */
export function attachRealServers(vs: object): void {
  Object.defineProperties(vs, ATTACHED);
}

/** The accessor and its hidden slot (empty until the first real server or block), defined in one call. */
const ATTACHED: PropertyDescriptorMap = {
  realServers: REAL_SERVERS,
  [SERVERS]: { value: undefined, writable: true, enumerable: false, configurable: false },
};

/** Whether the virtual server was made with attachRealServers, so its real servers can stay in the text. */
export function canDefer(vs: object): boolean {
  return SERVERS in vs;
}

/** Leaves the real servers of a virtual server made by attachRealServers, which has none yet, in the text. */
export function deferRealServers(vs: object, block: RealServerBlock): void {
  (vs as Holder)[SERVERS] = block;
}

function blockOf(vs: VirtualServer): RealServerBlock | undefined {
  const held = (vs as unknown as Holder)[SERVERS];
  return held === undefined || Array.isArray(held) ? undefined : held;
}

/** How many real servers the virtual server has, without reading them. */
export function realServerCount(vs: VirtualServer): number {
  return blockOf(vs)?.count ?? vs.realServers.length;
}

/** Whether some real server has weight 0 (kube-proxy draining a terminating endpoint), without reading them. */
export function hasDrainingRealServer(vs: VirtualServer): boolean {
  const block = blockOf(vs);
  return block ? block.draining : vs.realServers.some((server) => server.weight === 0);
}

/**
 * Calls `each` with every real server's address and port as the text `ip:port`, in listing order. For real
 * servers still in the text the address is canonical already; for read ones `key` turns an address into the same
 * form, so both kinds compare equal.
 */
export function forEachRealServerKey(vs: VirtualServer, key: (server: RealServer) => string, each: (key: string) => void): void {
  const block = blockOf(vs);
  if (!block) {
    for (const server of vs.realServers) each(key(server));
    return;
  }
  // Every non-blank line of a block was checked when it was recorded, so only the address token is looked for.
  forEachArrowToken(block, isBlank, each);
}

/** Calls `each` with every real server's address as `realServers` would hold it, without reading the block. */
export function forEachRealServerAddress(vs: VirtualServer, each: (address: string) => void): void {
  const block = blockOf(vs);
  if (!block) {
    for (const server of vs.realServers) each(server.address);
    return;
  }
  // Addresses kept in the text are dotted quads, so the first colon ends the address.
  forEachArrowToken(block, (code) => code === 58, each);
}

/** Calls `each` with the text after each line's `->` and its blanks, up to the first character `ends` accepts. */
function forEachArrowToken(block: RealServerBlock, ends: (code: number) => boolean, each: (token: string) => void): void {
  const { text, end } = block;
  for (let start = block.start; start < end; ) {
    let stop = text.indexOf('\n', start);
    if (stop < 0 || stop > end) stop = end;
    const arrow = text.indexOf('->', start);
    if (arrow >= 0 && arrow < stop) {
      let i = arrow + 2;
      while (i < stop && isBlank(text.charCodeAt(i))) i++;
      const tokenStart = i;
      while (i < stop && !ends(text.charCodeAt(i))) i++;
      each(text.slice(tokenStart, i));
    }
    start = stop + 1;
  }
}
