import { checkValue, number } from "../options";
import { MemoryMonitorOptionsError } from "./errors";

/**
 * A two-level switch: it turns on at `enterAt` and off only below `exitAt` (< enterAt), so a value
 * hovering around one threshold does not flap between pressure and recovery on every sample.
 * under-pressure compares against one level and flips back on the next sample.
 */
export class HysteresisSwitch {
  #on = false;

  /**
   * @param enterAt value at or above which the switch turns on; 0 or less disables it (never on)
   * @param exitFraction the switch turns off below enterAt × (1 − exitFraction)
   */
  constructor(
    readonly enterAt: number,
    readonly exitFraction: number,
  ) {
    const error = (key: string, message: string) => new MemoryMonitorOptionsError(key, message);
    checkValue("HysteresisSwitch", "enterAt", enterAt, number({}), error);
    checkValue("HysteresisSwitch", "exitFraction", exitFraction, number({ min: 0, lt: 1 }), error);
  }

  get exitAt(): number {
    return this.enterAt * (1 - this.exitFraction);
  }

  get on(): boolean {
    return this.#on;
  }

  get enabled(): boolean {
    return this.enterAt > 0;
  }

  /** Feeds one sample; returns whether the switch is on afterwards. */
  update(value: number): boolean {
    if (!this.enabled) return (this.#on = false);
    if (this.#on) this.#on = !(value < this.exitAt);
    else this.#on = value >= this.enterAt;
    return this.#on;
  }
}
