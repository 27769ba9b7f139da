/**
 * Runs `parseManifests` on each JSON-encoded text of stdin (an array of strings) and prints, per
 * text, how long it took and the errors. Spawned by parse.test.ts with a wall-clock timeout and a
 * small heap, so a parser that hangs or blows up memory fails the test instead of the test run.
 */
import { parseManifests } from '../../../src/manifest/index.js';

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  input += chunk;
});
process.stdin.on('end', () => {
  const texts = JSON.parse(input) as string[];
  const results = texts.map((text) => {
    const started = performance.now();
    const result = parseManifests(text, { file: 'bomb.yaml' });
    return {
      ms: performance.now() - started,
      errors: result.errors.map(({ code, line, column, message }) => ({ code, line, column, message })),
    };
  });
  process.stdout.write(JSON.stringify(results));
});
