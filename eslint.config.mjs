// Lint: eslint's and typescript-eslint's recommended rules; types are checked by `tsc --noEmit`.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      "**/*.js",
      "dashboards/**/*.json",
      "plan*.json",
      "runtime/dist/**",
      "reports/**",
      ".stryker-tmp/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Every runtime timer goes through runtime/src/timer.ts, which keeps a delay derived from an option
    // within Node's 2^31 - 1 ms (a longer one fires after 1 ms).
    files: ["runtime/src/**/*.ts"],
    ignores: ["runtime/src/timer.ts"],
    rules: {
      "no-restricted-globals": [
        "error",
        { name: "setTimeout", message: "use setTimer from runtime/src/timer.ts (it clamps the delay to 2^31 - 1 ms)" },
        { name: "setInterval", message: "use setRepeating from runtime/src/timer.ts (it clamps the period to 2^31 - 1 ms)" },
      ],
    },
  },
  {
    // Tests dig into generated manifests and recorded inputs; typing every level adds nothing.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
