/**
 * Reads the fields of a Service entry rule (KUBE-SERVICES, KUBE-NODEPORTS, KUBE-EXTERNAL-SERVICES) straight from
 * its text when the line has the exact shape iptables-save prints for kube-proxy's rules. A node has one such rule
 * per Service port, and the tree's first level and the chain index read all of them; a full parse of each would
 * be most of the cost of opening a big snapshot. Lines of any other shape return undefined, and callers read the
 * parsed rule instead.
 */

/** `-d IP/32`, `-p proto`, `-m comment --comment …`, `-m addrtype --dst-type LOCAL`, `-m proto --dport N`, target. */
const ENTRY_RULE =
  /^-A \S+(?: -d (\d{1,3}(?:\.\d{1,3}){3})\/32)?(?: -p (tcp|udp|sctp))?(?: -m comment --comment (?:"([^"\\]*)"|([^\s"\\]+)))?( -m addrtype --dst-type LOCAL)?(?: -m (tcp|udp|sctp) --dport (\d{1,5}))? -j [^\s"]+(?: --reject-with [\w-]+)?$/;

export interface EntryRuleFields {
  /** The one destination address (`-d X/32`), when the rule has one. */
  readonly host: string | undefined;
  readonly protocol: 'tcp' | 'udp' | 'sctp' | undefined;
  readonly dport: number | undefined;
  /** The comment, unquoted. */
  readonly comment: string | undefined;
  /** `-m addrtype --dst-type LOCAL`: the rule matches any local address (a NodePort rule). */
  readonly localDestination: boolean;
}

export function readEntryRule(raw: string): EntryRuleFields | undefined {
  const match = ENTRY_RULE.exec(raw);
  if (!match) return undefined;
  const [, host, protocol, quoted, bare, addrtype, portModule, port] = match;
  // `-m udp --dport` under `-p tcp` is refused by iptables; leave such a line to the full reading.
  if (portModule !== undefined && portModule !== protocol) return undefined;
  return {
    host,
    protocol: protocol as EntryRuleFields['protocol'],
    dport: port === undefined ? undefined : Number(port),
    comment: quoted ?? bare,
    localDestination: addrtype !== undefined,
  };
}
