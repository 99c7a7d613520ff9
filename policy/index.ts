/**
 * The UAIP policy pack: `pulumi preview --policy-pack policy` (real CLI). The same rules run
 * offline in `npm run plan` and `npm run policy -- plan.json`.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("uaip-platform", { policies });
