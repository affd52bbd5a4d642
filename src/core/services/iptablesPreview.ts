/**
 * A preview of the iptables-mode Service tree's Services, read from the dump's entry chains alone: the lines of
 * nat KUBE-SERVICES and KUBE-NODEPORTS and filter KUBE-SERVICES, KUBE-EXTERNAL-SERVICES and KUBE-NODEPORTS are
 * found by searching the text, and the tree's own first pass reads them. On a 10,000-Service node that takes a
 * fraction of parsing the whole dump, so the editor can list the Services while the analysis still runs. The
 * full tree (buildIptablesServiceTree) gives the same Services in the same order for a dump in iptables-save's
 * form; lines it cannot find this way (counters, folded or indented rules) are simply missing from the preview.
 */

import type { Chain, Rule, Ruleset, Table } from '../iptables/model';
import { scanRule } from '../iptables/scanRule';
import { SavedRule } from '../iptables/storedRules';
import { firstLevelDrafts } from './iptablesServiceTree';
import type { ServiceInfo } from './model';

const ENTRY_CHAINS = ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-EXTERNAL-SERVICES'];

interface Found {
  offset: number;
  chain: string;
}

/** Offsets of the lines that start with `-A CHAIN ` for the entry chains, in file order. */
function entryLines(text: string): Found[] {
  const found: Found[] = [];
  for (const chain of ENTRY_CHAINS) {
    const prefix = `-A ${chain} `;
    if (text.startsWith(prefix)) found.push({ offset: 0, chain });
    for (let at = text.indexOf(`\n${prefix}`); at !== -1; at = text.indexOf(`\n${prefix}`, at + 1)) found.push({ offset: at + 1, chain });
  }
  return found.sort((a, b) => a.offset - b.offset);
}

/** `*table` header lines with their offsets, in file order. */
function tableHeaders(text: string): { offset: number; name: string }[] {
  const headers: { offset: number; name: string }[] = [];
  const add = (offset: number) => {
    const end = text.indexOf('\n', offset);
    headers.push({ offset, name: text.slice(offset + 1, end === -1 ? text.length : end).trim() });
  };
  if (text.startsWith('*')) add(0);
  for (let at = text.indexOf('\n*'); at !== -1; at = text.indexOf('\n*', at + 1)) add(at + 1);
  return headers;
}

/** The Services the full tree lists, as id and protocol, in its order. */
export function previewIptablesServices(text: string, file = 'iptables-save.txt'): Pick<ServiceInfo, 'id' | 'protocol'>[] {
  const headers = tableHeaders(text);
  const tables = new Map<string, Table>();
  let header = -1;
  for (const { offset, chain: chainName } of entryLines(text)) {
    while (header + 1 < headers.length && headers[header + 1]!.offset < offset) header++;
    if (header < 0) continue;
    const tableName = headers[header]!.name;
    let table = tables.get(tableName);
    if (!table) tables.set(tableName, (table = { name: tableName, line: 0, chains: new Map() }));
    let chain = table.chains.get(chainName) as (Chain & { rules: Rule[] }) | undefined;
    if (!chain) table.chains.set(chainName, (chain = { table: tableName, name: chainName, builtin: false, line: 0, rules: [] }));
    let end = text.indexOf('\n', offset);
    if (end === -1) end = text.length;
    const raw = text.slice(offset, text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    const scan = scanRule(raw, chainName);
    // Lines are not counted: the preview names Services, and their rules' lines come with the analysis.
    chain.rules.push(new SavedRule(tableName, chainName, 0, chain.rules.length + 1, raw, scan.target, scan.targetOffset));
  }
  const ruleset: Ruleset = { file, tables, notices: [] };
  return firstLevelDrafts(ruleset).map(({ id, protocol }) => ({ id, protocol }));
}
