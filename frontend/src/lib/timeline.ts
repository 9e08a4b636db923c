// One IP's bans counted per time bucket for its timeline chart: zero-filled buckets from the
// day of its first archived ban (at least MIN_DAYS back) to today, one day wide, or wider (whole weeks, then multiples of
// them) so that there are never more than MAX_BUCKETS bars. Pure; no React.

export const MAX_BUCKETS = 60;
export const MIN_DAYS = 14;
const DAY = 86_400;

export interface Buckets {
  bucket_seconds: number;
  buckets: { start: string; count: number }[];
}

/** Counts `times` (RFC 3339 ban starts) per bucket, the last bucket holding `now`. */
export function banBuckets(times: readonly string[], now: Date = new Date()): Buckets {
  const secs = times.map((t) => Math.floor(new Date(t).getTime() / 1000)).filter((s) => Number.isFinite(s));
  if (secs.length === 0) return { bucket_seconds: DAY, buckets: [] };
  const nowS = Math.floor(now.getTime() / 1000);
  const today = Math.floor(nowS / DAY) * DAY;
  // At least MIN_DAYS days, so that a single ban is a bar among days, not the whole chart.
  const first = Math.min(Math.floor(Math.min(...secs, nowS) / DAY) * DAY, today - (MIN_DAYS - 1) * DAY);
  const days = (today - first) / DAY + 1;
  const width = days <= MAX_BUCKETS ? DAY : Math.ceil(days / MAX_BUCKETS / 7) * 7 * DAY;
  const n = Math.ceil((today + DAY - first) / width);
  // Buckets end with the one holding today.
  const start = today + DAY - n * width;
  const counts = new Array<number>(n).fill(0);
  for (const s of secs) {
    const i = Math.floor((s - start) / width);
    if (i >= 0 && i < n) counts[i]! += 1;
  }
  return {
    bucket_seconds: width,
    buckets: counts.map((count, i) => ({ start: new Date((start + i * width) * 1000).toISOString(), count })),
  };
}
