// Lint: ESLint's and typescript-eslint's recommended rules, plus two type-aware ones that catch real bugs
// (a floating promise; a value import used only as a type, which drags a module into the bundle).
// Formatting is Prettier's job, not ESLint's. `npm run lint -- --fix` fixes what can be fixed.
import js from "@eslint/js"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "bench/out/", "coverage/", "data/", "**/*.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname }
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      // `interface X extends Schema.Schema.Type<typeof X> {}` is Effect's idiom for a named schema type
      "@typescript-eslint/no-empty-object-type": ["error", { allowInterfaces: "with-single-extends" }],
      // Effect's generators use `yield*` on values the rule cannot see as iterables in every case
      "require-yield": "off"
    }
  },
  {
    files: ["**/*.mjs", "**/*.js", "**/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: {
        process: "readonly",
        console: "readonly",
        URL: "readonly",
        Buffer: "readonly",
        module: "writable",
        require: "readonly"
      }
    }
  },
  {
    // tests cast freely, match ANSI escapes, and quote reference values with all of SciPy's digits
    files: ["tests/**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "no-control-regex": "off",
      "no-loss-of-precision": "off"
    }
  },
  {
    // Constants copied digit for digit from SciPy/Cephes: the extra digits document the source.
    files: ["src/stats/**/*.ts"],
    rules: { "no-loss-of-precision": "off" }
  }
)
