/**
 * Parses what `ipvsadm` prints into an IpvsTable: the `-Ln` listing (also with `--stats`, `--rate` and
 * other column sets, read from its header), the `-S -n` save form (`-A -t …` / `-a -t … -r …`), and the
 * folded copies found in web pages, where several real servers share one line or `->` lost its `>`.
 * It never throws: text it cannot place becomes a line-numbered diagnostic. Lookups live elsewhere.
 */

import { DiagnosticList, type Diagnostic, type ParseResult } from '../diagnostics';
import type { IpvsCounters, IpvsListingForm, IpvsProtocol, IpvsTable, RealServer, VirtualServer } from './model';
import { attachRealServers, canDefer, deferRealServers, newScannedRealServer, realServerOf, scanPlainRealServer, type RealServerBlock } from './realServerBlock';

/** Larger inputs are cut here (with an error diagnostic) so a runaway file cannot stall the editor. */
const MAX_CHARS = 64 * 1024 * 1024;
/** Text from the file quoted in a diagnostic is cut to this many characters, so a huge line gives a short message. */
const QUOTE_LIMIT = 80;

function quote(text: string): string {
  return text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT - 3)}...` : text;
}

const KNOWN_SCHEDULERS = new Set(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos']);
const SERVICE_PROTOCOLS = new Set(['TCP', 'UDP', 'SCTP']);

/** Words of the two header lines; in folded copies they run into the first virtual server. */
const HEADER_WORDS = new Set([
  'Prot', 'LocalAddress:Port', 'RemoteAddress:Port', 'Scheduler', 'Flags', 'Forward', 'Weight', 'ActiveConn',
  'InActConn', 'PersistConn', 'Uthreshold', 'Lthreshold', 'Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes',
  'CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS',
]);
const COUNTER_WORDS = new Set(['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes', 'CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS']);

const DEFAULT_REAL_SERVER_COLUMNS = ['Forward', 'Weight', 'ActiveConn', 'InActConn'];

interface AddressPort {
  address: string;
  port: number;
}

/** Mutable twins of the model types while parsing; frozen into the model shape at the end. */
type VirtualServerDraft = { -readonly [K in keyof VirtualServer]: VirtualServer[K] } & {
  flags: string[];
  realServers: RealServer[];
};

export function parseIpvsadm(text: string, file = 'ipvsadm.txt'): ParseResult<IpvsTable> {
  const diagnostics = new DiagnosticList(file);
  const diag = (line: number, severity: Diagnostic['severity'], message: string): void => diagnostics.add(line, severity, message);
  if (text.length > MAX_CHARS) {
    diag(0, 'error', `the file is larger than ${MAX_CHARS} characters; only the beginning was read`);
    text = text.slice(0, MAX_CHARS);
  }

  const servers: VirtualServerDraft[] = [];
  const byKey = new Map<string, VirtualServerDraft>();
  let version: string | undefined;
  let sawSaveLine = false;

  const addServer = (draft: VirtualServerDraft): void => {
    const key = serviceKey(draft.protocol, draft.address, draft.port, draft.fwmark);
    if (byKey.has(key)) {
      diag(draft.line, 'warning', `virtual server ${describe(draft)} is listed twice; the later entry is kept beside the first`);
    } else {
      byKey.set(key, draft);
    }
    servers.push(draft);
  };

  // Listing records never span lines, but folded copies put several on one line, so each line is read as
  // words with the reader's state (current virtual server, header columns) carried from line to line.
  // Lines are cut from the text one at a time; the common shapes are read in place without cutting them at all.
  const reader = new ListingReader(addServer, diag);
  let lineNumber = 0;
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const stop = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    lineNumber++;
    const next = end + 1;
    if (!reader.readPlainLine(text, start, stop, lineNumber) && !onlyBlanks(text, start, stop)) {
      reader.endBlock();
      const line = text.slice(start, stop);
      const trimmed = line.trim();
      if (trimmed === '') {
        // Blank.
      } else if (trimmed.startsWith('IP Virtual Server version ')) {
        version = trimmed;
      } else if (/^-[aA]\s/.test(trimmed)) {
        sawSaveLine = true;
        parseSaveLine(trimmed, lineNumber, byKey, addServer, diag);
      } else {
        reader.readLine(line, lineNumber);
      }
    }
    start = next;
  }

  const form: IpvsListingForm = reader.form ?? (sawSaveLine ? 'save' : 'list');
  if (servers.length === 0 && text.trim() !== '' && diagnostics.count === 0) {
    diag(0, 'info', 'no virtual servers are defined (IPVS table is empty)');
  }

  // Save-form and listing lines may be mixed; keep file order (a listing alone is in order already).
  const virtualServers: VirtualServer[] = sawSaveLine ? servers.sort((a, b) => a.line - b.line) : servers;
  return { value: { file, form, version, virtualServers }, diagnostics: diagnostics.list() };
}

type Diag = (line: number, severity: Diagnostic['severity'], message: string) => void;

/** A virtual server of the listing, with no real servers yet; they may stay in the text (realServerBlock.ts). */
function newVirtualServer(protocol: IpvsProtocol, address: string, port: number, scheduler: string, line: number, raw: string): VirtualServerDraft {
  const draft = { protocol, address, port, scheduler, flags: [] as string[] } as VirtualServerDraft;
  attachRealServers(draft);
  draft.line = line;
  draft.raw = raw;
  return draft;
}

/** A plain real-server line in the default columns: the common case, read without splitting into words. */
const REAL_SERVER_LINE = /^\s*->\s*(\S+)\s+([A-Za-z]\w*)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/;
/** A plain virtual-server line without flags. */
const VIRTUAL_SERVER_LINE = /^(TCP|UDP|SCTP)\s+(\S+)\s+([a-z][a-z0-9]*)\s*$/;

/** Reads the listing form (`-Ln` and its column variants) line by line. */
class ListingReader {
  form: IpvsListingForm | undefined;
  private serverColumns: string[] = [];
  /** The counter columns among serverColumns (Conns, InPkts, … or CPS, …), kept beside them. */
  private counters: string[] = [];
  private realServerColumns = DEFAULT_REAL_SERVER_COLUMNS;
  private current: VirtualServerDraft | undefined;
  /** The run of plain real-server lines of `current` still growing; any other line (but blanks) ends it. */
  private block: RealServerBlock | undefined;
  private readonly scanned = newScannedRealServer();

  constructor(
    private readonly addServer: (draft: VirtualServerDraft) => void,
    private readonly diag: Diag,
  ) {}

  /**
   * Reads a plain real-server line (default columns, canonical IPv4; see scanPlainRealServer) or a plain
   * virtual-server line straight from the text. It accepts only lines the fast-path expressions below accept too,
   * and gives the same result; false for anything else, which the caller then cuts out and reads the general way.
   */
  readPlainLine(text: string, start: number, stop: number, lineNumber: number): boolean {
    let i = start;
    while (i < stop && isBlank(text.charCodeAt(i))) i++;
    if (i >= stop) return false;
    if (text.charCodeAt(i) === 45 /* - */) {
      const current = this.current;
      const scanned = this.scanned;
      if (!current || this.realServerColumns !== DEFAULT_REAL_SERVER_COLUMNS || !scanPlainRealServer(text, start, stop, scanned)) return false;
      const block = this.block;
      if (block) {
        block.end = stop;
        block.count++;
        if (scanned.weight === 0) block.draining = true;
      } else if (canDefer(current) && current.realServers.length === 0) {
        // The first real server of a virtual server that has none yet: the run starts here and stays text.
        this.block = { text, start, end: stop, line: lineNumber, count: 1, draining: scanned.weight === 0 };
        deferRealServers(current, this.block);
      } else {
        current.realServers.push(realServerOf(text, scanned, start, lineNumber));
      }
      return true;
    }
    if (i !== start || this.counters.length > 0) return false;
    return this.readPlainVirtualServer(text, start, stop, lineNumber);
  }

  /** `TCP  ADDRESS:PORT scheduler` at the start of a line. */
  private readPlainVirtualServer(text: string, start: number, stop: number, lineNumber: number): boolean {
    const protocol = protocolAt(text, start);
    if (protocol === undefined) return false;
    let i = start + protocol.length;
    if (i >= stop || !isBlank(text.charCodeAt(i))) return false;
    while (i < stop && isBlank(text.charCodeAt(i))) i++;
    const tokenStart = i;
    while (i < stop && !isBlank(text.charCodeAt(i))) i++;
    const tokenEnd = i;
    if (i >= stop) return false;
    while (i < stop && isBlank(text.charCodeAt(i))) i++;
    const schedulerStart = i;
    if (!isLowerLetter(text.charCodeAt(i))) return false;
    while (i < stop && (isLowerLetter(text.charCodeAt(i)) || isDigit(text.charCodeAt(i)))) i++;
    const schedulerEnd = i;
    while (i < stop && isBlank(text.charCodeAt(i))) i++;
    if (i !== stop) return false;
    const target = readAddressPort(text, tokenStart, tokenEnd);
    if (!target) return false;
    const draft = newVirtualServer(protocol, target.address, target.port, schedulerWord(text, schedulerStart, schedulerEnd), lineNumber, text.slice(start, schedulerEnd));
    if (!KNOWN_SCHEDULERS.has(draft.scheduler)) {
      this.diag(lineNumber, 'info', `unknown IPVS scheduler "${quote(draft.scheduler)}"; its shares are computed as for rr`);
    }
    this.begin(draft);
    this.addServer(draft);
    return true;
  }

  /** Ends the run of real-server lines being recorded, when a line of another kind comes between. */
  endBlock(): void {
    this.block = undefined;
  }

  private begin(draft: VirtualServerDraft): void {
    this.current = draft;
    this.block = undefined;
  }

  readLine(line: string, lineNumber: number): void {
    this.block = undefined;
    if (this.fastPath(line, lineNumber)) return;
    const words = line.replace(/->/g, ' -> ').trim().split(/\s+/);
    const ignored: string[] = [];
    const raw = (start: number, end: number): string =>
      start === 0 && end === words.length ? line.trimEnd() : words.slice(start, end).join(' ');
    const isArrow = (i: number): boolean => {
      const word = words[i];
      if (word === '->') return true;
      const next = words[i + 1] ?? '';
      return word === '-' && (next === 'RemoteAddress:Port' || parseAddressPort(next) !== undefined);
    };
    const startsServer = (i: number): boolean => {
      const word = words[i] ?? '';
      if (SERVICE_PROTOCOLS.has(word)) return parseAddressPort(words[i + 1] ?? '') !== undefined;
      return word === 'FWM' && /^\d+$/.test(words[i + 1] ?? '');
    };
    const readHeaderWords = (i: number, into: string[]): number => {
      while (i < words.length && HEADER_WORDS.has(words[i]!) && words[i] !== 'Prot') into.push(words[i++]!);
      return i;
    };

    let i = 0;
    while (i < words.length) {
      const word = words[i]!;
      if (word === 'Prot' && words[i + 1] === 'LocalAddress:Port') {
        this.serverColumns = [];
        i = readHeaderWords(i + 2, this.serverColumns);
        this.counters = this.serverColumns.filter((column) => COUNTER_WORDS.has(column));
        this.form = this.serverColumns.includes('Conns') ? 'stats' : this.serverColumns.includes('CPS') ? 'rate' : 'list';
        continue;
      }
      if (isArrow(i) && words[i + 1] === 'RemoteAddress:Port') {
        const columns: string[] = [];
        i = readHeaderWords(i + 2, columns);
        // The stats and rate listings print no columns after RemoteAddress:Port: their real servers carry the
        // same counters as the virtual servers.
        this.realServerColumns =
          columns.join(' ') === DEFAULT_REAL_SERVER_COLUMNS.join(' ') ? DEFAULT_REAL_SERVER_COLUMNS
          : columns.length > 0 ? columns
          : this.counterColumns().length > 0 ? [] : DEFAULT_REAL_SERVER_COLUMNS;
        continue;
      }
      if (startsServer(i)) {
        const start = i;
        const draft = newVirtualServer(word as IpvsProtocol, '', 0, '', lineNumber, '');
        if (word === 'FWM') {
          draft.fwmark = Number(words[i + 1]);
          i += 2;
          if (words[i] === 'IPv6') i++;
        } else {
          const target = parseAddressPort(words[i + 1]!)!;
          draft.address = target.address;
          draft.port = target.port;
          i += 2;
        }
        const counters = this.counterColumns();
        if (counters.length > 0 || isCounterValue(words[i])) {
          const read = readCounters(words, i, counters.length > 0 ? counters : undefined);
          draft.counters = read.counters;
          i = read.next;
        } else {
          i = readSchedulerAndFlags(words, i, draft, startsServer, isArrow, this.diag);
        }
        draft.raw = raw(start, i);
        this.begin(draft);
        this.addServer(draft);
        continue;
      }
      const target = isArrow(i) ? parseAddressPort(words[i + 1] ?? '') : undefined;
      if (target) {
        const start = i;
        i += 2;
        const fields = new Map<string, string>();
        let counters: IpvsCounters | undefined;
        if (this.realServerColumns.length === 0) {
          const read = readCounters(words, i, this.counterColumns());
          counters = read.counters;
          i = read.next;
        } else {
          for (const column of this.realServerColumns) {
            if (i >= words.length || isArrow(i) || startsServer(i)) break;
            fields.set(column, words[i]!);
            i++;
          }
        }
        if (fields.size > 0 && fields.size < this.realServerColumns.length) {
          this.diag(lineNumber, 'warning', `real server ${formatAddressPort(target)} has ${fields.size} of ${this.realServerColumns.length} columns`);
        }
        this.addRealServer(target, fields, counters, lineNumber, raw(start, i));
        continue;
      }
      ignored.push(word);
      i++;
    }

    if (ignored.length > 0) {
      const shown = ignored.join(' ');
      const hint = ignored.some((each) => /^[A-Za-z][\w.-]*:[a-z]+$/.test(each)) ? ' (names instead of numbers: collect with `ipvsadm -Ln`)' : '';
      this.diag(lineNumber, 'warning', `ignored text that is not part of an ipvsadm listing: "${quote(shown)}"${hint}`);
    }
  }

  /** Reads the two common line shapes with one regular expression each; false when the line is anything else. */
  private fastPath(line: string, lineNumber: number): boolean {
    if (this.current && this.realServerColumns === DEFAULT_REAL_SERVER_COLUMNS) {
      const real = REAL_SERVER_LINE.exec(line);
      const target = real ? parseAddressPort(real[1]!) : undefined;
      if (real && target) {
        this.current.realServers.push({
          address: target.address, port: target.port, forward: real[2]!, weight: Number(real[3]),
          activeConn: Number(real[4]), inactiveConn: Number(real[5]), line: lineNumber, raw: line.trimEnd(),
        });
        return true;
      }
    }
    if (this.counterColumns().length === 0) {
      const virtual = VIRTUAL_SERVER_LINE.exec(line);
      const target = virtual ? parseAddressPort(virtual[2]!) : undefined;
      if (virtual && target) {
        const draft = newVirtualServer(virtual[1] as IpvsProtocol, target.address, target.port, virtual[3]!, lineNumber, line.trimEnd());
        if (!KNOWN_SCHEDULERS.has(draft.scheduler)) {
          this.diag(lineNumber, 'info', `unknown IPVS scheduler "${quote(draft.scheduler)}"; its shares are computed as for rr`);
        }
        this.begin(draft);
        this.addServer(draft);
        return true;
      }
    }
    return false;
  }

  private addRealServer(target: AddressPort, fields: Map<string, string>, counters: IpvsCounters | undefined, line: number, raw: string): void {
    const weight = optionalInteger(fields.get('Weight'));
    if (fields.has('Weight') && weight === undefined) {
      this.diag(line, 'warning', `real server ${formatAddressPort(target)} has a weight that is not a number: "${quote(fields.get('Weight') ?? '')}"`);
    }
    const server: RealServer = {
      address: target.address,
      port: target.port,
      forward: fields.get('Forward') ?? '',
      weight,
      activeConn: optionalInteger(fields.get('ActiveConn')),
      inactiveConn: optionalInteger(fields.get('InActConn')),
      ...(counters ? { counters } : {}),
      line,
      raw,
    };
    if (this.current) this.current.realServers.push(server);
    else this.diag(line, 'warning', `real server ${formatAddressPort(target)} appears before any virtual server and was ignored`);
  }

  private counterColumns(): string[] {
    return this.counters;
  }
}

/** Reads `rr persistent 10800 ops …` after a virtual server's address; returns the next token index. */
function readSchedulerAndFlags(
  words: string[],
  i: number,
  draft: VirtualServerDraft,
  startsServer: (i: number) => boolean,
  isArrow: (i: number) => boolean,
  diag: Diag,
): number {
  const line = draft.line;
  const scheduler = words[i];
  if (scheduler === undefined || isArrow(i) || startsServer(i)) return i;
  if (!/^[a-z][a-z0-9]*$/.test(scheduler)) return i;
  draft.scheduler = scheduler;
  if (!KNOWN_SCHEDULERS.has(scheduler)) {
    diag(line, 'info', `unknown IPVS scheduler "${quote(scheduler)}"; its shares are computed as for rr`);
  }
  i++;
  while (i < words.length && !isArrow(i) && !startsServer(i)) {
    const word = words[i]!;
    if (word === 'persistent') {
      const seconds = words[i + 1] ?? '';
      draft.flags.push(word);
      if (/^\d+$/.test(seconds)) {
        draft.persistentSeconds = Number(seconds);
        draft.flags.push(seconds);
        i += 2;
      } else {
        i += 1;
      }
    } else if ((word === 'mask' || word === 'pe') && words[i + 1] !== undefined) {
      draft.flags.push(word, words[i + 1]!);
      i += 2;
    } else if (word === 'ops' || /^\([\w,-]+\)$/.test(word) || /^(sh|mh|flag)-[\w-]+$/.test(word)) {
      draft.flags.push(word);
      i += 1;
    } else {
      break;
    }
  }
  return i;
}

/** Reads counter values (`3`, `3260K`); with known columns reads exactly that many. */
function readCounters(words: string[], i: number, columns: string[] | undefined): { counters: IpvsCounters; next: number } {
  const values: number[] = [];
  const limit = columns?.length ?? 16;
  while (values.length < limit && i < words.length && isCounterValue(words[i])) {
    values.push(counterValue(words[i]!));
    i++;
  }
  const names = columns ?? values.map((_, index) => `column${index + 1}`);
  return { counters: { columns: names.slice(0, values.length), values }, next: i };
}

function isCounterValue(text: string | undefined): boolean {
  return text !== undefined && /^\d+(\.\d+)?[KMGT]?$/.test(text);
}

function counterValue(text: string): number {
  const suffix = text.at(-1) ?? '';
  const scale: Record<string, number> = { K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  const factor = scale[suffix];
  return factor ? Number(text.slice(0, -1)) * factor : Number(text);
}

/** Parses one `-A` or `-a` line of `ipvsadm -S -n`. */
function parseSaveLine(
  line: string,
  lineNumber: number,
  byKey: Map<string, VirtualServerDraft>,
  addServer: (draft: VirtualServerDraft) => void,
  diag: Diag,
): void {
  const words = line.split(/\s+/);
  const command = words[0];
  let protocol: IpvsProtocol | undefined;
  let target: AddressPort | undefined;
  let fwmark: number | undefined;
  let scheduler = '';
  let persistentSeconds: number | undefined;
  const flags: string[] = [];
  let real: AddressPort | undefined;
  let forward = '';
  let weight: number | undefined;
  const unknown: string[] = [];

  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    const next = words[i + 1];
    const takesService = (proto: IpvsProtocol): void => {
      protocol = proto;
      target = next === undefined ? undefined : parseAddressPort(next);
      if (!target) diag(lineNumber, 'warning', `"${word}" needs an address:port, found "${quote(next ?? '')}"`);
      i++;
    };
    switch (word) {
      case '-t': case '--tcp-service': takesService('TCP'); break;
      case '-u': case '--udp-service': takesService('UDP'); break;
      case '--sctp-service': takesService('SCTP'); break;
      case '-f': case '--fwmark-service':
        protocol = 'FWM';
        fwmark = next !== undefined && /^\d+$/.test(next) ? Number(next) : undefined;
        i++;
        break;
      case '-s': case '--scheduler': scheduler = next ?? ''; i++; break;
      case '-p': case '--persistent':
        flags.push('persistent');
        if (next !== undefined && /^\d+$/.test(next)) {
          persistentSeconds = Number(next);
          flags.push(next);
          i++;
        } else {
          persistentSeconds = 300;
        }
        break;
      case '-M': case '--netmask': flags.push('mask', next ?? ''); i++; break;
      case '-b': case '--sched-flags': flags.push(`(${next ?? ''})`); i++; break;
      case '--pe': flags.push('pe', next ?? ''); i++; break;
      case '-o': case '--ops': flags.push('ops'); break;
      case '-r': case '--real-server':
        real = next === undefined ? undefined : parseAddressPort(next) ?? parseBareAddress(next);
        if (!real) diag(lineNumber, 'warning', `"${word}" needs an address[:port], found "${quote(next ?? '')}"`);
        i++;
        break;
      case '-g': case '--gatewaying': forward = 'Route'; break;
      case '-i': case '--ipip': forward = 'Tunnel'; break;
      case '-m': case '--masquerading': forward = 'Masq'; break;
      case '-w': case '--weight': weight = next !== undefined && /^\d+$/.test(next) ? Number(next) : undefined; i++; break;
      case '-x': case '--u-threshold': case '-y': case '--l-threshold':
      case '--tun-type': case '--tun-port': case '--tun-nocsum': case '--tun-csum': case '--tun-remcsum':
        if (next !== undefined && !next.startsWith('-')) i++;
        break;
      default: unknown.push(word);
    }
  }
  if (unknown.length > 0) diag(lineNumber, 'warning', `ignored ipvsadm options: ${quote(unknown.join(' '))}`);
  if (!protocol || (protocol === 'FWM' ? fwmark === undefined : !target)) {
    diag(lineNumber, 'warning', 'this ipvsadm line names no service (-t, -u, --sctp-service or -f) and was ignored');
    return;
  }
  const address = target?.address ?? '';
  const port = target?.port ?? 0;
  if (command === '-A') {
    addServer({
      protocol, address, port, ...(fwmark !== undefined ? { fwmark } : {}),
      scheduler: scheduler || 'wlc',
      ...(persistentSeconds !== undefined ? { persistentSeconds } : {}),
      flags, realServers: [], line: lineNumber, raw: line,
    });
    return;
  }
  if (!real) {
    diag(lineNumber, 'warning', 'this -a line names no real server (-r) and was ignored');
    return;
  }
  let owner = byKey.get(serviceKey(protocol, address, port, fwmark));
  if (!owner) {
    diag(lineNumber, 'warning', `real server for ${protocol} ${formatAddressPort({ address, port })} comes before its -A line; the virtual server was assumed`);
    owner = { protocol, address, port, ...(fwmark !== undefined ? { fwmark } : {}), scheduler: '', flags: [], realServers: [], line: lineNumber, raw: line };
    addServer(owner);
  }
  owner.realServers.push({
    address: real.address,
    // `ipvsadm -a` without a port keeps the virtual server's port.
    port: real.port || port,
    forward: forward || 'Route',
    weight: weight ?? 1,
    activeConn: undefined,
    inactiveConn: undefined,
    line: lineNumber,
    raw: line,
  });
}

function isBlank(code: number): boolean {
  return code === 32 || code === 9;
}

function onlyBlanks(text: string, start: number, stop: number): boolean {
  for (let i = start; i < stop; i++) if (!isBlank(text.charCodeAt(i))) return false;
  return true;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isLowerLetter(code: number): boolean {
  return code >= 97 && code <= 122;
}

function protocolAt(text: string, start: number): 'TCP' | 'UDP' | 'SCTP' | undefined {
  if (text.startsWith('TCP', start)) return 'TCP';
  if (text.startsWith('UDP', start)) return 'UDP';
  return text.startsWith('SCTP', start) ? 'SCTP' : undefined;
}

const SCHEDULER_WORDS = [...KNOWN_SCHEDULERS];

/** The word at [start, end): one of the given constants when it is one (no new string per line), else a copy. */
function wordAt(text: string, start: number, end: number, known: readonly string[]): string {
  for (const word of known) if (word.length === end - start && text.startsWith(word, start)) return word;
  return text.slice(start, end);
}

function schedulerWord(text: string, start: number, end: number): string {
  return wordAt(text, start, end, SCHEDULER_WORDS);
}

/**
 * parseAddressPort on the text at [start, end) without cutting it out first: a plain `a.b.c.d:port` is read in
 * place; anything else (IPv6 in brackets, odd forms) goes through parseAddressPort.
 */
function readAddressPort(text: string, start: number, end: number): AddressPort | undefined {
  let i = start;
  for (let group = 0; group < 4; group++) {
    const digitsStart = i;
    let octet = 0;
    while (i < end && isDigit(text.charCodeAt(i)) && i - digitsStart < 3) octet = octet * 10 + (text.charCodeAt(i++) - 48);
    if (i === digitsStart || octet > 255) return parseAddressPort(text.slice(start, end));
    const separator = group < 3 ? 46 /* . */ : 58; /* : */
    if (text.charCodeAt(i) !== separator || i >= end) return parseAddressPort(text.slice(start, end));
    i++;
  }
  const colon = i - 1;
  let port = 0;
  const portStart = i;
  while (i < end && isDigit(text.charCodeAt(i)) && i - portStart < 5) port = port * 10 + (text.charCodeAt(i++) - 48);
  if (i !== end || i === portStart || port > 65535) return parseAddressPort(text.slice(start, end));
  return { address: text.slice(start, colon), port };
}

/** `10.0.0.1:80` or `[2001:db8::1]:80`; undefined for anything else. */
export function parseAddressPort(text: string): AddressPort | undefined {
  const v6 = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(text);
  const v4 = v6 ? undefined : /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text);
  const match = v6 ?? v4;
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port > 65535) return undefined;
  if (v4 && match[1]!.split('.').some((octet) => Number(octet) > 255)) return undefined;
  return { address: match[1]!.toLowerCase(), port };
}

function parseBareAddress(text: string): AddressPort | undefined {
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(text)) return { address: text, port: 0 };
  const v6 = /^\[?([0-9A-Fa-f:.]+)\]?$/.exec(text);
  return v6 && v6[1]!.includes(':') ? { address: v6[1]!.toLowerCase(), port: 0 } : undefined;
}

function optionalInteger(text: string | undefined): number | undefined {
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

function formatAddressPort(target: AddressPort): string {
  return target.address.includes(':') ? `[${target.address}]:${target.port}` : `${target.address}:${target.port}`;
}

function describe(server: Pick<VirtualServer, 'protocol' | 'address' | 'port' | 'fwmark'>): string {
  return server.protocol === 'FWM' ? `FWM ${server.fwmark}` : `${server.protocol} ${formatAddressPort(server)}`;
}

function serviceKey(protocol: IpvsProtocol, address: string, port: number, fwmark: number | undefined): string {
  return protocol === 'FWM' ? `FWM|${fwmark}` : `${protocol}|${address}|${port}`;
}
