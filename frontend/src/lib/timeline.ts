// One IP's bans counted per time bucket for its timeline chart, from the API's per-day counts
// (every archived ban of the IP, not only the listed ones): zero-filled buckets from the day of
// its first archived ban (at least MIN_DAYS back) to today, one day wide, or wider (whole weeks,
// then multiples of them) so that there are never more than MAX_BUCKETS bars. Pure; no React.

export const MAX_BUCKETS = 60;
export const MIN_DAYS = 14;
const DAY = 86_400;

export interface Buckets {
  bucket_seconds: number;
  buckets: { start: string; count: number }[];
}

/** One UTC day's bans as the API reports them (`day` is `YYYY-MM-DD`). */
export interface DayCount {
  day: string;
  bans: number;
}

/** Sums `days` per bucket, the last bucket holding `now`. */
export function dayBuckets(days: readonly DayCount[], now: Date = new Date()): Buckets {
  const points = days
    .map((d) => [Math.floor(Date.parse(`${d.day}T00:00:00Z`) / 1000), d.bans] as const)
    .filter(([s, n]) => Number.isFinite(s) && n > 0);
  if (points.length === 0) return { bucket_seconds: DAY, buckets: [] };
  const secs = points.map(([s]) => s);
  const nowS = Math.floor(now.getTime() / 1000);
  const today = Math.floor(nowS / DAY) * DAY;
  // At least MIN_DAYS days, so that a single ban is a bar among days, not the whole chart.
  const first = Math.min(Math.floor(Math.min(...secs, nowS) / DAY) * DAY, today - (MIN_DAYS - 1) * DAY);
  const span = (today - first) / DAY + 1;
  const width = span <= MAX_BUCKETS ? DAY : Math.ceil(span / MAX_BUCKETS / 7) * 7 * DAY;
  const n = Math.ceil((today + DAY - first) / width);
  // Buckets end with the one holding today.
  const start = today + DAY - n * width;
  const counts = new Array<number>(n).fill(0);
  for (const [s, bans] of points) {
    const i = Math.floor((s - start) / width);
    if (i >= 0 && i < n) counts[i]! += bans;
  }
  return {
    bucket_seconds: width,
    buckets: counts.map((count, i) => ({ start: new Date((start + i * width) * 1000).toISOString(), count })),
  };
}
