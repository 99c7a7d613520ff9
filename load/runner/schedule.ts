/**
 * Turns the seed's k6 stages into the steps the local runner drives: each stage is cut into
 * fixed-length steps, and a ramping stage's virtual users are interpolated linearly per step
 * (k6 ramps continuously; a step holds the mean of its span). `timeScale` compresses the
 * 9-minute seed profile (`--quick` runs it in about a minute) without changing its shape.
 */
import type { LoadStage } from "../k6/stages";

export interface LoadStep {
  /** Index into the stages. */
  stage: number;
  /** Seconds from the start of the run. */
  startS: number;
  durationS: number;
  /** Virtual users held during the step (at least 1, so a ramp-down still measures). */
  vus: number;
}

export class LoadScheduleError extends Error {
  readonly code = "UAIP_LOAD_SCHEDULE_INVALID";
}

/** "90s" → 90, "2m" → 120, "1h" → 3600. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)$/.exec(text);
  if (!match) throw new LoadScheduleError(`duration "${text}" is not like "30s", "2m" or "1h"`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] as "s" | "m" | "h"];
}

export function planSteps(stages: readonly LoadStage[], options: { timeScale: number; stepSeconds: number }): LoadStep[] {
  const { timeScale, stepSeconds } = options;
  if (!(timeScale > 0 && timeScale <= 1)) throw new LoadScheduleError(`timeScale ${timeScale} must be in (0, 1]`);
  if (!(stepSeconds > 0)) throw new LoadScheduleError(`stepSeconds ${stepSeconds} must be > 0`);
  const steps: LoadStep[] = [];
  let startS = 0;
  let fromVus = 0;
  stages.forEach((stage, index) => {
    const total = parseDuration(stage.duration) * timeScale;
    const count = Math.max(1, Math.round(total / stepSeconds));
    const durationS = total / count;
    for (let i = 0; i < count; i++) {
      // The mean VUs over [i, i+1] of a linear ramp is its value at the midpoint.
      const midpoint = (i + 0.5) / count;
      const vus = Math.max(1, Math.round(fromVus + (stage.target - fromVus) * midpoint));
      steps.push({ stage: index, startS, durationS, vus });
      startS += durationS;
    }
    fromVus = stage.target;
  });
  return steps;
}
