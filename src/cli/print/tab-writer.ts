/**
 * Go's `text/tabwriter` as kubectl configures it (minwidth 0, padding 2, pad with spaces): each
 * `\t` ends a cell; consecutive lines with a cell in the same column form a block whose cells are
 * padded to the block's widest cell plus `padding`. Text after the last tab is never padded, and a
 * line without a tab ends every block (daemonset-semantics.md §12.2).
 */

/** Aligns `lines` (each may contain `\t`) and returns them without tabs. */
export function alignTabbed(lines: readonly string[], padding = 2): string[] {
  const cells = lines.map((l) => l.split('\t'));
  const out: string[] = [];
  const widths: number[] = [];

  const write = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const line = cells[i]!;
      let text = '';
      line.forEach((cell, j) => {
        const last = j === line.length - 1;
        text += cell;
        if (!last && j < widths.length) text += ' '.repeat(Math.max(0, widths[j]! - width(cell)));
      });
      out.push(text);
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    let start = line0;
    for (let i = line0; i < line1; i++) {
      if (column >= cells[i]!.length - 1) continue;
      write(start, i);
      start = i;
      let w = 0;
      let end = i;
      for (; end < line1; end++) {
        const line = cells[end]!;
        if (column >= line.length - 1) break;
        w = Math.max(w, width(line[column]!) + padding);
      }
      widths.push(w);
      format(start, end);
      widths.pop();
      start = end;
      i = end - 1;
    }
    write(start, line1);
  };

  format(0, cells.length);
  return out;
}

function width(text: string): number {
  return [...text].length;
}
