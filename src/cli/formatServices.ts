/**
 * The readable form of `netpath services`: one block per Service port with its addresses, policies and
 * endpoints with shares, then warnings.
 */

import type { Analysis } from '../core/analyze';
import { formatShare } from '../core/trace/explainRule';
import type { ServiceInfo } from '../core/services/model';
import { safeText } from './terminalText';

function addresses(service: ServiceInfo): string {
  const parts: string[] = [];
  if (service.clusterIP) parts.push(`ClusterIP ${service.clusterIP.ip}:${service.clusterIP.port}`);
  if (service.nodePort !== null) parts.push(`NodePort ${service.nodePort}`);
  for (const address of service.externalIPs) parts.push(`external ${address.ip}:${address.port}`);
  for (const address of service.loadBalancerIPs) parts.push(`LB ${address.ip}:${address.port}`);
  return parts.join(', ') || 'no address found';
}

export function formatServices(analysis: Analysis): string {
  const tree = analysis.services;
  const lines: string[] = [`Mode: ${tree.mode} (${analysis.modeReason})`, `${tree.services.length} Service ports`, ''];
  for (const service of tree.services) {
    lines.push(`${safeText(service.id)}  ${service.protocol}  ${addresses(service)}`);
    const policies: string[] = [];
    if (service.externalTrafficPolicy) policies.push(`externalTrafficPolicy ${service.externalTrafficPolicy}`);
    if (service.internalTrafficPolicy === 'Local') policies.push('internalTrafficPolicy Local');
    if (service.sessionAffinitySeconds !== null) policies.push(`session affinity ${service.sessionAffinitySeconds}s`);
    if (service.sourceRanges.length > 0) policies.push(`source ranges ${service.sourceRanges.join(', ')}`);
    if (policies.length > 0) lines.push(`    ${policies.join('; ')}`);
    for (const endpoint of service.endpoints) {
      const local = endpoint.local ? '  (on this node)' : '';
      const via = endpoint.chain ? `  via ${safeText(endpoint.chain)}` : '';
      lines.push(`    → ${endpoint.ip}:${endpoint.port}  ${formatShare(endpoint.share)}${via}${local}`);
    }
    for (const warning of service.warnings) lines.push(`    ! ${safeText(warning)}`);
  }
  if (tree.warnings.length > 0) {
    lines.push('', 'Warnings');
    for (const warning of tree.warnings) lines.push(`  ! ${safeText(warning)}`);
  }
  return `${lines.join('\n')}\n`;
}
