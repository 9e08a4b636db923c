// World choropleth: bundled world-atlas 110m geometry (never fetched at run time), countries
// coloured by ban count against three thresholds, a tooltip per country, click/Enter to select.
// Presentation only; counts and thresholds come from the caller.
import { geoEqualEarth, geoPath } from 'd3-geo';
import { feature } from 'topojson-client';
import type { Feature, FeatureCollection, Geometry } from 'geojson';
import type { GeometryCollection, Topology } from 'topojson-specification';
import atlas from 'world-atlas/countries-110m.json';
import { useMemo, useState } from 'react';
import { alpha2ForFeature } from '../lib/countries';
import { countryName, formatCount, thresholdLevel } from '../lib/format';

const WIDTH = 960;
const HEIGHT = 440;

interface Shape { key: string; code: string | null; name: string; d: string }

function buildShapes(): Shape[] {
  const topo = atlas as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>;
  const all = feature(topo, topo.objects.countries) as FeatureCollection<Geometry, { name: string }>;
  // Antarctica gets no bans worth a third of the map's height.
  const fc: FeatureCollection<Geometry, { name: string }> = {
    ...all,
    features: all.features.filter((f: Feature<Geometry, { name: string }>) => f.properties.name !== 'Antarctica'),
  };
  const projection = geoEqualEarth().fitSize([WIDTH, HEIGHT], fc);
  const path = geoPath(projection);
  return fc.features
    .map((f, i) => ({
      key: `${f.id ?? 'x'}-${i}`,
      code: alpha2ForFeature(f.id, f.properties.name),
      name: f.properties.name,
      d: path(f) ?? '',
    }));
}

export interface WorldMapProps {
  counts: Record<string, number>;
  names?: Record<string, string>;
  thresholds: [number, number, number];
  selected?: string | null;
  onSelect?: (code: string) => void;
}

export function WorldMap({ counts, names = {}, thresholds, selected, onSelect }: WorldMapProps) {
  const shapes = useMemo(buildShapes, []);
  const [tip, setTip] = useState<{ x: number; y: number; text: string } | null>(null);

  const show = (s: Shape, x: number, y: number) => {
    const count = s.code ? counts[s.code] ?? 0 : 0;
    const nm = s.code ? countryName(s.code, names[s.code] ?? s.name) : s.name;
    setTip({ x, y, text: `${nm}: ${formatCount(count)} ban${count === 1 ? '' : 's'}` });
  };

  return (
    <div className="map-wrap">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} className="worldmap" role="group" aria-label="World map of bans by country" data-testid="world-map">
        {shapes.map((s) => {
          const count = s.code ? counts[s.code] ?? 0 : 0;
          const level = thresholdLevel(count, thresholds);
          const interactive = !!(s.code && onSelect && count > 0);
          return (
            <path
              key={s.key}
              d={s.d}
              className={`country level-${level}${s.code && s.code === selected ? ' selected' : ''}`}
              data-country={s.code ?? undefined}
              data-count={count}
              data-level={level}
              tabIndex={interactive ? 0 : undefined}
              role={interactive ? 'button' : undefined}
              aria-label={interactive ? `${countryName(s.code, names[s.code ?? ''] ?? s.name)}: ${count} bans` : undefined}
              onMouseMove={(e) => {
                const box = (e.currentTarget.ownerSVGElement ?? e.currentTarget).getBoundingClientRect();
                show(s, e.clientX - box.left, e.clientY - box.top);
              }}
              onMouseLeave={() => setTip(null)}
              onFocus={(e) => {
                const svg = e.currentTarget.ownerSVGElement;
                const box = e.currentTarget.getBoundingClientRect();
                const outer = svg?.getBoundingClientRect();
                show(s, box.left - (outer?.left ?? 0) + box.width / 2, box.top - (outer?.top ?? 0));
              }}
              onBlur={() => setTip(null)}
              onClick={() => { if (interactive && s.code) onSelect?.(s.code); }}
              onKeyDown={(e) => {
                if (interactive && s.code && (e.key === 'Enter' || e.key === ' ')) {
                  e.preventDefault();
                  onSelect?.(s.code);
                }
              }}
            />
          );
        })}
      </svg>
      {tip && (
        <div className="map-tip" role="tooltip" style={{ left: tip.x + 12, top: tip.y + 12 }}>{tip.text}</div>
      )}
      <ul className="legend" aria-label="Legend">
        <li><span className="swatch level-0" /> 0</li>
        <li><span className="swatch level-1" /> 1–{Math.max(1, thresholds[0] - 1)}</li>
        <li><span className="swatch level-2" /> {thresholds[0]}–{Math.max(thresholds[0], thresholds[1] - 1)}</li>
        <li><span className="swatch level-3" /> {thresholds[1]}–{Math.max(thresholds[1], thresholds[2] - 1)}</li>
        <li><span className="swatch level-4" /> ≥ {thresholds[2]}</li>
      </ul>
    </div>
  );
}
