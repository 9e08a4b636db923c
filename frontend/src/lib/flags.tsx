// Country flags as bundled SVG images (the country-flag-icons package, 3:2), never emoji: emoji
// flags render as empty boxes on Windows and on machines without an emoji font. Each flag is a
// separate hashed asset the browser loads only when a flag is shown. Presentation only.
const FLAG_URLS: Record<string, string> = Object.fromEntries(
  Object.entries(
    import.meta.glob<string>('../../node_modules/country-flag-icons/3x2/*.svg', { query: '?url', import: 'default', eager: true }),
  ).map(([path, url]) => [path.slice(path.lastIndexOf('/') + 1, -4), url]),
);

/** URL of the bundled flag for an alpha-2 code, or null when the package has none. */
export function flagUrl(code: string | null | undefined): string | null {
  if (!code || !/^[A-Za-z]{2}$/.test(code)) return null;
  return FLAG_URLS[code.toUpperCase()] ?? null;
}

/** Decorative flag next to a country name (the name carries the meaning, so no alt text). */
export function Flag({ code }: { code: string | null | undefined }) {
  const url = flagUrl(code);
  if (!url) return null;
  return <img className="flag" src={url} alt="" aria-hidden="true" width={18} height={12} loading="lazy" decoding="async" />;
}
