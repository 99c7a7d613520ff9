/**
 * Imported first by tools/plan.ts: the plan runs without source maps.
 *
 * @pulumi/pulumi records a stack trace on every promise it makes (runtime/debuggable.ts), and tsx's source maps make
 * each one costly: 12-20 % of a plan's CPU (5.4 s -> 4.9 s user for prod, median of 3 interleaved runs). Turned off
 * before the plan's other imports load, the modules' own source maps are not parsed either (about 5 % more). The plan
 * never prints a stack (a failure prints its message), and its JSON is byte-identical without them.
 */
process.setSourceMapsEnabled(false);
