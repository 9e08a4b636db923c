// The map's colour steps must stay apart for colour-blind users and in both themes: adjacent
// steps differ in relative luminance by at least 1.5:1, and status badge text reaches 4.5:1.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
const css = readFileSync(join(here, '../styles.css'), 'utf8');
const darkBlock = css.slice(css.indexOf('@media (prefers-color-scheme: dark)'));
const lightBlock = css.slice(0, css.indexOf('@media (prefers-color-scheme: dark)'));

function varOf(block: string, name: string): string {
  const m = block.match(new RegExp(`--${name}:\\s*(#[0-9a-fA-F]{6})`));
  if (!m) throw new Error(`--${name} not found`);
  return m[1]!;
}
function luminance(hex: string): number {
  const ch = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * ch[0]! + 0.7152 * ch[1]! + 0.0722 * ch[2]!;
}
function ratio(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x! + 0.05) / (y! + 0.05);
}

describe('map palette', () => {
  for (const [theme, block] of [['light', lightBlock], ['dark', darkBlock]] as const) {
    it(`keeps adjacent steps at least 1.5:1 apart in the ${theme} theme`, () => {
      const steps = [0, 1, 2, 3, 4].map((i) => varOf(block, `map-${i}`));
      for (let i = 0; i < 4; i++) expect(ratio(steps[i]!, steps[i + 1]!)).toBeGreaterThanOrEqual(1.5);
    });
  }
  it('gives the green "ok" text at least 4.5:1 on white', () => {
    expect(ratio(varOf(lightBlock, 'ok'), '#ffffff')).toBeGreaterThanOrEqual(4.5);
  });
});
