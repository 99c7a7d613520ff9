/**
 * The seed's load profile ("K6 Load Test Scripts"): ramp to 100 virtual users over 2 minutes,
 * hold 5 minutes, ramp down over 2 minutes. One definition, imported by the k6 scripts and by
 * the local runner (`npm run load`), so both drive the same shape.
 *
 * Plain data with no imports: k6 (goja) and Node.js both load this file.
 */
export interface LoadStage {
  /** k6 duration string: "<n>s" or "<n>m". */
  duration: string;
  /** Virtual users at the end of the stage (k6 ramps linearly towards it). */
  target: number;
}

export const SEED_STAGES: readonly LoadStage[] = [
  { duration: "2m", target: 100 }, // Ramp up
  { duration: "5m", target: 100 }, // Stay at peak
  { duration: "2m", target: 0 }, // Ramp down
];

/** The seed's think time between a virtual user's requests (`sleep(1)`), seconds. */
export const SEED_THINK_TIME_S = 1;

/** The seed's request body for `POST /operations`. */
export const SEED_OPERATION = { type: "test", payload: { data: "test" } } as const;
