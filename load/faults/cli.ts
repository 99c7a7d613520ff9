/**
 * The `--faults` hook of `npm run load`: runs the fault run (run-faults.ts) with the parsed schedule,
 * prints the report and the guarantees table, and returns the exit code (1 when a bound is exceeded).
 */
import { faultReportMarkdown, runFaults } from "./run-faults";
import { DEFAULT_FAULTS, parseFaults } from "./spec";

/** A quick fault run lasts at least this long (longer when the schedule needs it). */
const QUICK_SECONDS = 60;

export async function runFaultsCli(spec: string, options: { mode: "quick" | "full"; out?: string }): Promise<number> {
  const faults = parseFaults(spec.trim() === "" || spec === "default" ? DEFAULT_FAULTS : spec);
  const report = await runFaults({
    faults,
    durationS: options.mode === "quick" ? QUICK_SECONDS : 9 * 60,
    writers: 6,
    out: options.out,
    log: (line) => console.log(line),
  });
  console.log("");
  console.log(faultReportMarkdown(report));
  console.log(
    report.failures.length
      ? `FAIL\n${report.failures.map((f) => `  - ${f}`).join("\n")}`
      : "PASS: every guarantee within its bound",
  );
  if (options.out) console.log(`report: ${options.out}/faults.json, faults.md`);
  return report.failures.length ? 1 : 0;
}
