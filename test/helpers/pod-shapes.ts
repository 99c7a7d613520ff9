import fc from "fast-check";

/** One service's pod requests (millicores, MiB) and its hpa.max. */
export interface PodShape {
  cpu: number;
  memory: number;
  hpaMax: number;
}

/**
 * One to three services' pod shapes for the node-fit properties: requests up to 1.5 cores and ~3 GiB, so some
 * shapes fit a t3.medium and some outgrow it, and hpa.max from 1 to `maxHpa`.
 */
export const podShapes = (maxHpa: number): fc.Arbitrary<PodShape[]> =>
  fc.array(
    fc.record({
      cpu: fc.integer({ min: 1, max: 1500 }),
      memory: fc.integer({ min: 1, max: 3000 }),
      hpaMax: fc.integer({ min: 1, max: maxHpa }),
    }),
    { minLength: 1, maxLength: 3 },
  );
