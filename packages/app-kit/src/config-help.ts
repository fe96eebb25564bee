import type { ConfigField } from './config-fields.js';

/** `text` for `--help` output, `markdown` for a README configuration table. */
export type ConfigTableFormat = 'text' | 'markdown';

function formatDefault(field: ConfigField): string {
  if (!field.hasDefault) return field.required ? '(required)' : '';
  const value = field.defaultValue;
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  return JSON.stringify(value) ?? '';
}

/**
 * Renders the settings as a table with the columns setting, flag, env, default and meaning (the
 * schema's `.describe()` text), one row per setting in schema order. Text is column-aligned with two
 * spaces between columns; markdown is a GitHub table with code spans, ready to paste into a README.
 */
export function renderConfigTable(fields: readonly ConfigField[], format: ConfigTableFormat = 'text'): string {
  const md = format === 'markdown';
  const code = (s: string | undefined): string => (s === undefined || s === '' ? '' : md ? `\`${s}\`` : s);
  const header = ['setting', 'flag', 'env', 'default', 'meaning'];
  const rows = fields.map((f) => [
    code(f.key),
    code(f.flag === undefined ? undefined : `${f.flag}${f.valueName === '' ? '' : ` ${f.valueName}`}`),
    code(f.env),
    code(formatDefault(f)),
    // A pipe would end the markdown cell early.
    (f.description ?? '').replace(/\|/g, md ? '\\|' : '|'),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const pad = (cells: readonly string[]): string[] => cells.map((c, i) => c.padEnd(widths[i]!));
  if (md) {
    const line = (cells: readonly string[]): string => `| ${pad(cells).join(' | ')} |`;
    return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
  }
  return [header, ...rows].map((cells) => pad(cells).join('  ').trimEnd()).join('\n');
}
