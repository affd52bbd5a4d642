/** Builds the IPVS Service tree from texts or a snapshot folder, with the parsers the analysis uses. */

import { existsSync, readFileSync } from 'node:fs';
import { parseIptablesSave } from '../../src/core/iptables/parseIptablesSave';
import { parseIpset } from '../../src/core/ipset/parseIpset';
import { parseIpvsadm } from '../../src/core/ipvs/parseIpvsadm';
import { parseRouteLocal } from '../../src/core/routes/localRoutes';
import { buildIpvsServiceTree } from '../../src/core/services/ipvsServiceTree';
import type { ServiceTree } from '../../src/core/services/model';

export interface Texts {
  ipvsadm: string;
  ipset?: string;
  routes?: string;
  iptables?: string;
}

export function treeOf(texts: Texts): ServiceTree {
  return buildIpvsServiceTree({
    ipvs: parseIpvsadm(texts.ipvsadm).value,
    ipsets: texts.ipset === undefined ? undefined : parseIpset(texts.ipset).value,
    routes: texts.routes === undefined ? undefined : parseRouteLocal(texts.routes).value,
    iptables: texts.iptables === undefined ? undefined : parseIptablesSave(texts.iptables).value,
  });
}

export function folderTree(dir: string): ServiceTree {
  const read = (name: string): string | undefined => (existsSync(`${dir}/${name}`) ? readFileSync(`${dir}/${name}`, 'utf8') : undefined);
  return treeOf({ ipvsadm: read('ipvsadm.txt')!, ipset: read('ipset.txt'), routes: read('route-local.txt'), iptables: read('iptables-save.txt') });
}
