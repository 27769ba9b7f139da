import { bullmqFloorMs, measureRollout } from './rollout.js';
const n = Number(process.argv[2] ?? 2000);
const floor = await bullmqFloorMs(n);
console.log('floor', n, Math.round(floor));
const r = await measureRollout(n, '100%');
console.log('rollout', n, Math.round(r.ms), 'ratio', (r.ms / floor).toFixed(2));
process.exit(0);
