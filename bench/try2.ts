import { measureRebuild, measureScan } from './git.js';
console.log(await measureScan(5));
console.log(await measureRebuild());
process.exit(0);
