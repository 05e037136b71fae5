import type { Feature } from '../feature.js';
import type { Runtime } from '../runtime.js';

/**
 * Uploads devices gave up: their `.part` files would otherwise stay forever (README "Media store").
 * Swept at start and hourly; files untouched for media.part_max_age_s go (0 = never).
 */
export function mediaSweepFeature(rt: Runtime): Feature {
  const maxAgeMs = rt.config.media.part_max_age_s * 1000;
  let timer: NodeJS.Timeout | null = null;
  const sweep = () => {
    if (maxAgeMs > 0)
      void rt.media.sweepStaleParts(maxAgeMs).then((n) => {
        if (n > 0) rt.log.info({ removed: n }, `media: removed ${n} unfinished upload(s) untouched for media.part_max_age_s`);
      });
  };
  return {
    name: 'media-sweep',
    async start() {
      timer = setInterval(sweep, 3_600_000);
      timer.unref();
      sweep();
    },
    async stop() {
      if (timer) clearInterval(timer);
    },
  };
}
