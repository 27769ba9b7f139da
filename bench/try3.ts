import { measureWebhook } from './webhook.js';
const r = await measureWebhook(20);
console.log(r.p50, r.p99, r.samples.join(' '));
process.exit(0);
