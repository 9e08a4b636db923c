// World choropleth: bundled world-atlas 110m geometry (never fetched at run time), countries
// coloured by ban count against three thresholds, a tooltip per country, click/Enter to select.
// Countries the atlas has no shape for (Bahrain, Singapore, Malta, …) are drawn as dots at the
// centres in lib/centroids.ts; a country with bans that can be neither drawn nor dotted is listed
// under the map. For the keyboard the map is one tab stop: arrow keys move between the countries
// with bans (most bans first), Enter or Space selects. Presentation only; data from the caller.
import { geoEqualEarth, geoPath } from 'd3-geo';
import { feature } from 'topojson-client';
import type { Feature, FeatureCollection, Geometry } from 'geojson';
import type { GeometryCollection, Topology } from 'topojson-specification';
import atlas from 'world-atlas/countries-110m.json';
import { useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { MARKER_CENTROIDS } from '../lib/centroids';
import { alpha2ForFeature } from '../lib/countries';
import { countryName, formatBans, formatCount, thresholdLevel } from '../lib/format';

const WIDTH = 960;
const HEIGHT = 440;
const MARKER_R = 5;

interface Shape { key: string; code: string | null; name: string; d: string }
interface Geometry2D { shapes: Shape[]; dots: Record<string, [number, number]> }

function buildGeometry(): Geometry2D {
  const topo = atlas as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>;
  const all = feature(topo, topo.objects.countries) as FeatureCollection<Geometry, { name: string }>;
  // Antarctica gets no bans worth a third of the map's height (it is listed if it ever has some).
  const fc: FeatureCollection<Geometry, { name: string }> = {
    ...all,
    features: all.features.filter((f: Feature<Geometry, { name: string }>) => f.properties.name !== 'Antarctica'),
  };
  const projection = geoEqualEarth().fitSize([WIDTH, HEIGHT], fc);
  const path = geoPath(projection);
  const shapes = fc.features.map((f, i) => ({
    key: `${f.id ?? 'x'}-${i}`,
    code: alpha2ForFeature(f.id, f.properties.name),
    name: f.properties.name,
    d: path(f) ?? '',
  }));
  const dots: Record<string, [number, number]> = {};
  for (const [code, [lat, lon]] of Object.entries(MARKER_CENTROIDS)) {
    const p = projection([lon, lat]);
    if (p && p[0] >= 0 && p[0] <= WIDTH && p[1] >= 0 && p[1] <= HEIGHT) dots[code] = [p[0], p[1]];
  }
  return { shapes, dots };
}

/** Legend text of one colour step: "10–49", or "3" when the step holds one value. */
function span(lo: number, hi: number): string {
  return hi <= lo ? formatCount(lo) : `${formatCount(lo)}–${formatCount(hi)}`;
}

let geometry: Geometry2D | null = null;
/** Projected shapes and dot positions, computed once per page load. */
export function mapGeometry(): Geometry2D {
  geometry ??= buildGeometry();
  return geometry;
}

/** Codes with bans that the map can draw neither as a shape nor as a dot. */
export function undrawableCodes(counts: Record<string, number>): string[] {
  const { shapes, dots } = mapGeometry();
  const drawn = new Set(shapes.map((s) => s.code).filter((c): c is string => c !== null));
  return Object.keys(counts).filter((c) => (counts[c] ?? 0) > 0 && !drawn.has(c) && !dots[c]).sort();
}

export interface WorldMapProps {
  counts: Record<string, number>;
  names?: Record<string, string>;
  thresholds: [number, number, number];
  selected?: string | null;
  onSelect?: (code: string) => void;
}

export function WorldMap({ counts, names = {}, thresholds, selected, onSelect }: WorldMapProps) {
  const { shapes, dots } = useMemo(mapGeometry, []);
  const wrap = useRef<HTMLDivElement>(null);
  const [tip, setTip] = useState<{ x: number; y: number; text: string } | null>(null);
  const nameOf = (code: string, fallback?: string) => countryName(code, names[code] ?? fallback);
  const countOf = (code: string | null) => (code ? counts[code] ?? 0 : 0);
  const drawnCodes = useMemo(() => new Set(shapes.map((s) => s.code)), [shapes]);
  const dotCodes = Object.keys(dots).filter((c) => countOf(c) > 0 && !drawnCodes.has(c));
  const undrawn = undrawableCodes(counts);

  // Keyboard order: countries with bans, most first; one of them holds the tab stop.
  const order = Object.keys(counts).filter((c) => countOf(c) > 0 && (drawnCodes.has(c) || dots[c]))
    .sort((a, b) => countOf(b) - countOf(a) || a.localeCompare(b));
  const [focusCode, setFocusCode] = useState<string | null>(null);
  const tabStop = (focusCode && order.includes(focusCode) ? focusCode : null) ?? (selected && order.includes(selected) ? selected : null) ?? order[0] ?? null;

  const tipFor = (code: string | null, fallbackName: string, el: Element, atPointer?: { x: number; y: number }) => {
    const outer = wrap.current?.getBoundingClientRect();
    const box = el.getBoundingClientRect();
    const x = atPointer ? atPointer.x - (outer?.left ?? 0) : box.left - (outer?.left ?? 0) + box.width / 2;
    const y = atPointer ? atPointer.y - (outer?.top ?? 0) : box.top - (outer?.top ?? 0) + box.height / 2;
    const nm = code ? nameOf(code, fallbackName) : fallbackName;
    setTip({ x, y, text: `${nm}: ${formatBans(countOf(code))}` });
  };

  const onKey = (e: KeyboardEvent<SVGElement>, code: string) => {
    const i = order.indexOf(code);
    let next: string | undefined;
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown') next = order[(i + 1) % order.length];
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') next = order[(i - 1 + order.length) % order.length];
    else if (e.key === 'Home') next = order[0];
    else if (e.key === 'End') next = order[order.length - 1];
    else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onSelect?.(code);
      return;
    }
    if (next) {
      e.preventDefault();
      setFocusCode(next);
      wrap.current?.querySelector<SVGElement>(`[data-country="${next}"][tabindex]`)?.focus();
    }
  };

  const interactiveProps = (code: string, fallbackName: string) => {
    const count = countOf(code);
    if (!onSelect || count <= 0) return {};
    return {
      tabIndex: code === tabStop ? 0 : -1,
      role: 'button',
      'aria-label': `${nameOf(code, fallbackName)}: ${formatBans(count)}`,
      'aria-pressed': code === selected,
      onClick: () => onSelect(code),
      onKeyDown: (e: KeyboardEvent<SVGElement>) => onKey(e, code),
      onFocus: (e: React.FocusEvent<SVGElement>) => { setFocusCode(code); tipFor(code, fallbackName, e.currentTarget); },
      onBlur: () => setTip(null),
    } as const;
  };

  return (
    <div className="map-wrap" ref={wrap}>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} className="worldmap" role="group"
        aria-label="World map of bans by country; use the arrow keys to move between countries with bans" data-testid="world-map">
        {shapes.map((s) => {
          const count = countOf(s.code);
          const level = thresholdLevel(count, thresholds);
          return (
            <path
              key={s.key}
              d={s.d}
              className={`country level-${level}${s.code && s.code === selected ? ' selected' : ''}`}
              data-country={s.code ?? undefined}
              data-count={count}
              data-level={level}
              onMouseMove={(e) => tipFor(s.code, s.name, e.currentTarget, { x: e.clientX, y: e.clientY })}
              onMouseLeave={() => setTip(null)}
              {...(s.code ? interactiveProps(s.code, s.name) : {})}
            />
          );
        })}
        {dotCodes.map((code) => {
          const [cx, cy] = dots[code]!;
          const count = countOf(code);
          const level = thresholdLevel(count, thresholds);
          return (
            <circle key={code} cx={cx} cy={cy} r={MARKER_R}
              className={`country marker level-${level}${code === selected ? ' selected' : ''}`}
              data-country={code} data-count={count} data-level={level} data-marker="true"
              onMouseMove={(e) => tipFor(code, code, e.currentTarget, { x: e.clientX, y: e.clientY })}
              onMouseLeave={() => setTip(null)}
              {...interactiveProps(code, code)} />
          );
        })}
      </svg>
      {tip && (
        <div className="map-tip" role="tooltip" style={{ left: tip.x + 12, top: tip.y + 12 }}>{tip.text}</div>
      )}
      <ul className="legend" aria-label="Legend">
        <li><span className="swatch level-0" /> 0</li>
        <li><span className="swatch level-1" /> {span(1, thresholds[0] - 1)}</li>
        <li><span className="swatch level-2" /> {span(thresholds[0], thresholds[1] - 1)}</li>
        <li><span className="swatch level-3" /> {span(thresholds[1], thresholds[2] - 1)}</li>
        <li><span className="swatch level-4" /> ≥ {formatCount(thresholds[2])}</li>
        {dotCodes.length > 0 && <li><span className="dot-key" aria-hidden="true" /> small country (dot)</li>}
      </ul>
      {undrawn.length > 0 && (
        <p className="small" data-testid="map-undrawn">
          Not drawn on the map:{' '}
          {undrawn.map((c, i) => (
            <span key={c} data-country={c} data-count={countOf(c)}>
              {i > 0 && ', '}
              {onSelect ? <button type="button" className="link" onClick={() => onSelect(c)}>{nameOf(c)} ({formatCount(countOf(c))})</button>
                : <>{nameOf(c)} ({formatCount(countOf(c))})</>}
            </span>
          ))}
        </p>
      )}
    </div>
  );
}
