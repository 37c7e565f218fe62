// Lint: typescript-eslint's type-checked rules (floating promises, misused promises, unsafe
// any) over the sources, tests and benchmarks. `npm run lint` runs it with prettier and tsc.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "tmp-build-dir/", "build-files/", "eslint.config.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { project: "./tsconfig.check.json", tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
      // Binary formats and consoles are full of control characters on purpose.
      "no-control-regex": "off",
      // An async generator or callback may have nothing to await and still be one on purpose (an interface's shape).
      "@typescript-eslint/require-await": "off",
    },
  },
  // Plain scripts npm runs before anything is built (scripts/package-json.mjs): no types to check.
  {
    files: ["scripts/**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: "readonly", console: "readonly" },
    },
  },
);
