/**
 * kube-proxy's iptables-mode vocabulary: the chains it writes, what each is for, and the comments it puts on
 * rules. One module, so the Service tree, the tracer's explanations, hovers and the CLI use the same words.
 * Names follow pkg/proxy/iptables/proxier.go.
 */

export type KubeChainKind =
  | 'services'
  | 'nodeports'
  | 'external-services'
  | 'service'
  | 'service-local'
  | 'external'
  | 'firewall'
  | 'endpoint'
  | 'legacy-external-local'
  | 'mark-masq'
  | 'mark-drop'
  | 'postrouting'
  | 'forward'
  | 'firewall-localnet'
  | 'proxy-firewall'
  | 'canary'
  | 'other-kube'
  | 'not-kube';

interface ChainKindInfo {
  readonly kind: KubeChainKind;
  /** One plain sentence on what the chain does. */
  readonly explanation: string;
}

const FIXED_CHAINS: Record<string, ChainKindInfo> = {
  'KUBE-SERVICES': {
    kind: 'services',
    explanation:
      'KUBE-SERVICES is kube-proxy\'s entry chain: one rule per Service address and port sends matching packets to that Service\'s chain.',
  },
  'KUBE-NODEPORTS': {
    kind: 'nodeports',
    explanation: 'KUBE-NODEPORTS matches packets to a NodePort on one of this node\'s local addresses.',
  },
  'KUBE-EXTERNAL-SERVICES': {
    kind: 'external-services',
    explanation:
      'KUBE-EXTERNAL-SERVICES (filter table) rejects or drops traffic to external IPs and NodePorts of Services that have no usable endpoints.',
  },
  'KUBE-MARK-MASQ': {
    kind: 'mark-masq',
    explanation: 'KUBE-MARK-MASQ sets mark bit 0x4000 so that KUBE-POSTROUTING masquerades the packet on its way out.',
  },
  'KUBE-MARK-DROP': {
    kind: 'mark-drop',
    explanation: 'KUBE-MARK-DROP sets mark bit 0x8000; older kube-proxy versions dropped such packets in KUBE-FIREWALL.',
  },
  'KUBE-POSTROUTING': {
    kind: 'postrouting',
    explanation:
      'KUBE-POSTROUTING masquerades (rewrites the source to the node\'s address) packets that carry mark 0x4000.',
  },
  'KUBE-FORWARD': {
    kind: 'forward',
    explanation:
      'KUBE-FORWARD (filter FORWARD) accepts forwarded packets marked 0x4000 and packets of established connections, and drops invalid ones.',
  },
  'KUBE-FIREWALL': {
    kind: 'firewall-localnet',
    explanation:
      'KUBE-FIREWALL drops packets to 127.0.0.0/8 that come from elsewhere, unless they belong to a NATed connection (route_localnet protection).',
  },
  'KUBE-PROXY-FIREWALL': {
    kind: 'proxy-firewall',
    explanation:
      'KUBE-PROXY-FIREWALL (filter) drops traffic to LoadBalancer IPs that the Service\'s loadBalancerSourceRanges do not allow.',
  },
  'KUBE-PROXY-CANARY': { kind: 'canary', explanation: 'KUBE-PROXY-CANARY is empty; kube-proxy watches it to notice a flushed table.' },
  'KUBE-KUBELET-CANARY': { kind: 'canary', explanation: 'KUBE-KUBELET-CANARY is empty; kubelet watches it to notice a flushed table.' },
};

const PREFIX_CHAINS: { prefix: string; info: ChainKindInfo }[] = [
  {
    prefix: 'KUBE-SVC-',
    info: {
      kind: 'service',
      explanation:
        'A KUBE-SVC- chain belongs to one Service port: it picks one of the Service\'s endpoints at random (cluster traffic policy).',
    },
  },
  {
    prefix: 'KUBE-SVL-',
    info: {
      kind: 'service-local',
      explanation:
        'A KUBE-SVL- chain picks among the Service\'s endpoints on this node only (traffic policy Local).',
    },
  },
  {
    prefix: 'KUBE-EXT-',
    info: {
      kind: 'external',
      explanation:
        'A KUBE-EXT- chain handles traffic from outside the cluster (NodePort, external IP, LoadBalancer): it decides on masquerading, then hands over to the Service chain.',
    },
  },
  {
    prefix: 'KUBE-FW-',
    info: {
      kind: 'firewall',
      explanation:
        'A KUBE-FW- chain applies a LoadBalancer Service\'s loadBalancerSourceRanges before the external chain.',
    },
  },
  {
    prefix: 'KUBE-SEP-',
    info: {
      kind: 'endpoint',
      explanation: 'A KUBE-SEP- chain is one endpoint of a Service: it DNATs the packet to the pod\'s address and port.',
    },
  },
  {
    prefix: 'KUBE-XLB-',
    info: {
      kind: 'legacy-external-local',
      explanation:
        'A KUBE-XLB- chain (kube-proxy before 1.24) sends external traffic only to endpoints on this node (externalTrafficPolicy Local).',
    },
  },
];

/** Prefixes of kube-proxy's chains that belong to one Service port or one endpoint. */
export const PER_SERVICE_PREFIXES: readonly string[] = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-XLB-', 'KUBE-SEP-'];

/** The prefixes as one pattern: one native test instead of a string comparison per prefix. */
const PER_SERVICE_CHAIN = new RegExp(`^(?:${PER_SERVICE_PREFIXES.join('|')})`);

/** Whether a chain belongs to one Service port or one endpoint (KUBE-SVC-, KUBE-SEP-, …). */
export function isPerServiceChain(name: string): boolean {
  return PER_SERVICE_CHAIN.test(name);
}

export function classifyChain(name: string): ChainKindInfo {
  const fixed = FIXED_CHAINS[name];
  if (fixed) return fixed;
  for (const { prefix, info } of PREFIX_CHAINS) if (name.startsWith(prefix)) return info;
  if (name.startsWith('KUBE-')) return { kind: 'other-kube', explanation: `${name} is a kube-proxy or kubelet chain.` };
  return { kind: 'not-kube', explanation: `${name} is not written by kube-proxy.` };
}

/** The Service-level meaning of a rule comment kube-proxy wrote. */
export type KubeCommentKind =
  | 'cluster-ip'
  | 'external-ip'
  | 'loadbalancer-ip'
  | 'nodeport'
  | 'endpoint-choice'
  | 'service'
  | 'no-endpoints'
  | 'no-local-endpoints'
  | 'health-check'
  | 'masquerade-external'
  | 'pod-traffic-external'
  | 'local-traffic-external'
  | 'firewall-drop'
  | 'other';

export interface KubeComment {
  kind: KubeCommentKind;
  /** `ns/name:port` (or `ns/name` for an unnamed port). */
  service?: string;
  endpoint?: { ip: string; port: number };
}

const SERVICE_ID = '([a-z0-9][-a-z0-9.]*/[a-z0-9][-a-z0-9.]*(?::[-a-z0-9]*)?)';
/**
 * kube-proxy's comment forms. `hint` is text every comment of the form contains, tested before the regex: a big
 * node has a comment on every Service rule, and most forms are ruled out by one substring search.
 */
const COMMENT_PATTERNS: { pattern: RegExp; kind: KubeCommentKind; hint: string }[] = [
  { pattern: new RegExp(`^${SERVICE_ID} cluster IP$`), kind: 'cluster-ip', hint: ' cluster IP' },
  { pattern: new RegExp(`^${SERVICE_ID} external IP$`), kind: 'external-ip', hint: ' external IP' },
  { pattern: new RegExp(`^${SERVICE_ID} loadbalancer IP$`), kind: 'loadbalancer-ip', hint: ' loadbalancer IP' },
  { pattern: new RegExp(`^${SERVICE_ID} has no endpoints$`), kind: 'no-endpoints', hint: ' has no endpoints' },
  { pattern: new RegExp(`^${SERVICE_ID} has no local endpoints$`), kind: 'no-local-endpoints', hint: ' has no local endpoints' },
  { pattern: new RegExp(`^${SERVICE_ID} health check node port$`), kind: 'health-check', hint: ' health check node port' },
  { pattern: new RegExp(`^masquerade traffic for ${SERVICE_ID} external destinations$`), kind: 'masquerade-external', hint: 'masquerade traffic for ' },
  { pattern: new RegExp(`^pod traffic for ${SERVICE_ID} external destinations$`), kind: 'pod-traffic-external', hint: 'pod traffic for ' },
  { pattern: new RegExp(`^route LOCAL traffic for ${SERVICE_ID} external destinations$`), kind: 'local-traffic-external', hint: 'route LOCAL traffic for ' },
  { pattern: new RegExp(`^${SERVICE_ID} traffic not accepted by KUBE-FW-\\S+$`), kind: 'firewall-drop', hint: ' traffic not accepted by KUBE-FW-' },
  { pattern: new RegExp(`^other traffic to ${SERVICE_ID} will be dropped$`), kind: 'firewall-drop', hint: 'other traffic to ' },
  { pattern: new RegExp(`^Balancing rule \\d+ for ${SERVICE_ID}$`), kind: 'service', hint: 'Balancing rule ' },
  { pattern: new RegExp(`^${SERVICE_ID}$`), kind: 'service', hint: '/' },
];
const ENDPOINT_PATTERN = new RegExp(`^${SERVICE_ID} -+>? ?(\\d+\\.\\d+\\.\\d+\\.\\d+):(\\d+)$`);
const NODEPORT_SUFFIX = / nodePort$/;

/** Reads a comment kube-proxy wrote; `other` when it is not one of kube-proxy's forms. */
export function parseKubeComment(comment: string | undefined): KubeComment {
  if (!comment) return { kind: 'other' };
  const text = comment.trim();
  const endpoint = text.includes(' -') ? ENDPOINT_PATTERN.exec(text) : null;
  if (endpoint) {
    return { kind: 'endpoint-choice', service: endpoint[1], endpoint: { ip: endpoint[2], port: Number(endpoint[3]) } };
  }
  if (text.endsWith(' nodePort')) {
    const inner = parseKubeComment(text.replace(NODEPORT_SUFFIX, ''));
    if (inner.service) return { kind: 'nodeport', service: inner.service };
  }
  for (const { pattern, kind, hint } of COMMENT_PATTERNS) {
    if (!text.includes(hint)) continue;
    const match = pattern.exec(text);
    if (match) return { kind, service: match[1] };
  }
  return { kind: 'other' };
}

/** Splits `ns/name:port` into its parts. */
export function splitServiceId(id: string): { namespace: string; name: string; portName: string } {
  const slash = id.indexOf('/');
  const colon = id.indexOf(':', slash + 1);
  return {
    namespace: id.slice(0, slash),
    name: colon === -1 ? id.slice(slash + 1) : id.slice(slash + 1, colon),
    portName: colon === -1 ? '' : id.slice(colon + 1),
  };
}

/** kube-proxy's masquerade bit in the packet mark (its --masquerade-bit, 14 by default). */
export const MASQUERADE_MARK = 0x4000;
