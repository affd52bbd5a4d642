/**
 * `netpath trace <dir> --dst <ip> --dport <port> [--proto tcp|udp|sctp] [--src <ip>] [--sport <port>] [--json]`:
 * where a new connection's first packet goes on the node, with the JSON contract of DESIGN.md.
 */

import { parseArgs } from 'node:util';
import { parseIPv4 } from '../core/net/ipv4';
import type { Packet, Protocol } from '../core/trace/result';
import { tracePacket } from '../core/trace/tracePacket';
import { formatTrace } from './formatTrace';
import { CliError, type CliIo } from './io';
import { loadAnalysis } from './loadAnalysis';
import { safeJson } from './terminalText';

export const TRACE_USAGE =
  'usage: netpath trace <dir> --dst <ip> --dport <port> [--proto tcp|udp|sctp] [--src <ip>] [--sport <port>] [--json]';

/** A client outside the cluster (TEST-NET-3), used when --src is not given. */
export const DEFAULT_SOURCE = '203.0.113.10';
export const DEFAULT_SOURCE_PORT = 40000;

function readAddress(value: string | undefined, flag: string): string {
  if (value === undefined) throw new CliError(`trace needs ${flag} (${TRACE_USAGE}).`);
  if (parseIPv4(value) === undefined) {
    throw new CliError(
      value.includes(':')
        ? `${flag} ${value}: IPv6 tracing is not supported yet; give an IPv4 address.`
        : `${flag} ${value} is not an IPv4 address.`,
    );
  }
  return value;
}

function readPort(value: string | undefined, flag: string, fallback?: number): number {
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw new CliError(`trace needs ${flag} (${TRACE_USAGE}).`);
  }
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) throw new CliError(`${flag} ${value} is not a port between 1 and 65535.`);
  return port;
}

export function parseTraceArgs(args: string[]): { folder: string; packet: Packet; json: boolean; sourceGiven: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        dst: { type: 'string' },
        dport: { type: 'string' },
        proto: { type: 'string' },
        src: { type: 'string' },
        sport: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new CliError(`${(error as Error).message} (${TRACE_USAGE})`);
  }
  const [folder, ...extra] = parsed.positionals;
  if (!folder || extra.length > 0) throw new CliError(`trace needs exactly one snapshot folder (${TRACE_USAGE}).`);
  const proto = (parsed.values.proto ?? 'tcp').toLowerCase();
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw new CliError(`--proto ${proto}: use tcp, udp or sctp.`);
  const packet: Packet = {
    src: parsed.values.src === undefined ? DEFAULT_SOURCE : readAddress(parsed.values.src, '--src'),
    dst: readAddress(parsed.values.dst, '--dst'),
    proto: proto as Protocol,
    sport: readPort(parsed.values.sport, '--sport', DEFAULT_SOURCE_PORT),
    dport: readPort(parsed.values.dport, '--dport'),
  };
  return { folder, packet, json: parsed.values.json ?? false, sourceGiven: parsed.values.src !== undefined };
}

export async function runTrace(args: string[], io: CliIo): Promise<number> {
  const { folder, packet, json, sourceGiven } = parseTraceArgs(args);
  const analysis = await loadAnalysis(folder, io);
  const result = tracePacket(analysis, packet);
  if (!sourceGiven) result.assumptions.unshift(`the source is ${DEFAULT_SOURCE}, a client outside the cluster (no --src given)`);
  io.stdout(json ? `${safeJson(result)}\n` : formatTrace(result));
  return 0;
}
