/**
 * The UAIP platform program: load the stack's performance profile, check that the layers
 * agree, build the components, export the outputs. The same file runs under `pulumi up`,
 * `pulumi preview` and the offline plan (`npm run plan`).
 */
import { loadConfig } from "./config";
import { assertChecks, crossLayerChecks } from "./components/checks";

const { profile } = loadConfig();

const checkResults = crossLayerChecks(profile);
assertChecks(checkResults);

export const environment = profile.environment;
export const checks = checkResults;
