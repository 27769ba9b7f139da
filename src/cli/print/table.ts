/**
 * kubectl's table printer layout (`get`): columns separated so each is as wide as its widest cell plus 3 spaces; the
 * last column is not padded. Same algorithm as kubectl's tab writer, with padding 3 (daemonset-semantics.md §12.1).
 */
import { alignTabbed } from './tab-writer.js';

/** Rows (the header first) as aligned text, one line per row, ending with a newline. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  return `${alignTabbed(
    rows.map((r) => r.map((cell) => cell.replace(/[\t\n]/g, ' ')).join('\t')),
    3,
  ).join('\n')}\n`;
}
