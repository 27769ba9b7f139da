import { measureRss } from './rss.js';
const t = performance.now();
console.log(await measureRss(), Math.round(performance.now() - t), 'ms');
process.exit(0);
