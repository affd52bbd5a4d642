// A stand-in analysis worker for analysisClient.test.ts: echoes each request's arguments, and exits the thread
// (as a crash would) when asked to open a folder.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', (request) => {
  if (request.method === 'open') process.exit(3);
  parentPort.postMessage({ id: request.id, json: JSON.stringify(request.args) });
});
