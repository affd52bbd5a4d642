/**
 * kube-proxy's hashed chain names. pkg/proxy/iptables/proxier.go names a Service port's chains
 * PREFIX + the first 16 characters of base32(sha256(servicePortName + protocol)), and an endpoint's
 * chain KUBE-SEP- + the same over servicePortName + protocol + "ip:port"; protocol is lower case.
 */

import { createHash } from 'node:crypto';

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The first 16 characters of the standard (RFC 4648) base32 encoding of sha256(text): 80 bits. */
export function hash16(text: string): string {
  const digest = createHash('sha256').update(text).digest();
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (let i = 0; out.length < 16; i++) {
    buffer = ((buffer << 8) | (digest[i] as number)) & 0xffff;
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** `ns/name:port`, or `ns/name` when the port has no name (proxy.ServicePortName.String()). */
export function servicePortName(namespace: string, name: string, portName: string): string {
  return portName === '' ? `${namespace}/${name}` : `${namespace}/${name}:${portName}`;
}

export type ServiceChainPrefix = 'KUBE-SVC-' | 'KUBE-SVL-' | 'KUBE-EXT-' | 'KUBE-FW-';

export function serviceChainName(prefix: ServiceChainPrefix, portName: string, protocol: string): string {
  return prefix + hash16(portName + protocol);
}

export function endpointChainName(portName: string, protocol: string, endpoint: string): string {
  return 'KUBE-SEP-' + hash16(portName + protocol + endpoint);
}
