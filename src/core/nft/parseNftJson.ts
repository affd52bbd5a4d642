/**
 * Reads `nft -j list ruleset` (libnftables JSON, schema 1) into the same NftRuleset the text parser builds,
 * so the tracer and the Service tree work on either. nft prints JSON on one line, so every object is on line
 * 1; rule text is rebuilt in nft's syntax from the expressions. JSON the reader does not know becomes an
 * `unknown` expression or a diagnostic, never an exception.
 */

import type { Diagnostic, ParseResult } from '../diagnostics';
import type { NftChain, NftExpr, NftKey, NftOperand, NftRule, NftRuleset, NftSelector, NftSet, NftSetElement, NftTable, NftVerdict } from './model';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const LINE = 1;
/** Expressions nest only a few levels; deeper JSON is not nft's and is not followed. */
const MAX_DEPTH = 16;
const VERDICT_KINDS = new Set(['accept', 'drop', 'continue', 'return', 'jump', 'goto', 'queue']);
const OPERATORS: Record<string, '==' | '!=' | '<' | '>' | '<=' | '>='> = { '==': '==', in: '==', '!=': '!=', '<': '<', '>': '>', '<=': '<=', '>=': '>=' };

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The single key of a `{ "kind": body }` object. */
function single(value: Json | undefined): [string, Json] | undefined {
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  return keys.length === 1 ? [keys[0], value[keys[0]]] : undefined;
}

export function parseNftJson(text: string, file = 'nft.txt'): ParseResult<NftRuleset> {
  const diagnostics: Diagnostic[] = [];
  const ruleset: NftRuleset = { tables: [] };
  let document: Json;
  try {
    document = JSON.parse(text) as Json;
  } catch (error) {
    diagnostics.push({ file, line: 0, severity: 'error', message: `not valid JSON: ${(error as Error).message}` });
    return { value: ruleset, diagnostics };
  }
  const objects = isObject(document) && Array.isArray(document.nftables) ? document.nftables : undefined;
  if (!objects) {
    diagnostics.push({ file, line: 0, severity: 'error', message: 'JSON without an "nftables" array: not `nft -j list ruleset` output' });
    return { value: ruleset, diagnostics };
  }
  const tables = new Map<string, NftTable>();
  const tableOf = (body: JsonObject): NftTable | undefined => tables.get(`${String(body.family)} ${String(body.table)}`);
  const chainsByTable = new Map<NftTable, Map<string, NftChain>>();
  for (const object of objects) {
    const entry = single(object);
    if (!entry || !isObject(entry[1])) continue;
    const [kind, body] = entry as [string, JsonObject];
    switch (kind) {
      case 'metainfo':
        break;
      case 'table': {
        const table: NftTable = { family: String(body.family), name: String(body.name), line: LINE, endLine: LINE, flags: stringList(body.flags), chains: [], sets: [], objects: [] };
        if (typeof body.comment === 'string') table.comment = body.comment;
        tables.set(`${table.family} ${table.name}`, table);
        chainsByTable.set(table, new Map());
        ruleset.tables.push(table);
        break;
      }
      case 'chain': {
        const table = tableOf(body);
        if (!table) break;
        const chain: NftChain = { name: String(body.name), line: LINE, endLine: LINE, rules: [] };
        if (typeof body.comment === 'string') chain.comment = body.comment;
        if (typeof body.hook === 'string' && typeof body.prio === 'number') {
          chain.base = { type: String(body.type), hook: body.hook, priority: body.prio, priorityText: String(body.prio), policy: body.policy === 'drop' ? 'drop' : 'accept' };
          if (typeof body.dev === 'string') chain.base.device = body.dev;
        }
        table.chains.push(chain);
        chainsByTable.get(table)!.set(chain.name, chain);
        break;
      }
      case 'set':
      case 'map': {
        const table = tableOf(body);
        if (table) table.sets.push(readSet(kind, body));
        break;
      }
      case 'rule': {
        const table = tableOf(body);
        const chain = table ? chainsByTable.get(table)!.get(String(body.chain)) : undefined;
        if (!chain) {
          diagnostics.push({ file, line: LINE, severity: 'warning', message: `rule for unknown chain ${String(body.family)} ${String(body.table)} ${String(body.chain)} ignored` });
          break;
        }
        chain.rules.push(readRule(body));
        break;
      }
      default: {
        const table = tableOf(body);
        if (table) table.objects.push({ kind, name: String(body.name ?? ''), line: LINE });
      }
    }
  }
  return { value: ruleset, diagnostics };
}

function stringList(value: Json | undefined): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function readSet(kind: 'set' | 'map', body: JsonObject): NftSet {
  const set: NftSet = {
    kind,
    name: String(body.name),
    line: LINE,
    keyType: Array.isArray(body.type) ? body.type.map(String) : typeof body.type === 'string' ? [body.type] : [],
    flags: stringList(body.flags),
    elements: [],
  };
  if (typeof body.map === 'string') set.dataType = body.map;
  if (typeof body.timeout === 'number') set.timeout = `${body.timeout}s`;
  if (typeof body.size === 'number') set.size = body.size;
  if (typeof body.comment === 'string') set.comment = body.comment;
  for (const item of Array.isArray(body.elem) ? body.elem : []) {
    const element = kind === 'map' && Array.isArray(item) ? readElement(item[0], item[1]) : readElement(item);
    if (element) set.elements.push(element);
  }
  return set;
}

/** An element: its key (maybe wrapped in `{ "elem": { "val", "comment", "timeout" } }`) and a map value. */
function readElement(keyJson: Json, valueJson?: Json): NftSetElement | undefined {
  let source = keyJson;
  const element: NftSetElement = { key: [], line: LINE };
  const wrapped = single(source);
  if (wrapped?.[0] === 'elem' && isObject(wrapped[1])) {
    const body = wrapped[1];
    source = body.val;
    if (typeof body.comment === 'string') element.comment = body.comment;
    if (typeof body.timeout === 'number') element.timeout = `${body.timeout}s`;
    if (typeof body.expires === 'number') element.expires = `${body.expires}s`;
  }
  const key = readKey(source);
  if (!key) return undefined;
  element.key = key;
  if (valueJson !== undefined) {
    const verdict = readVerdict(valueJson);
    if (verdict) element.verdict = verdict;
    else {
      const data = readKey(valueJson);
      if (!data) return undefined;
      element.data = data;
    }
  }
  return element;
}

/** A value as nft prints it: `10.0.0.0/8`, `1.2.3.4-1.2.3.9`, `tcp`, `80`; a concatenation gives several. */
function readKey(value: Json | undefined, depth = 0): NftKey | undefined {
  if (typeof value === 'string' || typeof value === 'number') return [String(value)];
  const entry = single(value);
  if (!entry || depth > MAX_DEPTH) return undefined;
  const [kind, body] = entry;
  if (kind === 'concat' && Array.isArray(body)) {
    const parts = body.map((part) => readKey(part, depth + 1));
    return parts.every((part) => part?.length === 1) ? parts.map((part) => part![0]) : undefined;
  }
  if (kind === 'prefix' && isObject(body)) return [`${String(body.addr)}/${String(body.len)}`];
  if (kind === 'range' && Array.isArray(body) && body.length === 2) return [`${String(body[0])}-${String(body[1])}`];
  if (kind === 'elem' && isObject(body)) return readKey(body.val, depth + 1);
  return undefined;
}

function readVerdict(value: Json | undefined): NftVerdict | undefined {
  const entry = single(value);
  if (!entry || !VERDICT_KINDS.has(entry[0])) return undefined;
  const [kind, body] = entry;
  const verdict: NftVerdict = { kind: kind as NftVerdict['kind'] };
  if ((kind === 'jump' || kind === 'goto') && isObject(body)) verdict.target = String(body.target);
  return verdict;
}

function readRule(body: JsonObject): NftRule {
  const exprs = (Array.isArray(body.expr) ? body.expr : []).map(readExpr);
  const rule: NftRule = { line: LINE, text: '', exprs };
  if (typeof body.handle === 'number') rule.handle = body.handle;
  if (typeof body.comment === 'string') {
    rule.comment = body.comment;
    exprs.push({ kind: 'comment', text: body.comment });
  }
  rule.text = formatExprs(exprs);
  return rule;
}

function readExpr(json: Json): NftExpr {
  const unknown = (): NftExpr => ({ kind: 'unknown', text: describeJson(json) });
  const entry = single(json);
  if (!entry) return unknown();
  const [kind, body] = entry;
  const verdict = readVerdict(json);
  if (verdict) return { kind: 'verdict', verdict };
  if (kind === 'match' && isObject(body)) {
    const left = readSelectors(body.left);
    const op = OPERATORS[String(body.op)];
    let right = readOperand(body.right);
    // Marks are numbers in JSON; nft's text prints them as 0x%08x, and so do we.
    if (right?.kind === 'values' && left?.length === 1 && left[0].name.endsWith(' mark')) {
      right = { kind: 'values', keys: right.keys.map((key) => key.map((part) => (/^\d+$/.test(part) ? `0x${Number(part).toString(16).padStart(8, '0')}` : part))) };
    }
    return left && op && right ? { kind: 'match', left, op, right } : unknown();
  }
  if (kind === 'vmap' && isObject(body)) {
    const left = readSelectors(body.key);
    if (!left) return unknown();
    if (typeof body.data === 'string' && body.data.startsWith('@')) return { kind: 'vmap', left, map: { kind: 'ref', name: body.data.slice(1) } };
    const set = single(body.data);
    if (set?.[0] !== 'set' || !Array.isArray(set[1])) return unknown();
    const entries: { key: NftKey; verdict: NftVerdict }[] = [];
    for (const item of set[1]) {
      const key = Array.isArray(item) ? readKey(item[0]) : undefined;
      const target = Array.isArray(item) ? readVerdict(item[1]) : undefined;
      if (!key || !target) return unknown();
      entries.push({ key, verdict: target });
    }
    return { kind: 'vmap', left, map: { kind: 'inline', entries } };
  }
  if (kind === 'mangle' && isObject(body)) {
    const target = readSelectors(body.key);
    const name = target?.length === 1 ? target[0].name : undefined;
    if (name !== 'meta mark' && name !== 'ct mark') return unknown();
    if (typeof body.value === 'number') return { kind: 'markSet', target: name, op: '=', value: `0x${body.value.toString(16).padStart(8, '0')}` };
    const source = readSelectors(body.value);
    if (source?.length !== 1 || source[0].name !== name || !source[0].mask) return unknown();
    return { kind: 'markSet', target: name, op: source[0].mask.op, value: source[0].mask.value };
  }
  if ((kind === 'dnat' || kind === 'snat') && isObject(body) && typeof body.addr === 'string') {
    const expr: NftExpr = { kind: 'nat', type: kind, address: body.addr, flags: stringList(body.flags) };
    if (typeof body.port === 'number') expr.port = body.port;
    return expr;
  }
  if ((kind === 'masquerade' || kind === 'redirect') && (body === null || isObject(body))) {
    const expr: NftExpr = { kind: 'nat', type: kind, flags: body ? stringList(body.flags) : [] };
    if (body && typeof body.port === 'number') expr.port = body.port;
    return expr;
  }
  if (kind === 'reject') {
    const reason = isObject(body) ? [body.type, body.expr].filter((part) => typeof part === 'string').join(' ') : '';
    // `reject` alone prints as icmp port-unreachable in JSON; the text form leaves it implicit.
    return reason && reason !== 'icmp port-unreachable' ? { kind: 'reject', with: reason } : { kind: 'reject' };
  }
  if (kind === 'set' && isObject(body) && typeof body.set === 'string' && ['update', 'add', 'delete'].includes(String(body.op))) {
    const key = readSelectors(body.elem);
    return key ? { kind: 'setUpdate', op: body.op as 'update' | 'add' | 'delete', set: body.set.replace(/^@/, ''), key } : unknown();
  }
  if (kind === 'counter') {
    const expr: NftExpr = { kind: 'counter' };
    if (isObject(body) && typeof body.packets === 'number') expr.packets = body.packets;
    if (isObject(body) && typeof body.bytes === 'number') expr.bytes = body.bytes;
    return expr;
  }
  if (kind === 'log' || kind === 'notrack') return { kind: 'statement', text: kind };
  if (kind === 'limit' && isObject(body)) return { kind: 'unknown', text: `limit rate ${String(body.rate)}/${String(body.per)}` };
  return unknown();
}

/** Left-hand sides: a field, a masked field, a concatenation, fib, numgen. */
function readSelectors(json: Json | undefined, depth = 0): NftSelector[] | undefined {
  const entry = single(json);
  if (!entry || depth > MAX_DEPTH) return undefined;
  const [kind, body] = entry;
  if (kind === 'concat' && Array.isArray(body)) {
    const parts = body.map((part) => readSelectors(part, depth + 1));
    return parts.every((part) => part?.length === 1) ? parts.map((part) => part![0]) : undefined;
  }
  if ((kind === '&' || kind === '|' || kind === '^') && Array.isArray(body) && body.length === 2 && typeof body[1] === 'number') {
    const inner = readSelectors(body[0], depth + 1);
    return inner?.length === 1 ? [{ ...inner[0], mask: { op: kind, value: `0x${body[1].toString(16).padStart(8, '0')}` } }] : undefined;
  }
  if (!isObject(body)) return undefined;
  if (kind === 'payload' && typeof body.protocol === 'string' && typeof body.field === 'string') return [{ name: `${body.protocol} ${body.field}` }];
  if (kind === 'meta' && typeof body.key === 'string') return [{ name: `meta ${body.key}` }];
  if (kind === 'ct' && typeof body.key === 'string' && body.dir === undefined) return [{ name: `ct ${body.key}` }];
  if (kind === 'fib' && typeof body.result === 'string') return [{ name: `fib ${stringList(body.flags).join(' . ')} ${body.result}` }];
  if (kind === 'numgen' && (body.mode === 'random' || body.mode === 'inc') && typeof body.mod === 'number') {
    return [{ name: 'numgen', numgen: { mode: body.mode, mod: body.mod, offset: typeof body.offset === 'number' ? body.offset : 0 } }];
  }
  return undefined;
}

function readOperand(json: Json | undefined): NftOperand | undefined {
  if (typeof json === 'string' && json.startsWith('@')) return { kind: 'ref', name: json.slice(1) };
  if (Array.isArray(json)) {
    const keys = json.map(readKey);
    return keys.every(Boolean) ? { kind: 'values', keys: keys as NftKey[] } : undefined;
  }
  const entry = single(json);
  if (entry?.[0] === 'set' && Array.isArray(entry[1])) return readOperand(entry[1]);
  const key = readKey(json);
  return key ? { kind: 'values', keys: [key] } : undefined;
}

function describeJson(json: Json): string {
  let text: string;
  try {
    text = JSON.stringify(json);
  } catch {
    return '(an expression nested too deeply to show)';
  }
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}

/** Rule text in nft's syntax, rebuilt from expressions (JSON has no text of its own). */
export function formatExprs(exprs: NftExpr[]): string {
  return exprs.map(formatExpr).filter((part) => part.length > 0).join(' ');
}

/** Meta keys nft prints without `meta`. */
const BARE_META = new Set(['meta iifname', 'meta oifname', 'meta iif', 'meta oif', 'meta skuid', 'meta skgid']);

function formatSelectors(selectors: NftSelector[]): string {
  return selectors
    .map((selector) => {
      const plain = BARE_META.has(selector.name) ? selector.name.slice('meta '.length) : selector.name;
      const name = selector.numgen ? `numgen ${selector.numgen.mode} mod ${selector.numgen.mod}${selector.numgen.offset ? ` offset ${selector.numgen.offset}` : ''}` : plain;
      return selector.mask ? `${name} ${selector.mask.op} ${selector.mask.value}` : name;
    })
    .join(' . ');
}

function formatVerdict(verdict: NftVerdict): string {
  return verdict.target ? `${verdict.kind} ${verdict.target}` : verdict.kind;
}

function formatExpr(expr: NftExpr): string {
  switch (expr.kind) {
    case 'match': {
      const quoted = expr.left.length === 1 && /ifname$/.test(expr.left[0].name);
      const keys = expr.right.kind === 'values' ? expr.right.keys.map((key) => (quoted ? `"${key.join(' . ')}"` : key.join(' . '))) : [];
      const flagList = expr.left.length === 1 && /^ct (state|status)$/.test(expr.left[0].name);
      const right = expr.right.kind === 'ref' ? `@${expr.right.name}` : keys.length === 1 ? keys[0] : flagList ? keys.join(',') : `{ ${keys.join(', ')} }`;
      // A masked field always shows its operator, as nft prints `meta mark & 0x00004000 == 0x00000000`.
      const op = expr.op !== '==' || expr.left.some((selector) => selector.mask) ? `${expr.op} ` : '';
      return `${formatSelectors(expr.left)} ${op}${right}`;
    }
    case 'vmap':
      return `${formatSelectors(expr.left)} vmap ${expr.map.kind === 'ref' ? `@${expr.map.name}` : `{ ${expr.map.entries.map((entry) => `${entry.key.join(' . ')} : ${formatVerdict(entry.verdict)}`).join(', ')} }`}`;
    case 'verdict':
      return formatVerdict(expr.verdict);
    case 'nat': {
      const target = expr.address !== undefined ? ` to ${expr.address.includes(':') && expr.port !== undefined ? `[${expr.address}]` : expr.address}${expr.port !== undefined ? `:${expr.port}` : ''}` : expr.port !== undefined ? ` to :${expr.port}` : '';
      return `${expr.type}${target}${expr.flags.length ? ` ${expr.flags.join(',')}` : ''}`;
    }
    case 'reject':
      return expr.with ? `reject with ${expr.with}` : 'reject';
    case 'markSet':
      return expr.op === '=' ? `${expr.target} set ${expr.value}` : `${expr.target} set ${expr.target} ${expr.op} ${expr.value}`;
    case 'setUpdate':
      return `${expr.op} @${expr.set} { ${formatSelectors(expr.key)} }`;
    case 'counter':
      return expr.packets !== undefined ? `counter packets ${expr.packets} bytes ${expr.bytes ?? 0}` : 'counter';
    case 'comment':
      return `comment "${expr.text}"`;
    case 'statement':
    case 'unknown':
      return expr.text;
  }
}
