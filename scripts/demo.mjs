// `npm start`: runs the netpath CLI on every sample snapshot shipped in samples/: lists the Services, then traces
// a ClusterIP packet from a client outside the cluster and a NodePort packet to the node's own address.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const cli = join('dist', 'cli.js');
const run = (args) => execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const rule = (title) => console.log(`\n${'='.repeat(100)}\n${title}\n${'='.repeat(100)}`);

/** The node's own address: the first local route that is neither loopback nor a kube-ipvs0 service address. */
function nodeAddress(folder) {
  const path = join(folder, 'route-local.txt');
  if (!existsSync(path)) return undefined;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^local (\d+\.\d+\.\d+\.\d+) dev (\S+)/.exec(line.trim());
    if (match && !match[1].startsWith('127.') && match[2] !== 'kube-ipvs0') return match[1];
  }
  return undefined;
}

for (const name of readdirSync('samples').sort()) {
  const folder = join('samples', name);
  if (!existsSync(join(folder, 'route-local.txt'))) continue;
  rule(`Sample ${folder}: netpath services ${folder}`);
  console.log(run(['services', folder]));
  const { services } = JSON.parse(run(['services', folder, '--json']));
  const withEndpoints = services.filter((service) => service.endpoints.length > 0);
  const clusterIp = withEndpoints.find((service) => service.clusterIP && service.endpoints.length > 1) ?? withEndpoints.find((s) => s.clusterIP);
  if (clusterIp) {
    const args = ['trace', folder, '--dst', clusterIp.clusterIP.ip, '--dport', String(clusterIp.clusterIP.port), '--proto', clusterIp.protocol];
    rule(`ClusterIP: netpath ${args.join(' ')}`);
    console.log(run(args));
  }
  const nodePort = withEndpoints.find((service) => service.nodePort !== null);
  const node = nodeAddress(folder);
  if (nodePort && node) {
    const args = ['trace', folder, '--dst', node, '--dport', String(nodePort.nodePort), '--proto', nodePort.protocol];
    rule(`NodePort: netpath ${args.join(' ')}`);
    console.log(run(args));
  }
}
