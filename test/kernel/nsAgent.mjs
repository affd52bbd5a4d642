// A small agent that runs inside one network namespace of the kernel agreement tests. It is plain
// JavaScript so that `ip netns exec NS node nsAgent.mjs` starts in a few milliseconds without a loader.
// With `--listen PORT` it is a "pod": every TCP connection, and every UDP datagram to the same port, gets one
// line back, `<name> <peer address>`, so the prober learns which pod answered and whether the source address
// was rewritten on the way.
// It always reads JSON requests from stdin, one per line, and answers each with one JSON line on stdout:
//   { "id": 1, "op": "probe", "proto": "tcp", "host": "10.96.0.10", "port": 80, "count": 30, "concurrency": 6,
//     "timeoutMs": 2000, "answerMs": 8000 }
//   → { "id": 1, "results": [ { "outcome": "answered", "pod": "pod-a", "peer": "10.244.1.1", "local": "…" }, … ] }
// Outcomes: answered, refused (ECONNREFUSED: an RST, or an ICMP port unreachable, which a connected UDP
// socket reports too), timeout, error.
import dgram from 'node:dgram';
import net from 'node:net';
import readline from 'node:readline';

const args = process.argv.slice(2);
const name = valueOf('--name') ?? 'agent';
const listenPort = valueOf('--listen');

function valueOf(flag) {
  const index = args.indexOf(flag);
  return index >= 0 && index + 1 < args.length ? args[index + 1] : undefined;
}

/**
 * A deadline that yields to pending I/O first: libuv runs timers before it polls, so on a busy machine a
 * timer can come due while the event that beats it (a finished handshake, an answer) is already waiting.
 * Deferring the callback with setImmediate lets that event be handled first.
 */
function deadline(ms, callback) {
  const pending = { cancelled: false, timer: undefined };
  pending.timer = setTimeout(() => setImmediate(() => pending.cancelled || callback()), ms);
  return pending;
}

function cancel(pending) {
  pending.cancelled = true;
  clearTimeout(pending.timer);
}

function say(object) {
  process.stdout.write(`${JSON.stringify(object)}\n`);
}

/**
 * Opens one connection and reports what came of it. A connection not established within timeoutMs is a
 * timeout; once established, the pod's answer may take up to answerMs (a busy machine schedules the pod's
 * agent late), and a missing answer is an error, never mistaken for a drop.
 */
function connectOnce(host, port, timeoutMs, answerMs) {
  return new Promise((resolve) => {
    let settled = false;
    let received = '';
    const socket = net.connect({ host, port });
    const finish = (result) => {
      if (settled) return;
      settled = true;
      cancel(timer);
      socket.destroy();
      resolve(result);
    };
    let timer = deadline(timeoutMs, () => finish({ outcome: 'timeout' }));
    socket.on('connect', () => {
      cancel(timer);
      timer = deadline(answerMs, () => finish({ outcome: 'error', code: 'connected but no answer' }));
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      received += chunk;
      if (received.length > 512) finish({ outcome: 'error', code: 'answer too long' });
    });
    socket.on('end', () => {
      const [pod = '', peer = ''] = received.trim().split(' ');
      finish({ outcome: 'answered', pod, peer, local: socket.localAddress ?? '' });
    });
    socket.on('error', (error) => {
      finish(error.code === 'ECONNREFUSED' ? { outcome: 'refused' } : { outcome: 'error', code: String(error.code ?? error.message) });
    });
  });
}

/**
 * Sends one datagram from a fresh connected UDP socket (a new source port, so a new conntrack entry). UDP
 * has no handshake to tell a drop from a late answer, so it waits the longer answerMs before a timeout.
 */
function datagramOnce(host, port, _timeoutMs, answerMs) {
  return new Promise((resolve) => {
    let settled = false;
    const socket = dgram.createSocket('udp4');
    const finish = (result) => {
      if (settled) return;
      settled = true;
      cancel(timer);
      socket.close();
      resolve(result);
    };
    const timer = deadline(answerMs, () => finish({ outcome: 'timeout' }));
    socket.on('message', (message) => {
      const [pod = '', peer = ''] = String(message).trim().split(' ');
      let local = '';
      try {
        local = socket.address().address;
      } catch {
        // The socket is already closing; the address is only informative.
      }
      finish({ outcome: 'answered', pod, peer, local });
    });
    socket.on('error', (error) => {
      finish(error.code === 'ECONNREFUSED' ? { outcome: 'refused' } : { outcome: 'error', code: String(error.code ?? error.message) });
    });
    socket.connect(port, host, () => socket.send('probe'));
  });
}

async function probe(request) {
  const count = Math.max(0, Math.min(Number(request.count) || 0, 200));
  const concurrency = Math.max(1, Math.min(Number(request.concurrency) || 1, 16));
  const timeoutMs = Math.max(100, Math.min(Number(request.timeoutMs) || 2000, 10000));
  const answerMs = Math.max(100, Math.min(Number(request.answerMs) || 8000, 30000));
  const results = [];
  let started = 0;
  async function worker() {
    while (started < count) {
      started += 1;
      const once = request.proto === 'udp' ? datagramOnce : connectOnce;
      results.push(await once(String(request.host), Number(request.port), timeoutMs, answerMs));
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

function serve(port) {
  const tcp = new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      socket.on('error', () => socket.destroy());
      socket.end(`${name} ${socket.remoteAddress}\n`);
    });
    server.on('error', reject);
    server.listen(Number(port), '0.0.0.0', () => resolve(server));
  });
  const udp = new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.on('error', reject);
    socket.on('message', (_message, peer) => socket.send(`${name} ${peer.address}\n`, peer.port, peer.address));
    socket.bind(Number(port), '0.0.0.0', () => resolve(socket));
  });
  return Promise.all([tcp, udp]);
}

async function main() {
  if (listenPort !== undefined) await serve(listenPort);
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', async (line) => {
    let request;
    try {
      request = JSON.parse(line);
    } catch {
      say({ id: null, error: 'request is not JSON' });
      return;
    }
    if (request.op === 'probe') say({ id: request.id, results: await probe(request) });
    else say({ id: request.id, error: `unknown op ${String(request.op)}` });
  });
  // The harness closes stdin to stop the agent; this also ends it when the test process dies.
  lines.on('close', () => process.exit(0));
  say({ ready: name });
}

main().catch((error) => {
  say({ fatal: String(error && error.message ? error.message : error) });
  process.exit(1);
});
